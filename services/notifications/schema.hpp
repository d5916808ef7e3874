#pragma once

#include "common/store/store.hpp"

namespace jilaf::notifications {

/// Tables of the notifications service.
store::MigrationSet Migrations();

/// Seeds the default staff-inbox rule and its templates when the store has no rule yet, so a
/// fresh service shows every invitations event to staff (the behaviour before routing existed).
void SeedDefaults(store::Store& store);

}  // namespace jilaf::notifications
