// The inbox pruned against the real broker: a consumer forgets the events whose messages Kafka
// no longer holds, and only those, so a replay from the log start applies nothing twice and an
// event produced afterwards is still applied once.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/events/consumer.hpp"
#include "common/events/kafka_config.hpp"
#include "common/metrics/metrics.hpp"
#include "common/util/ids.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using namespace std::chrono_literals;

// Runs one admin request on a fresh client and waits for its result event (or fails the test).
template <typename Request>
void Admin(const std::string& bootstrap, rd_kafka_event_type_t expected, Request request) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  ASSERT_NE(client, nullptr) << error;
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
  request(client, queue);
  rd_kafka_event_t* result = rd_kafka_queue_poll(queue, 60000);
  ASSERT_NE(result, nullptr) << "no admin result within 60 s";
  EXPECT_EQ(rd_kafka_event_type(result), expected);
  EXPECT_EQ(rd_kafka_event_error(result), RD_KAFKA_RESP_ERR_NO_ERROR)
      << rd_kafka_event_error_string(result);
  rd_kafka_event_destroy(result);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(client);
}

void CreateTopic(const std::string& bootstrap, const std::string& topic) {
  Admin(bootstrap, RD_KAFKA_EVENT_CREATETOPICS_RESULT, [&](rd_kafka_t* client, auto* queue) {
    char error[512];
    rd_kafka_NewTopic_t* spec = rd_kafka_NewTopic_new(topic.c_str(), 1, 1, error, sizeof error);
    rd_kafka_CreateTopics(client, &spec, 1, nullptr, queue);
    rd_kafka_NewTopic_destroy(spec);
  });
}

// Moves the partition's log start to `offset`, as retention would by deleting old segments.
void DeleteRecordsBefore(const std::string& bootstrap, const std::string& topic,
                         std::int64_t offset) {
  Admin(bootstrap, RD_KAFKA_EVENT_DELETERECORDS_RESULT, [&](rd_kafka_t* client, auto* queue) {
    rd_kafka_topic_partition_list_t* before = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(before, topic.c_str(), 0)->offset = offset;
    rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before);
    rd_kafka_DeleteRecords(client, &request, 1, nullptr, queue);
    rd_kafka_DeleteRecords_destroy(request);
    rd_kafka_topic_partition_list_destroy(before);
  });
}

void Produce(const std::string& bootstrap, const std::string& topic, int count) {
  auto conf = events::MakeConf(events::ProducerProperties(bootstrap, "retention-test", 30000));
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  for (int i = 0; i < count; ++i) {
    const std::string id = util::NewTimeOrderedUuid();
    auto event = events::MakeEvent("/jilaf/test", "jilaf.test.thing.created", id, "things/" + id,
                                   "/schemas/test.json", {{"n", i}});
    events::Headers headers;
    std::string value;
    events::ToKafka(event, headers, value);
    RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
    for (const auto& [name, header] : headers) kafka_headers->add(name, header);
    ASSERT_EQ(producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(),
                                value.size(), id.data(), id.size(), 0, kafka_headers, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
}

class InboxRetentionE2e : public E2eTest {
 protected:
  // Polls `done` for up to `timeout` (the broker and the consumer's prune timer set the pace).
  template <typename Predicate>
  static bool Eventually(Predicate done, std::chrono::seconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }
};

TEST_F(InboxRetentionE2e, RowsOfMessagesGoneFromThePartitionArePrunedAndNothingAppliesTwice) {
  const std::string topic = "test.inbox-retention." + util::RandomHex(6);
  CreateTopic(bootstrap_, topic);
  Produce(bootstrap_, topic, 20);

  store::Store store({dir_ + "/consumer.db"}, {events::InboxMigrations()});
  metrics::Metrics metrics;
  std::atomic<int> applied{0};
  events::ConsumerOptions options;
  options.name = group_ + "-retention";
  options.topics = {topic};
  options.brokers = bootstrap_;
  options.dead_letter_topic = "jilaf.analytics.dlq";
  options.inbox_prune_interval = 200ms;
  auto inbox_rows = [&] {
    return store.Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT count(*), coalesce(min(offset), -1) FROM inbox");
      return stmt.Step() ? std::make_pair(stmt.Int(0), stmt.Int(1))
                         : std::make_pair(std::int64_t{-1}, std::int64_t{-1});
    });
  };
  auto run = [&] {
    return std::make_unique<events::Consumer>(
        store, options,
        [&](store::Db&, const events::CloudEvent&, const events::MessageOrigin&) { ++applied; },
        metrics);
  };

  auto consumer = run();
  consumer->Start();
  ASSERT_TRUE(Eventually([&] { return applied == 20; })) << applied;
  EXPECT_EQ(inbox_rows().first, 20);

  DeleteRecordsBefore(bootstrap_, topic, 12);
  ASSERT_TRUE(Eventually([&] { return inbox_rows().first == 8; })) << inbox_rows().first;
  EXPECT_EQ(inbox_rows().second, 12);
  consumer->Stop();
  consumer.reset();

  // A replay from the log start (offsets 12..19) finds every event in the inbox.
  KafkaCtl("reset-offsets " + options.name + " " + topic);
  Produce(bootstrap_, topic, 1);
  consumer = run();
  consumer->Start();
  auto& duplicates = metrics.events_duplicates.Add({{"consumer", options.name}, {"topic", topic}});
  ASSERT_TRUE(Eventually([&] { return applied == 21 && duplicates.Value() >= 8; }))
      << applied << " applied, " << duplicates.Value() << " duplicates";
  EXPECT_EQ(applied, 21);
  EXPECT_EQ(duplicates.Value(), 8);
  EXPECT_EQ(inbox_rows().first, 9);
  consumer->Stop();
}

}  // namespace
}  // namespace jilaf::e2e
