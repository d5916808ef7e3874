#include "common/events/outbox.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cstdint>

#include "common/events/kafka_config.hpp"
#include "common/log/log.hpp"
#include "common/store/dialect.hpp"
#include "common/util/clock.hpp"
#include "common/util/failpoint.hpp"
#include "common/util/text.hpp"

namespace jilaf::events {
namespace {

constexpr std::string_view kOutboxChannel = "jilaf_outbox";

std::int64_t NowMs() { return util::NowUnixMs(); }

}  // namespace

store::MigrationSet OutboxMigrations() {
  const std::string sql =
      "CREATE TABLE outbox ("
      " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " event_id TEXT NOT NULL,"
      " topic TEXT NOT NULL,"
      " msg_key TEXT NOT NULL,"
      " headers TEXT NOT NULL,"
      " payload TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL,"
      " sent_ms INTEGER);"
      "CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_ms IS NULL;"
      "CREATE INDEX outbox_sent ON outbox(sent_ms) WHERE sent_ms IS NOT NULL;";
  // PostgreSQL: a transaction that adds outbox rows announces them at its commit, so that the
  // relay of whichever replica leads wakes at once (store::ChangeSignal) instead of polling.
  // The server folds a transaction's identical notifications into one.
  const std::string notify =
      "CREATE OR REPLACE FUNCTION jilaf_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS"
      " $$ BEGIN PERFORM pg_notify('" +
      std::string(kOutboxChannel) +
      "', ''); RETURN NULL; END $$;"
      "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox"
      " FOR EACH STATEMENT EXECUTE FUNCTION jilaf_outbox_notify();";
  return {"common.outbox",
          {{1, "create outbox", sql, store::PostgresTypes(sql)},
           {2, "notify the relay on insert", "SELECT 1", notify}}};
}

namespace {

void InsertOutboxRow(store::Db& tx, const std::string& topic, const CloudEvent& event,
                     const Headers& headers, std::string_view value) {
  // [["ce_id","..."],...] as nlohmann would write it, without building the array first.
  std::string header_list = "[";
  for (const auto& [name, header_value] : headers) {
    header_list += header_list.size() == 1 ? "[" : ",[";
    util::AppendJsonString(header_list, name);
    header_list += ',';
    util::AppendJsonString(header_list, header_value);
    header_list += ']';
  }
  header_list += ']';
  auto stmt = tx.Prepare(
      "INSERT INTO outbox(event_id, topic, msg_key, headers, payload, created_ms)"
      " VALUES (?, ?, ?, ?, ?, ?)");
  stmt.Bind(1, event.id)
      .Bind(2, topic)
      .Bind(3, event.key)
      .Bind(4, header_list)
      .Bind(5, value)
      .Bind(6, NowMs());
  stmt.Run();
}

}  // namespace

void AppendToOutbox(store::Db& tx, const std::string& topic, const CloudEvent& event) {
  Headers headers;
  std::string value;
  ToKafka(event, headers, value);
  InsertOutboxRow(tx, topic, event, headers, value);
}

void AppendToOutbox(store::Db& tx, const std::string& topic, const CloudEvent& event,
                    std::string_view data_text) {
  Headers headers;
  std::string unused;  // empty: the caller's event carries no data tree
  ToKafka(event, headers, unused);
  InsertOutboxRow(tx, topic, event, headers, data_text);
}

std::int64_t PruneSentOutbox(store::Db& tx, std::int64_t sent_before_ms, std::int64_t limit) {
  auto stmt = tx.Prepare(
      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_ms IS NOT NULL"
      " AND sent_ms < ? ORDER BY sent_ms LIMIT ?)");
  stmt.Bind(1, sent_before_ms).Bind(2, limit);
  stmt.Run();
  return tx.Changes();
}

class OutboxRelay::DeliveryHandler : public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  explicit DeliveryHandler(OutboxRelay& relay, const std::string& client)
      : relay_(relay), logger_(client + "-producer") {}

