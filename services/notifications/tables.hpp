#pragma once

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/aggregate/sequences.hpp"

// The notifications service's records and events, declared once.
namespace jilaf::notifications {

/// Every event of the service: jilaf.notifications.<aggregate>.<what> on
/// jilaf.notifications.events.
const aggregate::Publisher& Events();

/// Routing rules (versioned; `enabled` mirrored for the consumer's scan).
const aggregate::DocTable& Rules();
/// Webhook endpoints (their signing secrets are kept apart, in webhook_secrets).
const aggregate::DocTable& Webhooks();
/// Message templates, keyed by (event_type, channel, locale): listed here, saved in queries.cpp.
const aggregate::DocTable& Templates();
/// Deliveries: planned and attempted in queries.cpp, read and re-driven here.
const aggregate::DocTable& Deliveries();
/// Website feed items, one per public event's aggregate.
const aggregate::DocTable& FeedItems();
/// Staff inbox items.
const aggregate::DocTable& InboxItems();
/// Periodical issues.
const aggregate::DocTable& Periodicals();

const aggregate::Kind& RuleKind();

}  // namespace jilaf::notifications
