#pragma once

#include "common/http/router.hpp"
#include "common/store/store.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/feed.hpp"

namespace jilaf::notifications {

/// Every API route of the notifications service.
http::Router Routes(store::Store& store, DeliveryMetrics& metrics, const FeedOptions& feed);

}  // namespace jilaf::notifications
