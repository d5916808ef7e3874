#pragma once

#include <vector>

#include "common/http/json_input.hpp"

namespace jilaf::missions {

/// Every request body of the service whose schema its reader generates (contract.cpp).
std::vector<http::BodyContract> RequestBodies();

}  // namespace jilaf::missions
