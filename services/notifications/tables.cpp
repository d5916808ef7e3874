#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

using aggregate::Column;
using aggregate::DocTable;

const aggregate::Publisher& Events() {
  static const aggregate::Publisher publisher("notifications");
  return publisher;
}

const DocTable& Rules() {
  static const DocTable table(
      {"rules", "rule", "/v1/rules", {{"enabled", "enabled", Column::Type::kInteger}}, {}});
  return table;
}

const DocTable& Webhooks() {
  static const DocTable table({"webhooks", "webhook", "/v1/webhooks", {{"url", "url"}}, {}, false});
  return table;
}

const DocTable& Templates() {
  static const DocTable table(
      {"templates",
       "template",
       "/v1/templates",
       {{"event_type", "event_type"}, {"channel", "channel"}, {"locale", "locale"}},
       {},
       false});
  return table;
}

const DocTable& Deliveries() {
  // Only the columns a re-drive changes or a list filters on; PlanDelivery and RecordAttempt
  // (queries.cpp) write the recipient key and the due time.
  static const DocTable table({"deliveries",
                               "delivery",
                               "/v1/deliveries",
                               {{"status", "status"},
                                {"attempts", "attempts", Column::Type::kInteger},
                                {"channel", "channel"},
                                {"event_id", "event_id"},
                                {"rule_id", "rule_id"}},
                               {},
                               false});
  return table;
}

const DocTable& FeedItems() {
  static const DocTable table({"feed_items",
                               "feed item",
                               "/v1/feed",
                               {{"event_id", "event_id"}, {"published_at", "published_at"}},
                               {},
                               false});
  return table;
}

const DocTable& InboxItems() {
  static const DocTable table(
      {"inbox_notifications",
       "inbox item",
       "/v1/inbox",
       {{"event_id", "event.id"}, {"audience", "audience"}, {"created_at", "created_at"}},
       {},
       false});
  return table;
}

const DocTable& Periodicals() {
  static const DocTable table({"periodicals", "periodical", "/v1/periodicals", {}, {}, false});
  return table;
}

const aggregate::Kind& RuleKind() {
  static const aggregate::Kind kind{Rules(), Events(), "rule"};
  return kind;
}

}  // namespace jilaf::notifications
