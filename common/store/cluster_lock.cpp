#include "common/store/cluster_lock.hpp"

#include <algorithm>
#include <bit>

#include "common/log/log.hpp"
#include "common/store/postgres.hpp"

namespace jilaf::store {

std::int64_t ClusterLockKey(std::string_view name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return std::bit_cast<std::int64_t>(hash);
}

ClusterLock::ClusterLock(const StoreOptions& options, std::string name,
                         std::chrono::milliseconds check_interval)
    : options_(options),
      name_(std::move(name)),
      key_(ClusterLockKey(name_)),
      check_interval_(check_interval) {}

ClusterLock::~ClusterLock() { Release(); }

void ClusterLock::SetHeld(bool held) {
  if (held_ != held) {
    if (held) {
      log::Info("cluster lock taken: this replica runs the job", {{"lock", name_}});
    } else {
      log::Warn("cluster lock not held any more", {{"lock", name_}});
    }
  }
  held_ = held;
}

bool ClusterLock::Hold() {
  if (options_.engine == Engine::kSqlite) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return held_;
  next_check_ = now + check_interval_;
  try {
    if (db_ && !db_->Usable()) db_.reset();
    if (!db_) {
      SetHeld(false);  // a new session holds nothing
      pg::ConnectionOptions connection{options_.database_url, options_.database_password_file,
                                       options_.database_name, options_.connect_timeout_s};
      db_ = std::make_unique<Db>(connection);
    }
    if (held_) {
      // A round trip proves the session (and so the lock) still stands.
      auto alive = db_->Prepare("SELECT 1");
      (void)alive.Step();
      failing_ = false;
      return true;
    }
    auto take = db_->Prepare("SELECT pg_try_advisory_lock(?::bigint)::int");
    take.Bind(1, key_);
    SetHeld(take.Step() && take.Int(0) == 1);
    failing_ = false;
  } catch (const StoreError& error) {
    // Logged once per outage: it is tried again every kRetryInterval meanwhile.
    if (!failing_)
      log::Warn("cluster lock unavailable", {{"lock", name_}, {"error", error.what()}});
    failing_ = true;
    db_.reset();  // closing the session releases whatever it held
    SetHeld(false);
    next_check_ = std::min(next_check_, now + kRetryInterval);
  }
  return held_;
}

void ClusterLock::Release() {
  if (!db_) return;
  try {
    if (held_) {
      auto release = db_->Prepare("SELECT pg_advisory_unlock(?::bigint)");
      release.Bind(1, key_);
      (void)release.Step();
    }
  } catch (const StoreError&) {  // a lost session has released it already
  }
  db_.reset();
  if (held_) log::Info("cluster lock given up", {{"lock", name_}});
  held_ = false;
  next_check_ = {};
}

}  // namespace jilaf::store