  void dr_cb(RdKafka::Message& message) override {
    const auto seq =
        static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(message.msg_opaque()));
    relay_.OnDelivery(seq, message.err() == RdKafka::ERR_NO_ERROR, message.topic_name(),
                      message.errstr());
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR) {
      relay_.OnError(event.fatal(), event.err() == RdKafka::ERR__ALL_BROKERS_DOWN, event.str());
    }
    logger_.event_cb(event);
  }

 private:
  OutboxRelay& relay_;
  KafkaLogger logger_;
};

OutboxRelay::OutboxRelay(store::Store& store, RelayOptions options, metrics::Metrics& metrics)
    : store_(store),
      options_(std::move(options)),
      metrics_(metrics),
      handler_(std::make_unique<DeliveryHandler>(*this, options_.client_id)) {
  if (store_.options().engine == store::Engine::kPostgres) {
    leader_ = std::make_unique<store::ClusterLock>(
        store_.options(), "jilaf.outbox." + options_.client_id, options_.leader_check_interval);
  } else {
    leading_ = true;  // one process owns a SQLite file
  }
  store_.AddCommitListener([this] { Notify(); });
  if (leader_) {
    signal_ = std::make_unique<store::ChangeSignal>(store_.options(), std::string(kOutboxChannel),
                                                    [this] { Notify(); });
  }
}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  if (running_.exchange(true)) return;
  if (signal_) signal_->Start();
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  if (!running_.exchange(false)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  Notify();
  if (thread_.joinable()) thread_.join();
  if (signal_) signal_->Stop();
}

void OutboxRelay::Notify() {
  std::int64_t none = 0;
  woken_ns_.compare_exchange_strong(
      none, std::chrono::steady_clock::now().time_since_epoch().count() | 1);
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  cv_.notify_one();
  std::lock_guard lock(producer_mutex_);
  if (producer_) producer_->yield();  // cut short a poll() waiting for delivery reports
}

std::unique_ptr<RdKafka::Producer> OutboxRelay::MakeProducer() {
  auto conf = MakeConf(
      ProducerProperties(options_.brokers, options_.client_id, options_.message_timeout_ms));
  std::string error;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(handler_.get()), error) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(handler_.get()), error) !=
          RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka producer callbacks: " + error);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) throw std::runtime_error("cannot create kafka producer: " + error);
  return producer;
}

void OutboxRelay::SetKafkaUp(bool up, const std::string& why) {
  if (kafka_up_.exchange(up) != up) {
    if (up) {
      log::Info("kafka broker reachable", {{"brokers", options_.brokers}});
    } else {
      log::Warn("kafka broker unreachable", {{"brokers", options_.brokers}, {"error", why}});
    }
  }
  metrics_.kafka_producer_up.Set(up ? 1 : 0);
}

void OutboxRelay::ProbeBroker() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_probe_) return;
  // A metadata request answers whether a broker serves us, whether or not anything was
  // produced yet: readiness must not read "down" on a quiet service with a healthy broker.
  RdKafka::Metadata* metadata = nullptr;
  const auto err = producer_->metadata(false, nullptr, &metadata,
                                       static_cast<int>(options_.probe_timeout.count()));
  delete metadata;
  const bool up = err == RdKafka::ERR_NO_ERROR;
  SetKafkaUp(up, up ? std::string() : RdKafka::err2str(err));
  next_probe_ = std::chrono::steady_clock::now() +
                (up ? options_.probe_interval : options_.probe_interval_down);
}

void OutboxRelay::OnDelivery(std::int64_t seq, bool ok, const std::string& topic,
                             const std::string& error) {
  --in_flight_;
  if (const auto it = produced_at_.find(seq); it != produced_at_.end()) {
    if (ok) {
      metrics_.outbox_ack_delay.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
    }
    produced_at_.erase(it);
  }
  if (ok) {
    if (!kafka_up_.load()) SetKafkaUp(true, {});
    metrics_.events_published.Add({{"topic", topic}}).Increment();
    acked_.push_back(seq);
    backoff_ = std::chrono::milliseconds(0);
  } else {
    metrics_.events_failed.Add({{"topic", topic}}).Increment();
    if (!rewind_) {
      log::Warn("event delivery failed; it stays in the outbox and will be resent",
                {{"seq", seq}, {"topic", topic}, {"error", error}});
    }
    rewind_ = true;
  }
}

