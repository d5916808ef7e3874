#include "common/log/log.hpp"

#include "common/util/clock.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

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

// One fwrite of the line with its newline: stderr is unbuffered, so that is one write(2) per
// line instead of two, and lines from different threads never interleave.
void Emit(std::string text) {
  text.push_back('\n');
  std::lock_guard lock(g_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);  // no system call while stderr is unbuffered; kept if it ever is not
}

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
  Emit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void WriteLine(std::string line) { Emit(std::move(line)); }

void WriteRaw(const nlohmann::json& line) {
  Emit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace jilaf::log
