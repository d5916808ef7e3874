#pragma once

#include "common/events/cloud_event.hpp"
#include "common/store/store.hpp"

namespace jilaf::analytics {

/// The analytics store's tables (component "analytics"): one row per entity the yearly reports
/// count, keyed by kind and id, with the facts the reports need as a JSON document.
store::MigrationSet Migrations();

/// Folds one event into the store inside the consumer's transaction. Every event carries the
/// entity's state (not a delta), and a snapshot replaces the entity with the state it carries, so
/// snapshots and change events fold in any interleaving the topic can hold to the same result.
/// Types the reports do not need are ignored; a known type whose data lacks a needed fact throws
/// std::invalid_argument (the consumer dead-letters it).
void Apply(store::Db& tx, const events::CloudEvent& event);

}  // namespace jilaf::analytics
