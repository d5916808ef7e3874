#include "common/service/scheduler.hpp"

#include <algorithm>

#include "common/log/log.hpp"

namespace jilaf::service {

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Every(std::string name, std::chrono::milliseconds period,
                      std::function<void()> task) {
  tasks_.push_back({std::move(name), period, std::move(task), {}});
}

void Scheduler::RunTask(Task& task) {
  try {
    task.run();
  } catch (const std::exception& error) {
    log::Error("scheduled task failed", {{"task", task.name}, {"error", error.what()}});
  }
}

void Scheduler::Start() {
  if (tasks_.empty() || thread_.joinable()) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto& task : tasks_) task.next = now;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto now = std::chrono::steady_clock::now();
      for (auto& task : tasks_) {
        if (task.next <= now) {
          lock.unlock();
          // Another replica holding the cluster lock runs this tick: skipped here.
          if (!lock_ || lock_->Hold()) RunTask(task);
          lock.lock();
          task.next = std::chrono::steady_clock::now() + task.period;
          if (stopping_) return;
        }
      }
      const auto next =
          std::min_element(tasks_.begin(), tasks_.end(), [](const Task& a, const Task& b) {
            return a.next < b.next;
          })->next;
      cv_.wait_until(lock, next, [this] { return stopping_; });
    }
  });
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lock_) lock_->Release();  // another replica takes the tasks over at its next tick
}

void Scheduler::RunAllNow() {
  for (auto& task : tasks_) RunTask(task);
}

}  // namespace jilaf::service
