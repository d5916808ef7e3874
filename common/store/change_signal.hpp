#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/store/store.hpp"

namespace jilaf::store {

/// Tells a process that any session of the database has committed a change announced on
/// `channel`, so that it need not poll for the other replicas' writes.
///
/// On PostgreSQL: LISTEN on a connection and a thread of its own; a commit that ran
/// pg_notify(channel) (e.g. from a trigger) calls `on_signal` as soon as the server delivers it.
/// A lost connection is opened again with a short bounded backoff (kRetryMin..kRetryMax), and
/// `on_signal` is called once it listens again: what was committed while it did not listen is
/// announced that way, and the callback learns that the server answers again. On SQLite it does
/// nothing (one process owns the file; its own commits are its only writes) and Listening() is
/// false. `on_signal` runs on the signal's thread and must not block.
class ChangeSignal {
 public:
  static constexpr std::chrono::milliseconds kRetryMin{50};
  static constexpr std::chrono::milliseconds kRetryMax{500};

  ChangeSignal(const StoreOptions& options, std::string channel, std::function<void()> on_signal);
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;
  ~ChangeSignal();

  void Start();
  void Stop();
  /// True while the connection listens (a change committed now will be signalled).
  [[nodiscard]] bool Listening() const { return listening_.load(); }

 private:
  void Run();

  StoreOptions options_;
  std::string channel_;
  std::function<void()> on_signal_;
  std::atomic<bool> running_{false};
  std::atomic<bool> listening_{false};
  int stop_fd_ = -1;  // an eventfd: Stop() cuts the thread's poll() short
  std::thread thread_;
};

}  // namespace jilaf::store
