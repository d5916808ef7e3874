#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/events/cloud_event.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"
#include "services/notifications/deliveries.hpp"

namespace jilaf::notifications {

struct FeedOptions {
  /// Where the public API is reachable from outside: feed links and unsubscribe links.
  std::string public_base_url = "http://127.0.0.1:8084";
};

/// Inside the consumer's transaction: a public event (a published mission report, a seminar
/// open for registration, an open programme) becomes a website feed item, once per event.
void RecordFeedItem(store::Db& tx, const events::CloudEvent& event);

/// GET /v1/feed.atom?lang=en|ja: Atom 1.0 of the newest public items; entry ids are tag URIs
/// derived from the aggregate, so they never change across replays or rebuilds.
http::Response AtomFeed(const http::Request& request, store::Store& store,
                        const FeedOptions& options);

/// Issues the next periodical if any public item appeared since the last one: stores the issue
/// (ja and en) and queues one email per opted-in subscriber, with an unsubscribe link, in one
/// transaction. Returns the issue, or nullopt when there was nothing new.
std::optional<nlohmann::json> IssuePeriodical(store::Store& store, const FeedOptions& options,
                                              DeliveryMetrics& metrics);

/// POST /v1/periodicals (issue now; 409 when nothing is new), GET /v1/periodicals (the archive,
/// newest first), GET /v1/periodicals/{id}.
http::Response CreatePeriodical(const http::Request& request, store::Store& store,
                                const FeedOptions& options, DeliveryMetrics& metrics);
http::Response ListPeriodicals(const http::Request& request, store::Store& store);
http::Response GetPeriodical(const http::Request& request, store::Store& store);

}  // namespace jilaf::notifications
