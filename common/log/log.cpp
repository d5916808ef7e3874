#include "common/log/log.hpp"

#include "common/util/clock.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace jilaf::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mutex;
std::string g_service = "jilaf";

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// Lines go to stderr through a buffer that a background thread writes out, so that request
// threads never wait on a write(2) of their own and a busy server writes many access lines per
// system call. The background thread is woken by the first line after a quiet spell and then
// gathers lines for up to kGatherWindow (or until kWakeBytes are pending) before it writes: waking
// it for every line cost a thread switch per request (8 % of a loaded io thread in the read
// profile, docs/benchmarks.md). Warnings and errors (and Flush) write the buffer synchronously, so
// the lines that explain a crash are out before it happens; at exit the buffer is flushed. Order is
// kept: whoever writes takes the pending text as a whole, under one writer lock.
class Sink {
 public:
  static constexpr auto kGatherWindow = std::chrono::milliseconds(20);
  static constexpr std::size_t kWakeBytes = 64 * 1024;

  Sink() {
    std::thread([this] { Run(); }).detach();
    std::atexit([] { Get().Flush(); });
  }

  static Sink& Get() {
    static Sink* sink = new Sink();  // never destroyed: threads may log during exit
    return *sink;
  }

  void Append(std::string_view line, bool synchronous) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      wake = pending_.empty();
      pending_.append(line);
      pending_.push_back('\n');
      wake = wake || pending_.size() >= kWakeBytes;
    }
    if (synchronous) {
      Flush();
    } else if (wake) {
      cv_.notify_one();
    }
  }

  void Flush() {
    std::lock_guard writer(writer_mutex_);
    {
      std::lock_guard lock(mutex_);
      out_.swap(pending_);  // both keep their capacity: no allocation per flush
    }
    WriteAll(out_);
    out_.clear();
  }

 private:
  void Run() {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return !pending_.empty(); });
        cv_.wait_for(lock, kGatherWindow, [this] { return pending_.size() >= kWakeBytes; });
      }
      Flush();
    }
  }

  static void WriteAll(std::string_view text) {
    while (!text.empty()) {
      const auto n = ::write(STDERR_FILENO, text.data(), text.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // nowhere left to report it
      }
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::string pending_;
  std::mutex writer_mutex_;
  std::string out_;  // guarded by writer_mutex_
};

void Emit(std::string_view text, Level level) { Sink::Get().Append(text, level >= Level::kWarn); }

}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }

bool ParseLevel(std::string_view text, Level& out) {
  if (text == "debug") {
    out = Level::kDebug;
  } else if (text == "info") {
    out = Level::kInfo;
  } else if (text == "warn") {
    out = Level::kWarn;
  } else if (text == "error") {
    out = Level::kError;
  } else {
    return false;
  }
  return true;
}

void SetService(std::string_view service) {
  std::lock_guard lock(g_mutex);
  g_service = std::string(service);
}

void Write(Level level, std::string_view msg, nlohmann::json fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = util::NowRfc3339();
  line["level"] = LevelName(level);
  {
    std::lock_guard lock(g_mutex);
    line["service"] = g_service;
  }
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  }
  Emit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), level);
}

void WriteLine(std::string line) { Emit(line, Level::kInfo); }

void WriteRaw(const nlohmann::json& line) {
  Emit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), Level::kInfo);
}

void Flush() { Sink::Get().Flush(); }

}  // namespace jilaf::log
