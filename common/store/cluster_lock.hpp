#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/store/store.hpp"

namespace jilaf::store {

/// The advisory-lock key of a cluster-wide lock name (64-bit FNV-1a of the name).
[[nodiscard]] std::int64_t ClusterLockKey(std::string_view name);

/// A lock that at most one process of a cluster holds, named by a string
/// ("jilaf.outbox.invitations"): the replicas of a service elect with it the one that runs a
/// job meant to run once per cluster (the outbox relay, the scheduler's tasks).
///
/// On PostgreSQL it is a session advisory lock on a connection of its own, kept for as long as
/// the process lives and holds it: a process that dies (SIGKILL included) closes its connection
/// and the server releases the lock, so another replica takes it at its next attempt. On SQLite
/// it is always held: one process owns the file. Used by one thread at a time.
class ClusterLock {
 public:
  ClusterLock(const StoreOptions& options, std::string name,
              std::chrono::milliseconds check_interval = std::chrono::seconds(1));
  ClusterLock(const ClusterLock&) = delete;
  ClusterLock& operator=(const ClusterLock&) = delete;
  ~ClusterLock();

  /// True while this process holds the lock. When not held, tries to take it (without waiting);
  /// when held, checks that its connection still stands. Either happens at most once per
  /// check interval; in between the last answer is returned. A lost connection means the lock
  /// is lost (the server has released it). Never throws: a store error reads "not held", and
  /// the next attempt comes after kRetryInterval instead of the check interval, so the lock is
  /// taken again as soon as a restarted server answers.
  [[nodiscard]] bool Hold();
  static constexpr std::chrono::milliseconds kRetryInterval{100};
  /// Makes the next Hold() check at once instead of after the check interval (the caller saw
  /// the store fail: the lock's session may have ended with the server's).
  void CheckSoon() { next_check_ = {}; }
  /// Gives the lock up (the next Hold() tries to take it again).
  void Release();

  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  void SetHeld(bool held);

  StoreOptions options_;
  std::string name_;
  std::int64_t key_;
  std::chrono::milliseconds check_interval_;
  std::unique_ptr<Db> db_;
  bool held_ = false;
  bool failing_ = false;  // the last attempt failed on a store error
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace jilaf::store
