#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace jilaf::metrics {

/// Every metric family a service exposes, registered once, named `jilaf_*`, plus
/// `jilaf_build_info` and the standard `process_*` families. One instance per process;
/// components take it by reference.
class Metrics {
 public:
  Metrics();

  /// The Prometheus text exposition of every family, the process families read from /proc now.
  [[nodiscard]] std::string Serialize() const;
  [[nodiscard]] prometheus::Registry& registry() { return *registry_; }
  /// Buckets for latency histograms (seconds), shared so dashboards can compare services.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

  // HTTP (API port)
  prometheus::Family<prometheus::Counter>& http_requests;            // route, method, status
  prometheus::Family<prometheus::Histogram>& http_request_duration;  // route, method
  prometheus::Gauge& http_in_flight;
  prometheus::Gauge& http_connections;
  prometheus::Counter& http_connections_rejected;

  // Store
  prometheus::Histogram& store_commit_jobs;
  prometheus::Histogram& store_commit_duration;
  prometheus::Counter& store_commit_failures;
  prometheus::Family<prometheus::Counter>& store_pruned_rows;  // table
  prometheus::Family<prometheus::Counter>& store_backups;      // outcome
  prometheus::Gauge& store_last_backup_time;

  // Outbox relay
  prometheus::Gauge& outbox_pending;
  prometheus::Gauge& outbox_oldest_pending_age;
  prometheus::Family<prometheus::Counter>& events_published;  // topic
  prometheus::Family<prometheus::Counter>& events_failed;     // topic
  prometheus::Gauge& kafka_producer_up;
  // Stages of an event's way out (docs/operations.md, "Event latency"): a commit's wake-up call
  // to the relay reading its rows, and the producer's hand-over to the broker's acknowledgement.
  prometheus::Histogram& outbox_wake_delay;
  prometheus::Histogram& outbox_ack_delay;

  // Consumers
  prometheus::Family<prometheus::Counter>& events_consumed;       // consumer, topic
  prometheus::Family<prometheus::Counter>& events_duplicates;     // consumer, topic
  prometheus::Family<prometheus::Counter>& events_dead_lettered;  // consumer, topic
  prometheus::Family<prometheus::Counter>& events_retried;        // consumer, topic
  prometheus::Family<prometheus::Gauge>& consumer_lag;            // consumer, topic, partition
  // Stages of an event's way in: the message's producer timestamp (milliseconds, wall clock) to
  // the consumer fetching it, and fetching it to its effect committed and its offset stored.
  prometheus::Family<prometheus::Histogram>& consumer_fetch_delay;   // consumer
  prometheus::Family<prometheus::Histogram>& consumer_settle_delay;  // consumer
  /// Buckets of those stage histograms (seconds): 100 us to 1 s, finer than LatencyBuckets().
  static const prometheus::Histogram::BucketBoundaries& StageBuckets();

  // Rate limits (common/http/rate_limit.hpp)
  prometheus::Family<prometheus::Counter>& http_rate_limited;  // scope, class

 private:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace jilaf::metrics
