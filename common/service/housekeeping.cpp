#include "common/service/housekeeping.hpp"

#include <functional>

#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/log/log.hpp"

namespace jilaf::service {
namespace {

// Runs `prune` in write jobs of at most `batch` rows until one deletes fewer (at most 100 jobs
// per pass: a backlog larger than that is finished by the next passes).
std::int64_t InBatches(store::Store& store, std::int64_t batch,
                       const std::function<std::int64_t(store::Db&)>& prune) {
  std::int64_t total = 0;
  for (int job = 0; job < 100; ++job) {
    const auto deleted = store.Write(prune);
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

}  // namespace

HousekeepingResult RunHousekeeping(store::Store& store, const RetentionOptions& options,
                                   metrics::Metrics* metrics, std::int64_t now_ms) {
  HousekeepingResult result;
  const std::int64_t sent_before = now_ms - options.outbox_retention_s * 1000;
  result.outbox_rows = InBatches(store, options.batch, [&](store::Db& tx) {
    return events::PruneSentOutbox(tx, sent_before, options.batch);
  });
  const std::int64_t used_before = now_ms - http::kIdempotencyKeyLifetimeMs;
  result.idempotency_keys = InBatches(store, options.batch, [&](store::Db& tx) {
    return http::ExpireIdempotencyKeys(tx, used_before, options.batch);
  });
  result.pages = store.ReclaimFreePages(options.vacuum_pages);
  if (metrics != nullptr) {
    metrics->store_pruned_rows.Add({{"table", "outbox"}})
        .Increment(static_cast<double>(result.outbox_rows));
    metrics->store_pruned_rows.Add({{"table", "idempotency_keys"}})
        .Increment(static_cast<double>(result.idempotency_keys));
  }
  if (result.outbox_rows + result.idempotency_keys + result.pages > 0) {
    log::Info("housekeeping", {{"outbox_rows", result.outbox_rows},
                               {"idempotency_keys", result.idempotency_keys},
                               {"pages_freed", result.pages}});
  }
  return result;
}

}  // namespace jilaf::service
