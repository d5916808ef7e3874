#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "common/events/cloud_event.hpp"
#include "common/events/dead_letter.hpp"
#include "common/events/kafka_config.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/store.hpp"

namespace jilaf::events {

/// The inbox table's migrations (component "common.inbox").
store::MigrationSet InboxMigrations();

/// Where a consumed event came from.
struct MessageOrigin {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
};

/// Applies one event's effect inside the consumer's write transaction. Throw to refuse it:
/// store::StoreError counts as the store's fault and is retried without limit; any other
/// exception is retried a bounded number of times, then the message is dead-lettered.
using EventHandler =
    std::function<void(store::Db& tx, const CloudEvent& event, const MessageOrigin& origin)>;

/// Whether ApplyOnce ran the handler or recognised the event as already applied.
enum class ApplyOutcome { kApplied, kDuplicate };

/// Inside a write transaction: records (consumer, event id) in the inbox and runs the handler,
/// or does nothing if the inbox already holds the pair. Both commit or neither does.
ApplyOutcome ApplyOnce(store::Db& tx, const std::string& consumer, const CloudEvent& event,
                       const MessageOrigin& origin, const EventHandler& handler);

/// Deletes at most `limit` inbox rows of `consumer` for messages of (topic, partition) below
/// `log_start`, the partition's first offset still on the broker; returns how many. Such a
/// message can never be delivered again, so its row can no longer stop a duplicate.
std::int64_t PruneInbox(store::Db& tx, const std::string& consumer, const std::string& topic,
                        int partition, std::int64_t log_start, std::int64_t limit);

/// Why an event with CloudEvents `source` may not be applied from `topic`, or nullopt when it
/// may: a `jilaf.<service>.events` topic carries only its owner's events (source
/// `/jilaf/<service>`), so anything else on it is forged or misrouted and is dead-lettered with
/// this reason, never applied. Other topics (test topics, dead-letter topics) are not checked.
[[nodiscard]] std::optional<std::string> SourceRefusal(std::string_view topic,
                                                       std::string_view source);

struct ConsumerOptions {
  std::string name;  // consumer group id and the inbox's consumer name, e.g. "notifications"
  std::vector<std::string> topics;
  std::string brokers = "127.0.0.1:9092";
  std::string dead_letter_topic;  // defaults to jilaf.<name>.dlq
  int max_attempts = 5;
  std::chrono::milliseconds retry_backoff{200};
  std::size_t batch = 500;
  /// How often the inbox is pruned below each assigned partition's log start (0: never).
  std::chrono::milliseconds inbox_prune_interval{std::chrono::minutes(10)};
  /// How often jilaf_consumer_lag is computed from the broker's high watermarks, and how long
  /// one watermark request may take before the lag is reported unknown (NaN).
  std::chrono::milliseconds lag_interval{2000};
  std::chrono::milliseconds lag_timeout{2000};
  /// Told the consumer's whole lag (messages over all its assigned partitions) each time it is
  /// measured, or nullopt when it is unknown (no assignment yet, or the broker did not answer).
  /// Called on the lag thread.
  std::function<void(std::optional<std::int64_t>)> on_lag;
  /// Called on the consumer thread each time a batch has been settled (its effects committed,
  /// its offsets stored).
  std::function<void()> on_applied;
  /// True when the handler may run again for an event whose transaction rolled back: its
  /// effects are all in the transaction, or queued with Db::AtBatchEnd. The events of one fetch
  /// are then applied by one store job (one savepoint at most, not one per event); if any of
  /// them fails, that job leaves nothing and the events are applied again one job each.
  bool handler_reruns_safely = false;
};

/// A Kafka consumer with exactly-once effects: for each message the effect and an inbox row
/// (consumer, event id) commit in one transaction, and only then is the offset stored
/// (enable.auto.offset.store=false), so a redelivered event is recognised and skipped. A message
/// that cannot be parsed, or whose handler keeps failing, goes to the dead-letter topic with
/// headers naming its origin and the error, and the consumer moves on. Offsets are committed on
/// partition revocation and on close.
class Consumer {
 public:
  Consumer(store::Store& store, ConsumerOptions options, EventHandler handler,
           metrics::Metrics& metrics);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer();

  void Start();
  /// Finishes the batch in hand, commits offsets and leaves the group.
  void Stop();

