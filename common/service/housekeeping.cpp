#include "common/service/housekeeping.hpp"

#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/log/log.hpp"

namespace jilaf::service {

HousekeepingResult RunHousekeeping(store::Store& store, const RetentionOptions& options,
                                   metrics::Metrics* metrics, std::int64_t now_ms) {
  HousekeepingResult result;
  const std::int64_t sent_before = now_ms - options.outbox_retention_s * 1000;
  result.outbox_rows = store::WriteInBatches(store, options.batch, 100, [&](store::Db& tx) {
    return events::PruneSentOutbox(tx, sent_before, options.batch);
  });
  const std::int64_t used_before = now_ms - http::kIdempotencyKeyLifetimeMs;
  result.idempotency_keys = store::WriteInBatches(store, options.batch, 100, [&](store::Db& tx) {
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