void OutboxRelay::OnError(bool fatal, bool all_brokers_down, const std::string& reason) {
  if (all_brokers_down) {
    SetKafkaUp(false, reason);
    next_probe_ = std::chrono::steady_clock::now();  // learn soon when it is back
  }
  if (fatal) {
    log::Error("fatal kafka producer error; replacing the producer", {{"error", reason}});
    fatal_ = true;
  }
}

void OutboxRelay::CheckMarks() {
  // A mark whose commit failed (disk full) leaves acknowledged rows pending behind the cursor,
  // where only a rewind finds them: resend them, and the consumers' inboxes drop the copies.
  std::erase_if(marks_, [this](Mark& mark) {
    if (mark.done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    try {
      mark.done.get();
      for (const auto seq : mark.seqs) handed_.erase(seq);
    } catch (const std::exception& error) {
      log::Warn("outbox marks not committed; resending pending rows", {{"error", error.what()}});
      rewind_ = true;
    }
    return true;
  });
}

void OutboxRelay::MarkAcknowledged() {
  CheckMarks();
  if (acked_.empty()) return;
  util::FailPoint("outbox.after_publish_before_mark");  // test-only crash point
  std::vector<std::int64_t> seqs;
  seqs.swap(acked_);
  const auto now = NowMs();
  // Queued, not awaited: the mark rides the next group commit while the relay goes on
  // producing, instead of stalling every event behind an fsync. If the process dies before
  // that commit, the rows are sent again and the consumers' inboxes drop the copies.
  auto done = store_.WriteAsync([seqs, now](store::Db& db) {
    auto stmt = db.Prepare("UPDATE outbox SET sent_ms = ? WHERE seq = ?");
    for (auto seq : seqs) {
      stmt.Bind(1, now).Bind(2, seq);
      stmt.Run();
    }
  });
  marks_.push_back({std::move(done), std::move(seqs)});
}

void OutboxRelay::ResetCursor() {
  in_flight_ = 0;
  produced_at_.clear();
  cursor_ = 0;
  handed_.clear();
}

bool OutboxRelay::Lead() {
  if (!leader_) return true;
  const bool leading = leader_->Hold();
  if (leading_.exchange(leading) && !leading) {
    // Another replica may relay from now on: nothing still queued here may reach the broker
    // after its copies. Once what is in flight has settled, the cursor starts over.
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_NON_BLOCKING);
    rewind_ = true;
  }
  return leading;
}

