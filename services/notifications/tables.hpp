#pragma once

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/aggregate/sequences.hpp"

// The notifications service's records and events, declared once.
namespace jilaf::notifications {

struct NotificationTables {
  NotificationTables();

  /// Every event of the service: jilaf.notifications.<aggregate>.<what> on
  /// jilaf.notifications.events.
  aggregate::Publisher events;
  /// Routing rules (versioned; `enabled` mirrored for the consumer's scan).
  aggregate::DocTable rules;
  /// Webhook endpoints (their signing secrets are kept apart, in webhook_secrets).
  aggregate::DocTable webhooks;
  /// Message templates, keyed by (event_type, channel, locale): listed here, saved in queries.cpp.
  aggregate::DocTable templates;
  /// Deliveries: planned and attempted in queries.cpp, read and re-driven here.
  aggregate::DocTable deliveries;
  /// Website feed items, one per public event's aggregate.
  aggregate::DocTable feed_items;
  /// Staff inbox items.
  aggregate::DocTable inbox_items;
  /// Periodical issues.
  aggregate::DocTable periodicals;

  aggregate::Kind rule;
};

/// The tables, made once.
const NotificationTables& Tables();

}  // namespace jilaf::notifications
