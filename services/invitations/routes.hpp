#pragma once

#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::invitations {

/// Every API route of the invitations service.
http::Router Routes(store::Store& store);

}  // namespace jilaf::invitations
