#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/events/cloud_event.hpp"
#include "common/store/store.hpp"
#include "services/notifications/deliveries.hpp"

namespace jilaf::notifications {

struct FeedOptions {
  /// Where the public API is reachable from outside: feed links and unsubscribe links.
  std::string public_base_url = "http://127.0.0.1:8084";
  /// The public website that shows programmes, seminars and reports; empty: feed and newsletter
  /// links go to this API's own public item (GET /v1/feed/{id}), which always exists.
  std::string portal_base_url;
};

/// Where a feed item (or a newsletter's mention of it) links to.
std::string FeedItemLink(const nlohmann::json& item, const FeedOptions& options);

/// Inside the consumer's transaction: a public event (a published mission report, a seminar
/// open for registration, a programme created open or moved from draft to open) becomes a
/// website feed item, once per event.
void RecordFeedItem(store::Db& tx, const events::CloudEvent& event);

/// Issues the next periodical if any public item appeared since the last one: stores the issue
/// (ja and en) and queues one email per opted-in subscriber, with an unsubscribe link, in one
/// transaction. Returns the issue, or nullopt when there was nothing new.
std::optional<nlohmann::json> IssuePeriodical(store::Store& store, const FeedOptions& options,
                                              DeliveryMetrics& metrics);

}  // namespace jilaf::notifications
