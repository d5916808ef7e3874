#pragma once

#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::projects {

/// Every API route of the projects service.
http::Router Routes(store::Store& store);

}  // namespace jilaf::projects
