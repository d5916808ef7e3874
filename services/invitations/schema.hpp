#pragma once

#include "common/store/store.hpp"

namespace jilaf::invitations {

/// Tables of the invitations service. Each row keeps its full JSON document in `doc`, with the
/// columns used for filtering beside it.
store::MigrationSet Migrations();

}  // namespace jilaf::invitations
