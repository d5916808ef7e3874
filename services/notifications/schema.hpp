#pragma once

#include <string>
#include <vector>

#include "common/store/store.hpp"

namespace jilaf::notifications {

/// Tables of the notifications service.
store::MigrationSet Migrations();

/// Seeds the default staff-inbox rules (every invitations event; approved projects, overdue
/// reports, seminars opening or full, certificates) and their ja/en inbox templates: each one
/// that is missing, so a later release's defaults reach existing stores, while a template an
/// admin edited or a rule an admin disabled stays as it is.
void SeedDefaults(store::Store& store);

/// The event types (or prefixes) that have a default inbox template, in seeding order.
std::vector<std::string> DefaultTemplateTypes();

}  // namespace jilaf::notifications
