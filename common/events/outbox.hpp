#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/events/cloud_event.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/change_signal.hpp"
#include "common/store/cluster_lock.hpp"
#include "common/store/store.hpp"

namespace RdKafka {
class Producer;
}

namespace jilaf::events {

/// The outbox table's migrations (component "common.outbox").
store::MigrationSet OutboxMigrations();

/// Appends an event to the outbox inside the caller's write transaction, so the event exists
/// if and only if the state change it describes was committed.
void AppendToOutbox(store::Db& tx, const std::string& topic, const CloudEvent& event);
/// The same with the payload already written as JSON text, for an event whose `data` is null: a
/// hot path that writes its payload directly builds no JSON tree only to dump it.
void AppendToOutbox(store::Db& tx, const std::string& topic, const CloudEvent& event,
                    std::string_view data_text);

/// Deletes at most `limit` outbox rows published (acknowledged by the broker) before
/// `sent_before_ms`, oldest first; returns how many. Rows not yet published are never touched:
/// the topic is the record of what was sent, the outbox only of what is still to send.
std::int64_t PruneSentOutbox(store::Db& tx, std::int64_t sent_before_ms, std::int64_t limit);

struct RelayOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string client_id = "jilaf";
  int message_timeout_ms = 30000;
  std::size_t batch = 1000;
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds flush_timeout{10000};
  /// How often the relay asks the broker for metadata to learn whether it is reachable (the
  /// first time at start, so readiness does not wait for a first delivery); while it is not,
  /// the shorter `probe_interval_down`.
  std::chrono::milliseconds probe_interval{5000};
  std::chrono::milliseconds probe_interval_down{1000};
  std::chrono::milliseconds probe_timeout{2000};
  /// PostgreSQL: how often an idle relay looks for rows committed by the other replicas (their
  /// commits do not wake it), and how often a replica that does not relay tries to take over.
  std::chrono::milliseconds shared_poll_interval{100};
  /// PostgreSQL: how often an idle relay still looks while its change signal listens (a
  /// fallback; the other replicas' commits wake it through LISTEN/NOTIFY).
  std::chrono::milliseconds listen_poll_interval{1000};
  /// The longest wait between two attempts after a store failure (the server unreachable).
  std::chrono::milliseconds store_backoff_max{250};
  std::chrono::milliseconds leader_check_interval{1000};
};

/// Publishes committed outbox rows to Kafka in commit order. Woken by every store commit (on
/// PostgreSQL also by any replica's, through LISTEN/NOTIFY: store::ChangeSignal); marks
/// a row sent only when its delivery report says the broker acknowledged it (acks=all,
/// idempotent producer). A failed delivery leaves the row pending and, after a backoff, the relay
/// resends every pending row from the oldest, so an outage of any length loses nothing. A fatal
/// producer error replaces the producer.
///
/// On PostgreSQL, where several replicas share the outbox, one relay publishes at a time: the
/// replica holding the cluster lock `jilaf.outbox.<client_id>` (store::ClusterLock). The others
/// stand by and take over when it dies. Their rows' sequence numbers are not in commit order
/// across replicas, so the leader also publishes pending rows that commit below its cursor
/// (docs/reliability.md, "Several replicas").
class OutboxRelay {
 public:
  OutboxRelay(store::Store& store, RelayOptions options, metrics::Metrics& metrics);
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;
  ~OutboxRelay();

  void Start();
  /// Publishes what it can within the flush timeout, then stops. Unsent rows stay pending.
  void Stop();
  /// Wakes the relay (called after each commit).
  void Notify();

  /// Last known reachability of the broker: the last metadata request or delivery report.
  [[nodiscard]] bool KafkaUp() const { return kafka_up_.load(); }
  [[nodiscard]] std::int64_t PendingCount() const { return pending_.load(); }
  /// True while this replica's relay publishes (always on SQLite).
  [[nodiscard]] bool Leading() const { return leading_.load(); }

 private:
  class DeliveryHandler;
  struct Row {
    std::int64_t seq;
    std::string topic;
    std::string key;
    std::string headers;
    std::string payload;
  };

  void Run();
  std::unique_ptr<RdKafka::Producer> MakeProducer();
  void ProduceNew();
  /// Appends the late rows (PostgreSQL); false when there may be more than it read.
  bool ReadLateRows(store::Db& db, std::vector<Row>& out);
  bool ProduceRow(Row& row);
  [[nodiscard]] bool Lead();
  void ResetCursor();
  void MarkAcknowledged();
  void AwaitMarks();
  void CheckMarks();
  void UpdateGauges();
  void ProbeBroker();
  void SetKafkaUp(bool up, const std::string& why);
  void OnDelivery(std::int64_t seq, bool ok, const std::string& topic, const std::string& error);
  void OnError(bool fatal, bool all_brokers_down, const std::string& reason);

  store::Store& store_;
  RelayOptions options_;
  metrics::Metrics& metrics_;
  std::unique_ptr<DeliveryHandler> handler_;

  std::mutex producer_mutex_;  // guards producer_ against Notify() during a replacement
  std::unique_ptr<RdKafka::Producer> producer_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::vector<std::int64_t> acked_;
  struct Mark {
    std::future<void> done;
    std::vector<std::int64_t> seqs;
  };
  std::vector<Mark> marks_;  // queued marks, checked for a failed commit
  bool rewind_ = false;
  bool fatal_ = false;

  std::atomic<bool> running_{false};
  std::atomic<bool> kafka_up_{false};
  std::atomic<std::int64_t> pending_{0};
  std::int64_t cursor_ = 0;  // highest seq handed to the producer
  // Rows handed to the producer whose sent mark has not committed yet (PostgreSQL: a pending
  // row below the cursor that is not here committed late and still has to be published).
  std::set<std::int64_t> handed_;
  // Stage timings (jilaf_outbox_wake_delay_seconds, jilaf_outbox_ack_delay_seconds): the first
  // wake-up call not yet answered by a read (steady clock, ns; 0: none), and when each row in
  // flight was handed to the producer (relay thread only: delivery reports run in its poll()).
  std::atomic<std::int64_t> woken_ns_{0};
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> produced_at_;
  std::unique_ptr<store::ClusterLock> leader_;   // PostgreSQL only
  std::unique_ptr<store::ChangeSignal> signal_;  // PostgreSQL only
  std::atomic<bool> leading_{false};
  std::int64_t in_flight_ = 0;
  std::chrono::milliseconds backoff_{0};
  std::chrono::milliseconds store_backoff_{0};  // after a store failure; 0 after a good step
  std::chrono::steady_clock::time_point last_gauges_{};
  std::chrono::steady_clock::time_point next_probe_{};  // the first one at start
  std::thread thread_;
};

}  // namespace jilaf::events