 private:
  class Rebalancer;
  using Outcome = ApplyOutcome;

  // Messages fetched together, parsed, and (once submitted) their store jobs.
  struct Batch {
    std::vector<std::unique_ptr<RdKafka::Message>> messages;
    std::vector<ParseResult> parsed;
    std::vector<std::future<ApplyOutcome>> attempts;
    std::chrono::steady_clock::time_point fetched_at{};  // jilaf_consumer_settle_delay_seconds
    // handler_reruns_safely: the one job applying the whole fetch, until it is settled.
    std::future<std::vector<ApplyOutcome>> whole;
  };

  void Run();
  void Fetch(Batch& batch, int first_timeout_ms);
  void SubmitBatch(Batch& batch);
  void SubmitEach(Batch& batch);
  void ResolveBatch(Batch& batch);
  prometheus::Counter& TopicCounter(prometheus::Family<prometheus::Counter>& family,
                                    const std::string& topic);
  /// Settles message `index` of the batch: retries its attempt until it is applied (or found
  /// applied) or dead-lettered, then stores its offset.
  void Resolve(Batch& batch, std::size_t index);
  /// Submits again, now, every later event of the batch whose settled attempt found another
  /// consumer behind (NotYetApplicable), behind a retry of event `index`: one group commit
  /// carries them all. Other settled outcomes are kept for Resolve.
  void RetryWaitingAfter(Batch& batch, std::size_t index);
  std::future<Outcome> Submit(const CloudEvent& event, const MessageOrigin& origin);
  void DeadLetter(RdKafka::Message& message, const std::string& error);
  void StoreOffset(RdKafka::Message& message);
  void SnapshotPositions();
  /// Sets the lag gauges; returns the log start of each partition the broker answered for.
  std::map<std::pair<std::string, int>, std::int64_t> UpdateLag();
  /// Every inbox_prune_interval: deletes the inbox rows below those log starts.
  void PruneInboxBelow(const std::map<std::pair<std::string, int>, std::int64_t>& log_starts);
  void SleepUnlessStopping(std::chrono::milliseconds duration);
  /// As SleepUnlessStopping, but returns as soon as the people copy has committed a batch since
  /// generation `seen` (RecordWait::AwaitCopyApplied).
  void AwaitCopyUnlessStopping(std::uint64_t seen, std::chrono::milliseconds duration);

  store::Store& store_;
  ConsumerOptions options_;
  EventHandler handler_;
  metrics::Metrics& metrics_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<KafkaLogger> consumer_logger_;
  std::unique_ptr<KafkaLogger> dlq_logger_;
  std::unique_ptr<DeliveryOutcome> dlq_delivery_ = std::make_unique<DeliveryOutcome>();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::Producer> dlq_producer_;
  // Asks partition ends for the lag with a short socket timeout: the group consumer's own
  // requests wait up to a minute on an unresponsive broker, and its handle can block callers
  // while a rebalance waits on the consumer thread.
  struct LagProbe;  // consumer.cpp
  std::shared_ptr<LagProbe> lag_probe_;
  // Where the consumer stands in each assigned partition (-1: unknown), written by the consumer
  // thread every lag interval, read by the lag thread.
  std::mutex positions_mutex_;
  std::vector<std::tuple<std::string, int, std::int64_t>> positions_;
  std::chrono::steady_clock::time_point last_snapshot_{};
  std::atomic<bool> running_{false};
  // Only the lag thread touches this.
  std::chrono::steady_clock::time_point last_prune_ = std::chrono::steady_clock::now();
  // Per-topic counters, looked up once (only the consumer thread touches this).
  std::map<std::pair<const void*, std::string>, prometheus::Counter*> counters_;
  // This consumer's stage histograms, added on first use (consumer thread only).
  prometheus::Histogram& FetchDelay();
  prometheus::Histogram& SettleDelay();
  prometheus::Histogram* fetch_delay_ = nullptr;
  prometheus::Histogram* settle_delay_ = nullptr;
  // The lag gauge of each partition this consumer reports, so that one it no longer holds is
  // removed rather than left at its last value (only the lag thread touches this).
  std::map<std::pair<std::string, int>, prometheus::Gauge*> lag_gauges_;
  std::thread thread_;
  std::thread lag_thread_;  // UpdateLag every options_.lag_interval
};

}  // namespace jilaf::events
