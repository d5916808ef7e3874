#include "tools/analytics/reconcile.hpp"

namespace jilaf::analytics {

Reconciliation Reconcile(const std::string& group, const StoreState& store,
                         const std::vector<PartitionPosition>& partitions, bool explicit_start) {
  Reconciliation out;
  for (const auto& consumer : store.consumers) {
    if (consumer != group) {
      out.refusal = "this store was built under consumer group '" + consumer +
                    "'; consume with --consumer-group " + consumer +
                    ", or into a new --analytics-db";
      return out;
    }
  }
  for (const auto& p : partitions) {
    const auto applied = store.applied.find({p.topic, p.partition});
    const std::int64_t next = applied == store.applied.end() ? p.low : applied->second;
    if (next < p.low && !explicit_start) {
      out.refusal = p.topic + "[" + std::to_string(p.partition) + "] now starts at offset " +
                    std::to_string(p.low) + " but this store has applied only up to " +
                    std::to_string(next) +
                    ": the events in between are gone; build a new --analytics-db from a "
                    "snapshot run with --since";
      return out;
    }
    if (applied == store.applied.end() && p.low > 0 && !explicit_start) {
      out.refusal = p.topic + "[" + std::to_string(p.partition) +
                    "] no longer starts at offset "
                    "0 (it starts at " +
                    std::to_string(p.low) +
                    "), so an empty store cannot be rebuilt from it: build it from a snapshot run "
                    "with --since";
      return out;
    }
    if (p.committed > next && !explicit_start) {
      out.rewinds.push_back({p.topic, p.partition, p.committed, next});
    }
  }
  return out;
}

}  // namespace jilaf::analytics
