#pragma once

#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// Tables of the missions service.
store::MigrationSet Migrations();

/// Every API route of the missions service.
http::Router Routes(store::Store& store);

}  // namespace jilaf::missions
