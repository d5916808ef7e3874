#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace jilaf::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Sets the minimum level written; the default is kInfo.
void SetLevel(Level level);
/// Parses "debug", "info", "warn" or "error"; returns false for anything else.
[[nodiscard]] bool ParseLevel(std::string_view text, Level& out);
/// Sets the `service` field stamped on every line.
void SetService(std::string_view service);

/// Writes one JSON object per line to stderr: ts, level, service, msg and the given fields.
/// Debug and info lines are buffered and written by a background thread within moments;
/// warnings and errors are written before Write returns. The buffer is flushed at exit.
void Write(Level level, std::string_view msg, nlohmann::json fields = nlohmann::json::object());

inline void Debug(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kDebug, msg, std::move(fields));
}
inline void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kInfo, msg, std::move(fields));
}
inline void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kWarn, msg, std::move(fields));
}
inline void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kError, msg, std::move(fields));
}

/// Writes an already built JSON object as one line (used by the access log).
void WriteRaw(const nlohmann::json& line);
/// Writes one already serialised JSON object (no newline) as a line: the access log's fast path.
void WriteLine(std::string line);
/// Writes out every buffered line before returning.
void Flush();

}  // namespace jilaf::log
