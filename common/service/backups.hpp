#pragma once

#include <memory>
#include <string>

#include "common/http/router.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/store.hpp"

namespace jilaf::service {

/// Adds `POST /v1/admin/backups` (admin role) to the admin port's router: a consistent copy of
/// the store's SQLite file, taken while the service keeps writing, lands in `directory` as
/// `<service>-<UTC time>.db` (docs/operations.md, "Backup and restore"). One backup runs at a
/// time; another asked meanwhile gets 409. With an empty `directory` the route answers 409
/// naming the setting (--backup-dir). Counts outcomes in `metrics`
/// (jilaf_store_backups_total, jilaf_store_last_backup_timestamp_seconds).
void AddBackupRoute(http::Router& router, store::Store& store, metrics::Metrics& metrics,
                    const std::string& service_name, const std::string& directory);

}  // namespace jilaf::service
