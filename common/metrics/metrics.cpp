#include "common/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "common/metrics/process.hpp"
#include "common/util/build_info.hpp"

namespace jilaf::metrics {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const prometheus::Histogram::BucketBoundaries kStageBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004,
    0.006,  0.008,   0.016,  0.032, 0.064,  0.128, 0.256, 1};
const prometheus::Histogram::BucketBoundaries kBatchBuckets = {1,  2,  4,   8,   16,
                                                               32, 64, 128, 256, 512};

}  // namespace

Metrics::Metrics() : Metrics(std::make_shared<prometheus::Registry>()) {}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : http_requests(prometheus::BuildCounter()
                        .Name("jilaf_http_requests_total")
                        .Help("HTTP requests answered, by route template, method and status")
                        .Register(*registry)),
      http_request_duration(prometheus::BuildHistogram()
                                .Name("jilaf_http_request_duration_seconds")
                                .Help("Time from a complete request to its response")
                                .Register(*registry)),
      http_in_flight(prometheus::BuildGauge()
                         .Name("jilaf_http_requests_in_flight")
                         .Help("Requests being handled now")
                         .Register(*registry)
                         .Add({})),
      http_connections(prometheus::BuildGauge()
                           .Name("jilaf_http_connections")
                           .Help("Open HTTP connections on the API port")
                           .Register(*registry)
                           .Add({})),
      http_connections_rejected(prometheus::BuildCounter()
                                    .Name("jilaf_http_connections_rejected_total")
                                    .Help("Connections refused because the cap was reached")
                                    .Register(*registry)
                                    .Add({})),
      store_commit_jobs(prometheus::BuildHistogram()
                            .Name("jilaf_store_commit_jobs")
                            .Help("Write jobs folded into one SQLite commit (group commit)")
                            .Register(*registry)
                            .Add({}, kBatchBuckets)),
      store_commit_duration(prometheus::BuildHistogram()
                                .Name("jilaf_store_commit_duration_seconds")
                                .Help("Time to run and commit one batch of write jobs")
                                .Register(*registry)
                                .Add({}, kLatencyBuckets)),
      store_commit_failures(prometheus::BuildCounter()
                                .Name("jilaf_store_commit_failures_total")
                                .Help("Write jobs that failed (rolled back)")
                                .Register(*registry)
                                .Add({})),
      store_pruned_rows(prometheus::BuildCounter()
                            .Name("jilaf_store_pruned_rows_total")
                            .Help("Rows deleted by retention: published outbox rows, inbox rows "
                                  "below the log start, expired idempotency keys")
                            .Register(*registry)),
      store_backups(prometheus::BuildCounter()
                        .Name("jilaf_store_backups_total")
                        .Help("Backups asked for on the admin port, by outcome (written, failed)")
                        .Register(*registry)),
      store_last_backup_time(prometheus::BuildGauge()
                                 .Name("jilaf_store_last_backup_timestamp_seconds")
                                 .Help("Unix time of the last backup written since the start (0: "
                                       "none yet)")
                                 .Register(*registry)
                                 .Add({})),
      outbox_pending(prometheus::BuildGauge()
                         .Name("jilaf_outbox_pending")
                         .Help("Committed events not yet acknowledged by Kafka")
                         .Register(*registry)
                         .Add({})),
      outbox_oldest_pending_age(prometheus::BuildGauge()
                                    .Name("jilaf_outbox_oldest_pending_age_seconds")
                                    .Help("Age of the oldest event still waiting in the outbox")
                                    .Register(*registry)
                                    .Add({})),
      events_published(prometheus::BuildCounter()
                           .Name("jilaf_events_published_total")
                           .Help("Events acknowledged by Kafka, by topic")
                           .Register(*registry)),
      events_failed(prometheus::BuildCounter()
                        .Name("jilaf_events_publish_failed_total")
                        .Help("Delivery failures (the event stays in the outbox and is retried)")
                        .Register(*registry)),
      kafka_producer_up(prometheus::BuildGauge()
                            .Name("jilaf_kafka_producer_up")
                            .Help("1 when the outbox relay reaches a Kafka broker")
                            .Register(*registry)
                            .Add({})),
      outbox_wake_delay(prometheus::BuildHistogram()
                            .Name("jilaf_outbox_wake_delay_seconds")
                            .Help("Time from a commit waking the outbox relay to the relay "
                                  "having read the new rows")
                            .Register(*registry)
                            .Add({}, kStageBuckets)),
      outbox_ack_delay(prometheus::BuildHistogram()
                           .Name("jilaf_outbox_ack_delay_seconds")
                           .Help("Time from handing an event to the Kafka producer to the "
                                 "broker's acknowledgement (acks=all)")
                           .Register(*registry)
                           .Add({}, kStageBuckets)),
      events_consumed(prometheus::BuildCounter()
                          .Name("jilaf_events_consumed_total")
                          .Help("Events whose effect was committed, by consumer and topic")
                          .Register(*registry)),
      events_duplicates(prometheus::BuildCounter()
                            .Name("jilaf_events_duplicates_total")
                            .Help("Redelivered events skipped by the inbox")
                            .Register(*registry)),
      events_dead_lettered(prometheus::BuildCounter()
                               .Name("jilaf_events_dead_lettered_total")
                               .Help("Messages sent to the consumer's dead-letter topic")
                               .Register(*registry)),
      events_retried(prometheus::BuildCounter()
                         .Name("jilaf_events_retried_total")
                         .Help("Handler attempts that failed and were retried")
                         .Register(*registry)),
      consumer_lag(prometheus::BuildGauge()
                       .Name("jilaf_consumer_lag")
                       .Help("Messages between the consumer's position and the partition end")
                       .Register(*registry)),
      consumer_fetch_delay(prometheus::BuildHistogram()
                               .Name("jilaf_consumer_fetch_delay_seconds")
                               .Help("Time from a message's producer timestamp (milliseconds) "
                                     "to the consumer fetching it")
                               .Register(*registry)),
      consumer_settle_delay(prometheus::BuildHistogram()
                                .Name("jilaf_consumer_settle_delay_seconds")
                                .Help("Time from fetching a message to its effect committed and "
                                      "its offset stored")
                                .Register(*registry)),
      http_rate_limited(
          prometheus::BuildCounter()
              .Name("jilaf_http_rate_limited_total")
              .Help("Requests refused with 429, by scope (address, preflight, principal) and "
                    "cost class")
              .Register(*registry)),
      registry_(std::move(registry)) {
  // Constant 1: dashboards join on it to show which build each target runs.
  prometheus::BuildGauge()
      .Name("jilaf_build_info")
      .Help("Version and git commit of the running build (always 1)")
      .Register(*registry_)
      .Add({{"version", std::string(util::BuildVersion())},
            {"commit", std::string(util::BuildCommit())}})
      .Set(1);
}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() { return kLatencyBuckets; }

const prometheus::Histogram::BucketBoundaries& Metrics::StageBuckets() { return kStageBuckets; }

std::string Metrics::Serialize() const {
  auto families = registry_->Collect();
  // Read from /proc at each scrape rather than kept in the registry: nothing else updates them.
  for (auto& family : CollectProcessFamilies()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace jilaf::metrics
