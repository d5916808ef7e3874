#include "common/util/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace jilaf::util {

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NowRfc3339() {
  const auto ms = NowUnixMs();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  // The "YYYY-MM-DDTHH:MM:SS" part changes once a second: formatted once per thread and second
  // (every access line and event carries a timestamp).
  thread_local std::time_t cached_secs = -1;
  thread_local char prefix[64];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  const int millis = static_cast<int>(ms % 1000);
  std::string out;
  out.reserve(24);
  out += prefix;
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

}  // namespace jilaf::util
