#pragma once

#include <cstdint>

#include "common/metrics/metrics.hpp"
#include "common/store/store.hpp"

namespace jilaf::service {

/// How long the bookkeeping tables keep what they no longer need (docs/operations.md,
/// "Retention"). The records themselves are never pruned: only the outbox rows already on the
/// topic, idempotency keys past their lifetime and (in each consumer) inbox rows of messages
/// that have left their partition.
struct RetentionOptions {
  std::int64_t outbox_retention_s = 3600;  // published outbox rows kept this long
  std::int64_t interval_s = 60;            // how often the housekeeping pass runs (0: never)
  std::int64_t inbox_prune_interval_s = 600;
  std::int64_t batch = 5000;         // rows deleted per write job, so the writer is never held
  std::int64_t vacuum_pages = 4096;  // free pages returned to the file system per pass
};

/// What one housekeeping pass removed.
struct HousekeepingResult {
  std::int64_t outbox_rows = 0;
  std::int64_t idempotency_keys = 0;
  std::int64_t pages = 0;
};

/// One pass at time `now_ms`: published outbox rows older than the retention, idempotency keys
/// past their lifetime, then free pages; each table in bounded write jobs.
HousekeepingResult RunHousekeeping(store::Store& store, const RetentionOptions& options,
                                   metrics::Metrics* metrics, std::int64_t now_ms);

}  // namespace jilaf::service
