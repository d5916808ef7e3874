#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "common/metrics/metrics.hpp"
#include "common/metrics/process.hpp"
#include "common/util/build_info.hpp"

namespace jilaf::metrics {
namespace {

// The value of the one sample `name` (no labels) in an exposition; NaN if absent.
double Sample(const std::string& text, const std::string& name) {
  const std::regex line("(^|\n)" + name + " ([^\n]+)");
  std::smatch match;
  if (!std::regex_search(text, match, line)) return std::nan("");
  return std::stod(match[2]);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(ProcessMetrics, ParseProcStatReadsFieldsAfterTheCommandName) {
  // The command name may hold spaces and parentheses; fields count from the last ')'.
  const std::string stat =
      "4242 (jilaf (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 9 0 "
      "360000 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto sample = ParseProcStat(stat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(sample.has_value());
  EXPECT_DOUBLE_EQ(sample->cpu_seconds, 4.0);  // (250 + 150) ticks at 100 per second
  EXPECT_DOUBLE_EQ(sample->start_time_seconds, 1'700'000'000 + 3600.0);
  EXPECT_DOUBLE_EQ(sample->virtual_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(sample->resident_bytes, 2560.0 * 4096);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2", 100, 4096, 0).has_value());
}

TEST(ProcessMetrics, ParseBootTimeFindsTheBtimeLine) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1796400000\nprocesses 9\n"), 1796400000.0);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").has_value());
}

TEST(ProcessMetrics, EveryExpositionCarriesTheProcessFamiliesOfThisProcess) {
  Metrics metrics;
  const auto text = metrics.Serialize();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  EXPECT_GE(Sample(text, "process_cpu_seconds_total"), 0.0);
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1024.0 * 1024);
  EXPECT_GT(Sample(text, "process_virtual_memory_bytes"), 0.0);
  EXPECT_GE(Sample(text, "process_open_fds"), 3.0);  // at least stdin, stdout, stderr
  EXPECT_GE(Sample(text, "process_max_fds"), Sample(text, "process_open_fds"));
  const double started = Sample(text, "process_start_time_seconds");
  EXPECT_LE(started, NowSeconds() + 1);
  EXPECT_GT(started, NowSeconds() - 7 * 86400);  // this test process, not the machine's boot
  // Opening one more file shows up in the next scrape: the families are read at each call.
  const double before = Sample(metrics.Serialize(), "process_open_fds");
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(Sample(metrics.Serialize(), "process_open_fds"), before + 1);
  std::fclose(file);
}

TEST(BuildInfo, ExposesVersionAndCommitAsOneConstantSample) {
  Metrics metrics;
  const auto text = metrics.Serialize();
  EXPECT_NE(text.find("# TYPE jilaf_build_info gauge"), std::string::npos);
  const std::string sample = "jilaf_build_info{commit=\"" + std::string(util::BuildCommit()) +
                             "\",version=\"" + std::string(util::BuildVersion()) + "\"} 1\n";
  EXPECT_NE(text.find(sample), std::string::npos) << text;
}

TEST(BuildInfo, CommitComesFromGitInACheckout) {
  const std::string commit(util::BuildCommit());
  EXPECT_TRUE(std::regex_match(commit, std::regex("[0-9a-f]{40}|unknown"))) << commit;
  // The tests are built from the repository: a checkout, so the commit is known. (Outside one,
  // e.g. the container build that leaves .git out, it reads "unknown".)
  std::string probe = std::string("git -C ") + JILAF_SOURCE_DIR + " rev-parse HEAD >/dev/null 2>&1";
  if (std::system(probe.c_str()) == 0) {
    EXPECT_NE(commit, "unknown");
  }
  EXPECT_TRUE(std::regex_match(std::string(util::BuildVersion()), std::regex(R"(\d+\.\d+\.\d+)")));
}

}  // namespace
}  // namespace jilaf::metrics
