#pragma once

#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// Every API route of the missions service.
http::Router Routes(store::Store& store);

}  // namespace jilaf::missions
