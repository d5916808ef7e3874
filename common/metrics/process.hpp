#pragma once

#include <prometheus/metric_family.h>

#include <optional>
#include <string_view>
#include <vector>

namespace jilaf::metrics {

/// What /proc says about this process, in the units of the Prometheus process metrics.
struct ProcessSample {
  double cpu_seconds = 0;         // user + system time
  double resident_bytes = 0;      // resident set size
  double virtual_bytes = 0;       // virtual memory size
  double start_time_seconds = 0;  // since the Unix epoch
  double open_fds = 0;
  double max_fds = 0;
};

/// Reads the fields of `/proc/<pid>/stat` text: user and system time (`ticks_per_second`), the
/// start time (ticks after `boot_time_seconds`, the `btime` of /proc/stat), virtual size and
/// resident pages (`page_size`). nullopt if the text is not a stat line.
std::optional<ProcessSample> ParseProcStat(std::string_view stat, double ticks_per_second,
                                           double page_size, double boot_time_seconds);

/// The `btime` line of /proc/stat (boot time, seconds since the epoch); nullopt if absent.
std::optional<double> ParseBootTime(std::string_view proc_stat);

/// The standard process families (process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds,
/// process_max_fds), read from /proc/self at each call. Empty where /proc is not available.
std::vector<prometheus::MetricFamily> CollectProcessFamilies();

}  // namespace jilaf::metrics
