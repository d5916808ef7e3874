#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::notifications {

/// GET /v1/inbox: the caller's notifications (addressed to the user or to one of their roles),
/// newest first, cursor-paginated; `?unread=true` keeps the unread ones. Each item carries
/// `read` for the caller.
http::Response ListInbox(const http::Request& request, store::Store& store);

/// POST /v1/inbox/{id}/read and DELETE /v1/inbox/{id}/read: mark read or unread for the caller.
http::Response MarkRead(const http::Request& request, store::Store& store);
http::Response MarkUnread(const http::Request& request, store::Store& store);

}  // namespace jilaf::notifications
