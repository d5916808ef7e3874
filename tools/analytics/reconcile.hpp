#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/analytics/group_offsets.hpp"
#include "tools/analytics/projection.hpp"

namespace jilaf::analytics {

/// One partition the group must re-read from `to` (it had committed `from`).
struct Rewind {
  std::string topic;
  int partition = 0;
  std::int64_t from = -1;
  std::int64_t to = 0;
};

/// How a consume reconciles the store with the consumer group before it starts: the partitions
/// to rewind, or why it must not start at all (one line, naming the fix).
struct Reconciliation {
  std::vector<Rewind> rewinds;
  std::optional<std::string> refusal;
};

/// The rules (docs/operations.md, "Analytics"):
///  - a store whose inbox holds another group's events is refused: under a second group the
///    inbox would not recognise what the store already counts, and every figure would double;
///  - a partition the group has committed beyond what the store applied (an empty store under a
///    group another store advanced, or a store restored from an older copy) is rewound to the
///    store's own position, or to the log start when the store has applied nothing there;
///  - when that position is below the log start, the events in between are gone for good and a
///    consume would export figures without them: refused, unless `explicit_start` (the caller
///    chose where to begin with --since or --from-earliest).
Reconciliation Reconcile(const std::string& group, const StoreState& store,
                         const std::vector<PartitionPosition>& partitions, bool explicit_start);

}  // namespace jilaf::analytics
