#pragma once

#include "common/events/consumer.hpp"
#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::notifications {

/// Tables of the notifications service.
store::MigrationSet Migrations();

/// Turns an invitations event into an in-app notification for staff (inside the consumer's
/// transaction). Throws std::invalid_argument when the event lacks what its type promises.
void RecordInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                           const events::MessageOrigin& origin);

/// GET /v1/inbox: staff notifications, newest first, cursor-paginated.
http::Response ListInbox(const http::Request& request, store::Store& store);

/// Every API route of the notifications service.
http::Router Routes(store::Store& store);

}  // namespace jilaf::notifications
