#pragma once

#include "common/http/router.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// Every API route of the invitations service.
http::Router Routes(Context& context);

}  // namespace jilaf::invitations
