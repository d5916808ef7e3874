#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

using aggregate::Column;

NotificationTables::NotificationTables()
    : events("notifications"),
      rules({"rules", "rule", "/v1/rules", {{"enabled", "enabled", Column::Type::kInteger}}, {}}),
      webhooks({"webhooks", "webhook", "/v1/webhooks", {{"url", "url"}}, {}, false}),
      templates({"templates",
                 "template",
                 "/v1/templates",
                 {{"event_type", "event_type"}, {"channel", "channel"}, {"locale", "locale"}},
                 {},
                 false}),
      // Only the columns a re-drive changes or a list filters on; PlanDelivery and RecordAttempt
      // (queries.cpp) write the recipient key and the due time.
      deliveries({"deliveries",
                  "delivery",
                  "/v1/deliveries",
                  {{"status", "status"},
                   {"attempts", "attempts", Column::Type::kInteger},
                   {"channel", "channel"},
                   {"event_id", "event_id"},
                   {"rule_id", "rule_id"}},
                  {},
                  false,
                  {"recipient.address", "recipient.kind"},
                  {},
                  {},
                  true}),
      feed_items({"feed_items",
                  "feed item",
                  "/v1/feed",
                  {{"event_id", "event_id"}, {"published_at", "published_at"}},
                  {},
                  false}),
      inbox_items(
          {"inbox_notifications",
           "inbox item",
           "/v1/inbox",
           {{"event_id", "event.id"}, {"audience", "audience"}, {"created_at", "created_at"}},
           {},
           false}),
      periodicals({"periodicals", "periodical", "/v1/periodicals", {}, {}, false}),
      rule{rules, events, "rule"} {}

const NotificationTables& Tables() {
  static const NotificationTables tables;
  return tables;
}

}  // namespace jilaf::notifications
