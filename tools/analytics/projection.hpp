#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/events/cloud_event.hpp"
#include "common/events/consumer.hpp"
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

/// Notes, in the consumer's transaction, that the message at `origin` is applied: the store
/// keeps per partition the offset after the last message it applied.
void RecordPosition(store::Db& tx, const events::MessageOrigin& origin);

/// What a store holds of its own history: per (topic, partition) the next offset to apply under
/// `group`, and every consumer group its inbox has recorded events under.
struct StoreState {
  std::map<std::pair<std::string, int>, std::int64_t> applied;
  std::vector<std::string> consumers;
};
StoreState ReadStoreState(store::Db& db, const std::string& group);

}  // namespace jilaf::analytics
