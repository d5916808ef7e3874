#include "common/store/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/store/sqlite.hpp"

namespace jilaf::store {
namespace {

// VACUUM INTO leaves syncing to the caller (SQLite's documentation says so): without it a power
// cut after the answer could leave a backup that was reported written but is not on disk.
void SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw StoreError(SQLITE_IOERR, "cannot open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw StoreError(SQLITE_IOERR, "cannot sync " + path + ": " + std::strerror(error));
}

}  // namespace

std::int64_t BackupDatabase(const std::string& source, const std::string& destination) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  if (fs::exists(destination, ignored)) {
    throw StoreError(SQLITE_CANTOPEN, "backup file " + destination + " already exists");
  }
  const std::string partial = destination + ".partial";
  fs::remove(partial, ignored);  // left by an interrupted backup
  try {
    {
      // A connection of its own: VACUUM refuses to run inside a transaction, and the store's
      // pooled readers always hold one.
      Db db(source, Db::Options{true, 5000});
      auto stmt = db.Prepare("VACUUM INTO ?");
      stmt.Bind(1, partial);
      stmt.Run();
    }
    {
      Db copy(partial, Db::Options{true, 5000});
      auto check = copy.Prepare("PRAGMA quick_check");
      const std::string verdict = check.Step() ? check.Text(0) : std::string("no answer");
      if (verdict != "ok") {
        throw StoreError(SQLITE_CORRUPT, "backup copy failed its check: " + verdict);
      }
    }
    SyncPath(partial, false);
    fs::rename(partial, destination);
    const fs::path parent = fs::path(destination).parent_path();
    SyncPath(parent.empty() ? std::string(".") : parent.string(), true);
  } catch (const fs::filesystem_error& error) {
    fs::remove(partial, ignored);
    throw StoreError(SQLITE_IOERR, std::string("backup: ") + error.what());
  } catch (...) {
    fs::remove(partial, ignored);
    throw;
  }
  return static_cast<std::int64_t>(fs::file_size(destination));
}

}  // namespace jilaf::store
