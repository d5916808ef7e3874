#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/store/cluster_lock.hpp"

namespace jilaf::service {

/// Runs named tasks periodically on one thread of its own (never on an io thread), e.g. the
/// scan that emits `*.overdue` events. A task that throws is logged and runs again next period.
/// With a cluster lock (several replicas on one PostgreSQL database), only the replica holding
/// the lock runs the tasks; the others skip every tick until it dies and one of them takes over.
class Scheduler {
 public:
  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  /// Adds a task; call before Start().
  void Every(std::string name, std::chrono::milliseconds period, std::function<void()> task);
  /// Runs the tasks only while `lock` is held (tried at every tick); call before Start().
  void SetClusterLock(std::unique_ptr<store::ClusterLock> lock) { lock_ = std::move(lock); }
  void Start();
  /// Waits for a running task to finish, then stops.
  void Stop();
  /// Runs every task once now, on the caller's thread (tests, admin triggers).
  void RunAllNow();

 private:
  struct Task {
    std::string name;
    std::chrono::milliseconds period;
    std::function<void()> run;
    std::chrono::steady_clock::time_point next;
  };
  static void RunTask(Task& task);

  std::vector<Task> tasks_;
  std::unique_ptr<store::ClusterLock> lock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace jilaf::service
