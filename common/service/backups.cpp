#include "common/service/backups.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "common/http/problem.hpp"
#include "common/log/log.hpp"
#include "common/store/backup.hpp"
#include "common/util/clock.hpp"

namespace jilaf::service {
namespace {

// 20261205T043512123Z: sorts by time, and no characters a shell or a URL would quote.
std::string FileTime(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y%m%dT%H%M%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, "%03dZ", static_cast<int>(unix_ms % 1000));
  return std::string(text, length) + millis;
}

// Events of the copy not yet acknowledged by the broker: a service started on the copy
// publishes them (again, if the original did after the copy; consumers drop repeats by id).
std::int64_t PendingEvents(const std::string& file) {
  store::Db copy(file, store::Db::Options{true, 5000});
  auto stmt = copy.Prepare("SELECT count(*) FROM outbox WHERE sent_ms IS NULL");
  return stmt.Step() ? stmt.Int(0) : 0;
}

}  // namespace

void AddBackupRoute(http::Router& router, store::Store& store, metrics::Metrics& metrics,
                    const std::string& service_name, const std::string& directory) {
  auto running = std::make_shared<std::mutex>();
  router.Add(
      http::Method::kPost, "/v1/admin/backups", auth::Access::kAdmin,
      [&store, &metrics, service_name, directory, running](http::Request& request) {
        if (directory.empty()) {
          throw http::ApiError::Conflict("backups are off: set --backup-dir (JILAF_BACKUP_DIR)");
        }
        std::unique_lock lock(*running, std::try_to_lock);
        if (!lock.owns_lock()) throw http::ApiError::Conflict("a backup is already running");
        const std::int64_t started_ms = util::NowUnixMs();
        const std::string name = service_name + "-" + FileTime(started_ms) + ".db";
        const std::string path = (std::filesystem::path(directory) / name).string();
        std::int64_t bytes = 0;
        try {
          bytes = store::BackupDatabase(store.options().path, path);
        } catch (const store::StoreError& error) {
          metrics.store_backups.Add({{"outcome", "failed"}}).Increment();
          throw http::ApiError::ServiceUnavailable("the backup failed; see the service's log")
              .Internal(error.what());
        }
        const std::int64_t pending = PendingEvents(path);
        const std::int64_t took_ms = util::NowUnixMs() - started_ms;
        metrics.store_backups.Add({{"outcome", "written"}}).Increment();
        metrics.store_last_backup_time.Set(static_cast<double>(util::NowUnixMs()) / 1000.0);
        log::Info("backup written", {{"file", path},
                                     {"bytes", bytes},
                                     {"outbox_pending", pending},
                                     {"duration_ms", took_ms},
                                     {"sub", request.principal.subject}});
        return http::Response::Json(201, {{"file", name},
                                          {"path", path},
                                          {"bytes", bytes},
                                          {"outbox_pending", pending},
                                          {"duration_ms", took_ms}});
      });
}

}  // namespace jilaf::service
