#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "common/auth/principal.hpp"
#include "common/crypto/field_cipher.hpp"
#include "common/events/consumer.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/store.hpp"
#include "services/notifications/channels.hpp"
#include "services/notifications/endpoint_pool.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/retry.hpp"

namespace jilaf::notifications {

class Catalogue;

/// The notification service's own metric families (registered on the shared registry).
struct DeliveryMetrics {
  explicit DeliveryMetrics(metrics::Metrics& metrics);
  prometheus::Family<prometheus::Counter>& deliveries;  // channel, status (each transition)
  prometheus::Gauge& retry_backlog;                     // deliveries waiting to be retried
  prometheus::Gauge& pending;                           // deliveries not yet attempted
  prometheus::Family<prometheus::Counter>& attempts;    // channel, outcome
};

/// Consumer handler: inside the inbox transaction, turns one event into feed items and delivery
/// rows (one per event, rule, recipient and channel; the unique key makes a replay a no-op). Inbox
/// deliveries are written and marked sent here (no network); email and webhook rows are left
/// pending for the Dispatcher, so no network I/O ever holds the SQLite writer.
/// The enabled rules and compiled templates come from `catalogue` (callers hold its mutex).
void PlanDeliveries(store::Db& tx, const events::CloudEvent& event,
                    const events::MessageOrigin& origin, DeliveryMetrics& metrics,
                    Catalogue& catalogue);

/// Inserts a pending email delivery of `content` ({subject, body, headers}) outside any rule
/// (periodicals); false if it already exists.
bool InsertEmailDelivery(store::Db& tx, const std::string& source_id, const std::string& rule_id,
                         const std::string& to, nlohmann::json content, const std::string& category,
                         DeliveryMetrics& metrics);

/// A delivery as `reader` may see it: transport error texts (which can describe the internal
/// network a webhook reached for) only for admins, everyone else sees "failed" and the category;
/// a viewer sees the recipient's address and the content (mail texts with their unsubscribe
/// links, webhook payloads, inbox texts) masked (aggregate::Masked).
[[nodiscard]] nlohmann::json DeliveryForReader(nlohmann::json doc, const auth::Principal& reader);

struct DispatchOptions {
  SmtpOptions smtp;
  RetryPolicy retry;
  WebhookOptions webhook;
  std::int64_t batch = 50;
  std::int64_t concurrency = 4;   // deliveries of a batch in flight at once
  std::int64_t per_endpoint = 2;  // of those, at most this many to one webhook host or SMTP server
};

/// Sends due deliveries (pending, or retrying whose time has come) outside any transaction, then
/// records each outcome, with its `jilaf.notifications.delivery.*` event, in one write. RunOnce
/// (on the scheduler thread) queues what is due on an EndpointPool of `concurrency` workers, at
/// most `per_endpoint` of them talking to one webhook host or SMTP server at once, and returns
/// without waiting: a slow webhook holds up only its own deliveries, never the mail or the next
/// pass. Each worker records its delivery's outcome as soon as it has it; the pool never queues a
/// delivery that is queued, in flight, or recorded since the pass began, so each attempt is sent
/// at most once.
class Dispatcher {
 public:
  /// `cipher` opens the webhooks' sealed secrets.
  Dispatcher(store::Store& store, DispatchOptions options, DeliveryMetrics& metrics,
             const crypto::FieldCipher& cipher);
  /// One pass over the due deliveries; returns how many it queued for sending.
  int RunOnce();
  /// Waits for the sends in flight and records them, drops what is only queued (still due in the
  /// store). Call before the store stops.
  void Stop() { pool_.Stop(); }

 private:
  /// Sends one due delivery and records the outcome (on one of the pool's workers).
  void Attempt(const DueDelivery& item);
  SendResult Send(const nlohmann::json& doc, const std::string& url, const std::string& secret);
  /// Applies an attempt's outcome to the delivery; returns when it is next due (0: never).
  std::int64_t Apply(nlohmann::json& doc, const SendResult& result);
  /// Stores the outcome and its events (unless the delivery changed meanwhile).
  void Record(nlohmann::json& doc, const SendResult& result);

  store::Store& store_;
  DispatchOptions options_;
  DeliveryMetrics& metrics_;
  const crypto::FieldCipher& cipher_;
  std::mutex random_mutex_;  // the workers draw their backoff jitter from random_
  std::mt19937_64 random_;
  EndpointPool pool_;  // last: its workers are joined before the members they use go
};

}  // namespace jilaf::notifications
