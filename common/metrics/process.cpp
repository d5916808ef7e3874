#include "common/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace jilaf::metrics {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::optional<double> ToNumber(std::string_view text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return static_cast<double>(value);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {name, help, type, {metric}};
}

}  // namespace

std::optional<ProcessSample> ParseProcStat(std::string_view stat, double ticks_per_second,
                                           double page_size, double boot_time_seconds) {
  // The command name (field 2) is in parentheses and may itself hold spaces and ')': the
  // numbered fields start after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  auto field = [&](std::size_t number) -> std::optional<double> {
    if (number < 3 || number - 3 >= fields.size()) return std::nullopt;
    return ToNumber(fields[number - 3]);
  };
  const auto utime = field(14), stime = field(15), start = field(22), vsize = field(23),
             rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcessSample sample;
  sample.cpu_seconds = (*utime + *stime) / ticks_per_second;
  sample.start_time_seconds = boot_time_seconds + *start / ticks_per_second;
  sample.virtual_bytes = *vsize;
  sample.resident_bytes = *rss * page_size;
  return sample;
}

std::optional<double> ParseBootTime(std::string_view proc_stat) {
  std::istringstream lines{std::string(proc_stat)};
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("btime ", 0) == 0) return ToNumber(std::string_view(line).substr(6));
  }
  return std::nullopt;
}

std::vector<prometheus::MetricFamily> CollectProcessFamilies() {
  const auto boot = ParseBootTime(ReadFile("/proc/stat"));
  if (!boot) return {};
  auto sample =
      ParseProcStat(ReadFile("/proc/self/stat"), static_cast<double>(::sysconf(_SC_CLK_TCK)),
                    static_cast<double>(::sysconf(_SC_PAGESIZE)), *boot);
  if (!sample) return {};
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++sample->open_fds;
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    sample->max_fds = static_cast<double>(limit.rlim_cur);
  }
  using prometheus::MetricType;
  return {
      Family("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
             MetricType::Counter, sample->cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::Gauge,
             sample->resident_bytes),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes", MetricType::Gauge,
             sample->virtual_bytes),
      Family("process_start_time_seconds", "Start time of the process since the Unix epoch",
             MetricType::Gauge, sample->start_time_seconds),
      Family("process_open_fds", "Open file descriptors", MetricType::Gauge, sample->open_fds),
      Family("process_max_fds", "Limit of open file descriptors", MetricType::Gauge,
             sample->max_fds),
  };
}

}  // namespace jilaf::metrics
