#include "common/util/calendar.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>

#include "common/util/clock.hpp"

namespace jilaf::util {
namespace {

std::mutex g_mutex;  // guards g_zone and the TZ variable
std::string g_zone;  // empty until the first use or SetBusinessTimeZone
std::atomic<bool> g_fixed_clock{false};
std::atomic<std::int64_t> g_fixed_ms{0};

bool IsZoneNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '+' || c == '/';
}

void ApplyLocked(const std::string& name) {
  // glibc reads the zone's TZif file named by TZ; localtime_r then uses it.
  ::setenv("TZ", name.c_str(), 1);
  ::tzset();
  g_zone = name;
}

void EnsureZoneLocked() {
  if (g_zone.empty()) ApplyLocked(std::string(kDefaultBusinessTimeZone));
}

}  // namespace

std::optional<std::string> CheckTimeZone(const std::string& name) {
  const std::string shown = "'" + name + "'";
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
      name.find("..") != std::string::npos || name.find("//") != std::string::npos) {
    return shown + " is not an IANA time zone name such as Asia/Tokyo";
  }
  for (char c : name) {
    if (!IsZoneNameChar(c)) return shown + " is not an IANA time zone name such as Asia/Tokyo";
  }
  const char* tzdir = std::getenv("TZDIR");
  const std::string dir = tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
  std::ifstream file(dir + "/" + name, std::ios::binary);
  char magic[4] = {};
  if (!file.read(magic, sizeof magic) || std::string_view(magic, 4) != "TZif") {
    return shown + " is not a time zone known to this system (no TZif file " + dir + "/" + name +
           "; is tzdata installed?)";
  }
  return std::nullopt;
}

std::optional<std::string> SetBusinessTimeZone(const std::string& name) {
  if (auto error = CheckTimeZone(name)) return error;
  std::lock_guard lock(g_mutex);
  ApplyLocked(name);
  return std::nullopt;
}

std::string BusinessTimeZone() {
  std::lock_guard lock(g_mutex);
  EnsureZoneLocked();
  return g_zone;
}

std::string BusinessDate(std::int64_t unix_ms) {
  // Floor division: an instant before the epoch belongs to the second that starts before it.
  const std::time_t secs =
      static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000));
  std::tm tm{};
  {
    std::lock_guard lock(g_mutex);
    EnsureZoneLocked();
    localtime_r(&secs, &tm);
  }
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return text;
}

std::string BusinessToday() {
  return BusinessDate(g_fixed_clock.load() ? g_fixed_ms.load() : NowUnixMs());
}

int FiscalYearOf(std::string_view date) {
  const int year = std::atoi(std::string(date.substr(0, 4)).c_str());
  const int month = date.size() >= 7 ? std::atoi(std::string(date.substr(5, 2)).c_str()) : 4;
  return month >= 4 ? year : year - 1;
}

std::pair<std::string, std::string> FiscalYearBounds(int fiscal_year) {
  return {std::to_string(fiscal_year) + "-04-01", std::to_string(fiscal_year + 1) + "-03-31"};
}

ScopedBusinessClock::ScopedBusinessClock(std::int64_t unix_ms) {
  g_fixed_ms = unix_ms;
  g_fixed_clock = true;
}

ScopedBusinessClock::~ScopedBusinessClock() { g_fixed_clock = false; }

}  // namespace jilaf::util
