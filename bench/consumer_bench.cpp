// jilaf-bench-consumer: consumer throughput from a pre-filled topic, through common/events'
// Consumer (inbox dedup, offsets stored after commit) with a real Store. The effect is either a
// projection (--handler projection, the default: one upserted row per aggregate, what an
// analytics or read-model consumer does) or the notifications service's real handler
// (--handler notifications: feed item, rule matching, templates rendered, deliveries planned).
// Prints one JSON line: {"events":N,"seconds":S,"events_per_s":R,"handler":H,
// "writer_us_per_event":W}, W being the store's writer thread's CPU time per measured event
// (from /proc/self/task/*/schedstat, nanoseconds): a figure a busy machine disturbs less than R.
// With --database-url (and --database-password-file) the same events are then consumed again
// into a PostgreSQL database of the run's own, and a second line says "engine":"postgres".
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/events/cloud_event.hpp"
#include "common/events/consumer.hpp"
#include "common/events/kafka_config.hpp"
#include "common/events/outbox.hpp"
#include "common/log/log.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/postgres.hpp"
#include "common/store/store.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/event_handler.hpp"
#include "services/notifications/schema.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace jilaf;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "jilaf-bench-consumer: " << message << "\n";
  std::exit(1);
}

// Creates (or deletes, with `create` false) a topic through the C admin API.
void AdminTopic(const std::string& brokers, const std::string& topic, int partitions, bool create) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof error);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) Fail(std::string("admin client: ") + error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_event_t* event = nullptr;
  if (create) {
    rd_kafka_NewTopic_t* new_topic =
        rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
    rd_kafka_CreateTopics(rk, &new_topic, 1, nullptr, queue);
    event = rd_kafka_queue_poll(queue, 30000);
    rd_kafka_NewTopic_destroy(new_topic);
  } else {
    rd_kafka_DeleteTopic_t* del = rd_kafka_DeleteTopic_new(topic.c_str());
    rd_kafka_DeleteTopics(rk, &del, 1, nullptr, queue);
    event = rd_kafka_queue_poll(queue, 30000);
    rd_kafka_DeleteTopic_destroy(del);
  }
  if (event == nullptr || rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (create) Fail("cannot create topic " + topic);
  } else if (create) {
    const auto* result = rd_kafka_event_CreateTopics_result(event);
    std::size_t count = 0;
    const auto** topics = rd_kafka_CreateTopics_result_topics(result, &count);
    if (count != 1 || rd_kafka_topic_result_error(topics[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail("cannot create topic " + topic + ": " +
           (count == 1 ? rd_kafka_topic_result_error_string(topics[0]) : "no result"));
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
}

// Fills the topic with `count` nomination.submitted events, as the invitations relay would.
void Fill(const std::string& brokers, const std::string& topic, int count) {
  auto conf = events::MakeConf(events::ProducerProperties(brokers, "bench-filler", 60000));
  std::string error;
  conf->set("linger.ms", "20", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) Fail("producer: " + error);
  for (int i = 0; i < count; ++i) {
    // Entity ids are version-7 UUIDs, as the services mint them (docs/architecture.md).
    const std::string id = events::NewTimeOrderedUuid();
    auto event = events::MakeEvent(
        "/jilaf/invitations", "jilaf.invitations.nomination.submitted", id, "nominations/" + id,
        "/schemas/invitations/nomination.submitted/v1.json",
        {{"nomination_id", id},
         {"programme_id", "bench"},
         {"programme_title", {{"en", "Bench programme"}, {"ja", "ベンチ"}}},
         {"fiscal_year", 2026},
         {"track", "developing"},
         {"status", "submitted"},
         {"candidate", {{"family_name", "Nguyen"}, {"given_name", "Lan"}, {"nationality", "VN"}}},
         {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}});
    events::Headers headers;
    std::string value;
    events::ToKafka(event, headers, value);
    RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
    for (const auto& [name, header] : headers) kafka_headers->add(name, header);
    for (;;) {
      const auto err = producer->produce(topic, RdKafka::Topic::PARTITION_UA,
                                         RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                                         id.data(), id.size(), 0, kafka_headers, nullptr);
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err != RdKafka::ERR__QUEUE_FULL) Fail("produce: " + RdKafka::err2str(err));
      producer->poll(10);
    }
    producer->poll(0);
  }
  if (producer->flush(60000) != RdKafka::ERR_NO_ERROR) Fail("flush timed out");
}

// CPU nanoseconds the threads named `name` have run so far (the kernel's schedstat).
std::int64_t ThreadCpuNs(const std::string& name) {
  std::int64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string thread;
    std::getline(comm, thread);
    if (thread != name) continue;
    std::ifstream schedstat(task.path() / "schedstat");
    std::int64_t ns = 0;
    schedstat >> ns;
    total += ns;
  }
  return total;
}

struct Run {
  std::string brokers;
  std::string topic;
  int count = 0;
  std::string handler_name;
  store::StoreOptions store;
};

// Consumes the pre-filled topic once, in a consumer group of its own, into a fresh store;
// returns the JSON report.
nlohmann::json Measure(const Run& run) {
  metrics::Metrics metrics;
  const bool postgres = run.store.engine == store::Engine::kPostgres;
  store::Store store(run.store, {events::OutboxMigrations(), events::InboxMigrations(),
                                 notifications::Migrations()});
  events::ConsumerOptions options;
  options.name = "bench-" + run.topic + (postgres ? "-pg" : "");
  options.topics = {run.topic};
  options.brokers = run.brokers;
  options.dead_letter_topic = "jilaf.notifications.dlq";
  notifications::DeliveryMetrics delivery_metrics(metrics);
  events::EventHandler handler;
  if (run.handler_name == "notifications") {
    // The notifications service's own handler, with its default rules and templates.
    notifications::SeedDefaults(store);
    handler = notifications::EventHandler(delivery_metrics);
    options.handler_reruns_safely = true;  // as the service sets it (services/notifications)
  } else if (run.handler_name == "projection") {
    store.Write([postgres](store::Db& db) {
      db.Exec(std::string("CREATE TABLE projection (key TEXT PRIMARY KEY, type TEXT NOT NULL, data "
                          "TEXT NOT NULL, events INTEGER NOT NULL)") +
              (postgres ? "" : " WITHOUT ROWID"));
    });
    handler = [](store::Db& tx, const events::CloudEvent& event, const events::MessageOrigin&) {
      auto upsert = tx.Prepare(
          "INSERT INTO projection(key, type, data, events) VALUES (?, ?, ?, 1)"
          " ON CONFLICT(key) DO UPDATE SET type = excluded.type, data = excluded.data,"
          " events = projection.events + 1");
      upsert.Bind(1, event.key).Bind(2, event.type).Bind(3, event.data_text);
      upsert.Run();
    };
  } else {
    Fail("--handler must be projection or notifications");
  }
  events::Consumer consumer(store, options, handler, metrics);
  auto& consumed = metrics.events_consumed.Add({{"consumer", options.name}, {"topic", run.topic}});
  consumer.Start();
  // From the first committed event to the last: the group join is not the consumer's speed.
  const auto deadline = Clock::now() + std::chrono::seconds(postgres ? 300 : 120);
  while (consumed.Value() < 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto first = Clock::now();
  const double start_count = consumed.Value();
  const std::int64_t writer_start = ThreadCpuNs("store-writer");
  while (consumed.Value() < run.count && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto last = Clock::now();
  const std::int64_t writer_ns = ThreadCpuNs("store-writer") - writer_start;
  if (consumed.Value() < run.count) {
    Fail("timed out: consumed " + std::to_string(consumed.Value()));
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  consumer.Stop();
  const double measured = run.count - start_count;
  return {{"events", run.count},
          {"measured_events", measured},
          {"seconds", seconds},
          {"events_per_s", measured / seconds},
          {"writer_us_per_event", writer_ns / 1000.0 / measured},
          {"handler", run.handler_name},
          {"engine", postgres ? "postgres" : "sqlite"}};
}

// A database of its own on the server of `options` (dropped by DropDatabase).
std::string CreateDatabase(const store::StoreOptions& options, const std::string& topic) {
  std::string name = "bench_" + topic.substr(topic.rfind('.') + 1);
  store::pg::Db admin({options.database_url, options.database_password_file, {}, 10});
  admin.Exec("CREATE DATABASE " + name);
  return name;
}

void DropDatabase(const store::StoreOptions& options, const std::string& name) {
  store::pg::Db admin({options.database_url, options.database_password_file, {}, 10});
  admin.Exec("DROP DATABASE IF EXISTS " + name);
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers = "127.0.0.1:9092";
  int count = 20000;
  std::string handler_name = "projection";
  std::string database_url;
  std::string password_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--brokers") {
      brokers = argv[i + 1];
    } else if (flag == "--events") {
      count = std::atoi(argv[i + 1]);
    } else if (flag == "--handler") {
      handler_name = argv[i + 1];
    } else if (flag == "--database-url") {
      database_url = argv[i + 1];
    } else if (flag == "--database-password-file") {
      password_file = argv[i + 1];
    } else {
      Fail(
          "usage: jilaf-bench-consumer [--brokers HOST:PORT] [--events N] "
          "[--handler projection|notifications] [--database-url URL "
          "[--database-password-file FILE]]");
    }
  }
  log::SetLevel(log::Level::kWarn);
  const std::string topic = "jilaf.bench." + events::NewUuid().substr(0, 8);
  AdminTopic(brokers, topic, 3, true);
  Fill(brokers, topic, count);

  // SQLite first, then (with --database-url) PostgreSQL over the same events: one JSON line each.
  const auto dir = std::filesystem::temp_directory_path() / ("jilaf-bench-" + topic);
  std::filesystem::create_directories(dir);
  store::StoreOptions sqlite;
  sqlite.path = (dir / "notifications.db").string();
  std::cout << Measure({brokers, topic, count, handler_name, sqlite}).dump() << std::endl;
  if (!database_url.empty()) {
    store::StoreOptions postgres;
    postgres.engine = store::Engine::kPostgres;
    postgres.database_url = database_url;
    postgres.database_password_file = password_file;
    postgres.database_name = CreateDatabase(postgres, topic);
    std::cout << Measure({brokers, topic, count, handler_name, postgres}).dump() << std::endl;
    DropDatabase(postgres, postgres.database_name);
  }
  AdminTopic(brokers, topic, 3, false);
  std::filesystem::remove_all(dir);
  return 0;
}
