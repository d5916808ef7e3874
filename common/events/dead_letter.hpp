#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

namespace jilaf::events {

/// Largest value a dead-letter copy carries whole. A topic accepts messages up to the broker's
/// max.message.bytes (1,048,588 by default) but a producer refuses values above its own
/// message.max.bytes (1,000,000): a copy that can never be produced would block its partition
/// for ever. Above this size the copy carries an empty value and a `dlq_value_omitted` header
/// with the original size; the `dlq_origin_*` headers locate the original.
inline constexpr std::size_t kDeadLetterMaxValueBytes = 900 * 1024;

/// Delivery outcome of a producer that sends one message and flushes (the dead-letter
/// producer): flush() returns once the queue is empty, whether the broker acknowledged the
/// message or refused it, so success must be read from the delivery report.
class DeliveryOutcome : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override;
  /// Forgets the previous outcome; call before producing.
  void Reset();
  /// True once a delivery report said the broker acknowledged the message.
  [[nodiscard]] bool Acknowledged() const { return acknowledged_.load(); }
  [[nodiscard]] std::string Error() const;

 private:
  std::atomic<bool> acknowledged_{false};
  mutable std::mutex mutex_;
  std::string error_;  // guarded by mutex_
};

}  // namespace jilaf::events
