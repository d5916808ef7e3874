#include "common/util/failpoint.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace jilaf::util {

#ifndef JILAF_FAIL_POINTS

bool ArmFailPoints(std::string_view spec) { return spec.empty(); }

#else

namespace {

struct Point {
  std::string name;
  std::int64_t fire_on = 1;
  std::int64_t hits = 0;
};

std::atomic<bool> armed{false};
std::once_flag env_read;
std::mutex points_mutex;
std::vector<Point> points;  // guarded by points_mutex

bool Parse(std::string_view spec, std::vector<Point>& out) {
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    Point point;
    const auto at = item.find('@');
    if (at != std::string_view::npos) {
      const auto count = item.substr(at + 1);
      const auto [end, error] =
          std::from_chars(count.data(), count.data() + count.size(), point.fire_on);
      if (error != std::errc() || end != count.data() + count.size() || point.fire_on < 1) {
        return false;
      }
      item = item.substr(0, at);
    }
    if (item.empty()) return false;
    point.name = std::string(item);
    out.push_back(std::move(point));
  }
  return true;
}

void ReadEnvironment() {
  const char* spec = std::getenv("JILAF_FAILPOINT");
  if (spec == nullptr || *spec == '\0') return;
  if (!ArmFailPoints(spec)) {
    // A typo must not silently turn a crash test into a pass.
    std::fprintf(stderr, "JILAF_FAILPOINT: malformed spec '%s' (want name[@N][,...])\n", spec);
    std::_Exit(2);
  }
}

}  // namespace

bool ArmFailPoints(std::string_view spec) {
  std::vector<Point> parsed;
  if (!Parse(spec, parsed)) return false;
  std::lock_guard lock(points_mutex);
  points = std::move(parsed);
  armed.store(!points.empty(), std::memory_order_relaxed);
  return true;
}

void FailPoint(std::string_view name) {
  std::call_once(env_read, ReadEnvironment);
  if (!armed.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(points_mutex);
  for (auto& point : points) {
    if (point.name != name || ++point.hits != point.fire_on) continue;
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"msg\":\"failpoint hit: killing the process\","
                 "\"failpoint\":\"%s\",\"hit\":%lld}\n",
                 point.name.c_str(), static_cast<long long>(point.hits));
    std::fflush(stderr);
    ::kill(::getpid(), SIGKILL);
  }
}

#endif  // JILAF_FAIL_POINTS

}  // namespace jilaf::util
