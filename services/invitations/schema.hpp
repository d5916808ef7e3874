#pragma once

#include "common/store/store.hpp"

namespace jilaf::invitations {

/// The topic this service publishes to.
inline constexpr const char* kEventsTopic = "jilaf.invitations.events";
/// CloudEvents `source` of this service's events.
inline constexpr const char* kEventSource = "/jilaf/invitations";

/// Tables of the invitations service. Each row keeps its full JSON document in `doc`, with the
/// columns used for filtering beside it.
store::MigrationSet Migrations();

}  // namespace jilaf::invitations
