#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::notifications {

/// POST /v1/subscribers: records a newsletter subscriber with their opt-in consent.
http::Response CreateSubscriber(const http::Request& request, store::Store& store);
/// GET or POST /v1/unsubscribe?token=...: the link every periodical mail carries (public).
http::Response Unsubscribe(const http::Request& request, store::Store& store);

}  // namespace jilaf::notifications
