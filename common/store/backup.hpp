#pragma once

#include <cstdint>
#include <string>

namespace jilaf::store {

/// Writes a consistent copy of the SQLite database at `source` to `destination` while other
/// connections keep writing: `VACUUM INTO` on a connection of its own reads one snapshot, so
/// the copy holds every transaction committed before it began and none after. The copy is
/// written beside `destination` under a temporary name, checked (`PRAGMA quick_check`), synced
/// to disk and only then renamed into place, so `destination` is either absent or complete.
/// Returns the copy's size in bytes. Throws StoreError (the destination exists, the disk is
/// full, the copy does not check).
std::int64_t BackupDatabase(const std::string& source, const std::string& destination);

}  // namespace jilaf::store
