#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// POST /v1/admin/snapshots: a programme.snapshot and a nomination.snapshot event for every
/// current programme and nomination, through the outbox; 202 with the counts.
http::Response PublishSnapshots(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