bool OutboxRelay::ReadLateRows(store::Db& db, std::vector<Row>& out) {
  // On PostgreSQL a row's seq is drawn when it is inserted, not when it commits: a transaction
  // of another replica may commit a row below the cursor after rows above it were read. Every
  // pending row at or below the cursor that this relay has not handed to the producer is one.
  if (!leader_ || cursor_ == 0) return true;
  const auto limit = static_cast<std::int64_t>(handed_.size() + options_.batch);
  std::string late;
  std::int64_t seen = 0;
  auto pending =
      db.Prepare("SELECT seq FROM outbox WHERE sent_ms IS NULL AND seq <= ? ORDER BY seq LIMIT ?");
  pending.Bind(1, cursor_).Bind(2, limit);
  while (pending.Step()) {
    ++seen;
    if (handed_.contains(pending.Int(0))) continue;
    late += (late.empty() ? "{" : ",") + std::to_string(pending.Int(0));
  }
  if (!late.empty()) {
    auto stmt = db.Prepare(
        "SELECT seq, topic, msg_key, headers, payload FROM outbox"
        " WHERE seq = ANY(?::bigint[]) AND sent_ms IS NULL ORDER BY seq");
    stmt.Bind(1, late + "}");
    while (stmt.Step()) {
      out.push_back({stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
    }
  }
  return seen < limit;
}

void OutboxRelay::AwaitMarks() {
  // The writer runs jobs in order: once an empty job has committed, every mark queued before
  // it has too, so a rewind does not resend rows that were acknowledged.
  store_.Write([](store::Db&) {});
}

bool OutboxRelay::ProduceRow(Row& row) {
  util::FailPoint("outbox.after_commit_before_publish");  // test-only crash point
  for (;;) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    const auto list = nlohmann::json::parse(row.headers, nullptr, false);
    if (list.is_array()) {
      for (const auto& pair : list) {
        headers->add(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
      }
    }
    const auto err = producer_->produce(
        row.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        // An empty payload is a tombstone: a null value, not an empty one.
        row.payload.empty() ? nullptr : row.payload.data(), row.payload.size(), row.key.data(),
        row.key.size(), 0, headers, reinterpret_cast<void*>(static_cast<std::intptr_t>(row.seq)));
    if (err == RdKafka::ERR_NO_ERROR) break;  // the producer owns the headers now
    delete headers;
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(50);
      MarkAcknowledged();
      continue;
    }
    log::Error("cannot enqueue event for kafka",
               {{"seq", row.seq}, {"topic", row.topic}, {"error", RdKafka::err2str(err)}});
    metrics_.events_failed.Add({{"topic", row.topic}}).Increment();
    rewind_ = true;
    return false;
  }
  handed_.insert(row.seq);
  produced_at_[row.seq] = std::chrono::steady_clock::now();
  ++in_flight_;
  return true;
}

void OutboxRelay::ProduceNew() {
  struct Pass {
    std::vector<Row> late;
    std::vector<Row> rows;
    bool all_late = true;
  };
  const std::int64_t woken_ns = woken_ns_.exchange(0);
  auto pass = store_.Read([this](store::Db& db) {
    Pass out;
    auto stmt = db.Prepare(
        "SELECT seq, topic, msg_key, headers, payload FROM outbox"
        " WHERE sent_ms IS NULL AND seq > ? ORDER BY seq LIMIT ?");
    stmt.Bind(1, cursor_).Bind(2, static_cast<std::int64_t>(options_.batch));
    while (stmt.Step()) {
      out.rows.push_back({stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
    }
    // After the rows above the cursor, in a later snapshot: a late row that an aggregate's
    // next row (read above) followed had committed before it, so it is found here.
    out.all_late = ReadLateRows(db, out.late);
    return out;
  });
  if (woken_ns != 0 && !(pass.rows.empty() && pass.late.empty())) {
    const auto woken =
        std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(woken_ns));
    metrics_.outbox_wake_delay.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - woken).count());
  }
  // Late rows sit below the cursor: published before the rows above it.
  for (auto& row : pass.late) {
    if (!ProduceRow(row)) return;
  }
  if (pass.all_late) {
    for (auto& row : pass.rows) {
      if (!ProduceRow(row)) return;
      cursor_ = row.seq;
    }
  }
  if (!pass.all_late || pass.rows.size() == options_.batch) {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
}

void OutboxRelay::UpdateGauges() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_gauges_ < std::chrono::seconds(1)) return;
  last_gauges_ = now;
  try {
    auto [count, oldest] = store_.Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT count(*), min(created_ms) FROM outbox WHERE sent_ms IS NULL");
      if (!stmt.Step()) return std::pair<std::int64_t, std::int64_t>(0, 0);
      return std::pair<std::int64_t, std::int64_t>(stmt.Int(0), stmt.OptInt(1).value_or(0));
    });
    pending_ = count;
    metrics_.outbox_pending.Set(static_cast<double>(count));
    metrics_.outbox_oldest_pending_age.Set(
        count == 0 ? 0.0 : static_cast<double>(NowMs() - oldest) / 1e3);
  } catch (const std::exception& error) {
    log::Warn("outbox gauges not updated", {{"error", error.what()}});
  }
}

void OutboxRelay::Run() {
  log::Info("outbox relay started", {{"brokers", options_.brokers}});
  while (running_) {
    try {
      if (!producer_) {
        auto producer = MakeProducer();
        std::lock_guard lock(producer_mutex_);
        producer_ = std::move(producer);
      }
      if (fatal_) {
        producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
        producer_->poll(0);
        MarkAcknowledged();
        {
          std::lock_guard lock(producer_mutex_);
          producer_.reset();
        }
        AwaitMarks();
        ResetCursor();
        fatal_ = false;
        rewind_ = false;
        continue;
      }
      producer_->poll(0);
      MarkAcknowledged();
      const bool leading = Lead();
      // After a failed delivery, nothing still queued may reach the broker before the failed
      // event is resent: a later event of the same key would overtake it (docs/reliability.md).
      if (rewind_) {
        producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_NON_BLOCKING);
      }
      if (rewind_ && in_flight_ <= 0) {
        AwaitMarks();
        ResetCursor();
        rewind_ = false;
        backoff_ = std::clamp(backoff_ * 2, options_.backoff_min, options_.backoff_max);
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, backoff_, [this] { return !running_; });
        continue;
      }
      // Nothing new is queued while no broker answers: rows queued over an outage would time
      // out one by one, and a broker back between two timeouts would take the later rows of an
      // aggregate before the relay resent the earlier ones. Kept in the outbox instead, they are
      // produced in commit order once the probe finds the broker again.
      if (!rewind_ && kafka_up_.load() && leading) ProduceNew();
      ProbeBroker();
      UpdateGauges();
      store_backoff_ = std::chrono::milliseconds(0);
      if (in_flight_ > 0) {
        producer_->poll(100);  // returns early on a delivery report or Notify()'s yield()
        std::lock_guard lock(mutex_);
        wake_ = false;
      } else {
        std::unique_lock lock(mutex_);
        // On PostgreSQL the other replicas' commits wake the leading relay through the change
        // signal; while it does not listen (the server unreachable), or while this replica
        // stands by for the cluster lock, it looks sooner.
        const auto idle = !leader_ ? std::chrono::milliseconds(std::chrono::seconds(1))
                          : leading && signal_->Listening() ? options_.listen_poll_interval
                                                            : options_.shared_poll_interval;
        cv_.wait_for(lock, idle, [this] { return wake_ || !running_; });
        wake_ = false;
      }
    } catch (const std::exception& error) {
      // A store failure (disk full, I/O error, the server unreachable): nothing is lost, the
      // rows stay pending. The store is tried again soon (store_backoff_max): a server back
      // from a restart answers the next attempt, and the change signal, listening again,
      // cuts the wait short. The cluster lock is checked at the next step, not a check
      // interval later: its session may have ended with the server's.
      if (store_backoff_.count() == 0) {
        log::Error("outbox relay step failed; retrying", {{"error", error.what()}});
      }
      store_backoff_ = std::clamp(store_backoff_ * 2, options_.backoff_min,
                                  std::max(options_.backoff_min, options_.store_backoff_max));
      if (leader_) leader_->CheckSoon();
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, store_backoff_, [this] { return wake_ || !running_; });
      wake_ = false;
    }
  }
  if (producer_) {
    try {
      if (leading_.load()) ProduceNew();
      producer_->flush(static_cast<int>(options_.flush_timeout.count()));
      producer_->poll(0);
      MarkAcknowledged();
      UpdateGauges();
    } catch (const std::exception& error) {
      log::Warn("outbox flush on shutdown incomplete", {{"error", error.what()}});
    }
    std::lock_guard lock(producer_mutex_);
    producer_.reset();
  }
  if (leader_) leader_->Release();  // a standby replica takes over at once
  log::Info("outbox relay stopped", {{"in_flight", in_flight_}});
}

}  // namespace jilaf::events
