// jilaf-bench-latency: event latency from the 201 of a nomination write on invitations to the
// moment its notification is committed in the notifications service's database.
//
// Both instants are taken in this process on one steady clock: posters record when each 201
// arrives; a watcher polls the notifications database read-only (WAL readers see committed
// transactions only) every 200 us and records when each nomination's notification first
// appears. With --notifications-database-url the service runs on PostgreSQL and the watcher
// polls its database there (a read-committed query sees committed rows only) instead. The
// error of a figure is at most one poll interval plus one query (well under 1 ms).
// Prints one JSON line: {"events":N,"p50_ms":..,"p99_ms":..,"max_ms":..}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/store/dialect.hpp"
#include "common/store/postgres.hpp"
#include "common/store/sqlite.hpp"
#include "tests/support/http_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace jilaf;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "jilaf-bench-latency: " << message << "\n";
  std::exit(1);
}

struct Options {
  int port = 0;
  std::string token;
  std::string programme;
  std::string db;
  std::string database_url;  // PostgreSQL instead of `db`
  std::string password_file;
  int events = 2000;
  int warmup = 30;
  int posters = 4;
  double rate = 100;  // events per second, all posters together
};

struct Timings {
  std::mutex mutex;
  std::unordered_map<std::string, Clock::time_point> created;  // nomination id -> 201 received
  std::unordered_map<std::string, Clock::time_point> seen;     // nomination id -> committed
};

// Each nomination names a person invitations has not seen before, in every run (a run's tag is
// its start time): a person nominated again already has a record on the notifications side, so
// the second run of the same names skipped the wait for a new person's record that the first
// run timed (docs/benchmarks.md, "Event latency").
std::string NominationBody(const std::string& run, int i) {
  const std::string name = "Bench" + run + "x" + std::to_string(i);
  return nlohmann::json{{"candidate",
                         {{"family_name", name},
                          {"given_name", "Lan"},
                          {"nationality", "VN"},
                          {"email", "lan." + name + "@example.org"},
                          {"union", "VGCL"},
                          {"position", "Youth officer"}}},
                        {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}}
      .dump();
}

// Posts `count` nominations at `rate` per second spread over the posters, the people numbered from
// `first` on.
void Post(const Options& options, int first, int count, double rate, Timings& timings) {
  static const std::string run =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  std::atomic<int> next{0};
  const auto start = Clock::now();
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::thread> posters;
  for (int p = 0; p < options.posters; ++p) {
    posters.emplace_back([&] {
      testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(options.port));
      const std::vector<std::pair<std::string, std::string>> headers = {
          {"Authorization", "Bearer " + options.token}, {"Content-Type", "application/json"}};
      for (int i = next++; i < count; i = next++) {
        std::this_thread::sleep_until(start +
                                      std::chrono::duration_cast<Clock::duration>(interval * i));
        const auto result = client.RequestHonouringRetryAfter(
            "POST", "/v1/programmes/" + options.programme + "/nominations",
            NominationBody(run, first + i), headers);
        const auto now = Clock::now();
        if (result.status != 201) Fail("POST answered " + std::to_string(result.status));
        const auto id = nlohmann::json::parse(result.body).at("id").get<std::string>();
        std::lock_guard lock(timings.mutex);
        timings.created.emplace(id, now);
      }
    });
  }
  for (auto& poster : posters) poster.join();
}

// Polls the notifications database until every created nomination has its notification.
void Watch(const Options& options, Timings& timings, std::atomic<bool>& posting,
           std::int64_t& cursor) {
  std::unique_ptr<store::Db> connection;
  if (options.database_url.empty()) {
    connection = std::make_unique<store::Db>(options.db, store::Db::Options{true, 5000});
  } else {
    store::pg::ConnectionOptions pg;
    pg.url = options.database_url;
    pg.password_file = options.password_file;
    connection = std::make_unique<store::Db>(pg);
  }
  store::Db& db = *connection;
  const std::string query = "SELECT seq, " + store::JsonText(db, "doc", "event.subject") +
                            " FROM inbox_notifications WHERE seq > ? ORDER BY seq";
  const auto deadline_after_posting = std::chrono::seconds(60);
  Clock::time_point posted_at{};
  // Several notifications replicas write at once: a row's seq is drawn at its insert, so a row
  // can commit after rows above it were read. Each poll reads from `floor`, below which every
  // seq was read, not from the highest read; a gap older than two seconds is a seq whose
  // transaction rolled back (a retried event), and `floor` moves past it. Rows read again change
  // nothing: a nomination keeps the instant it was first seen.
  std::int64_t floor = cursor;
  std::set<std::int64_t> above;   // seqs read above `floor`
  Clock::time_point gap_since{};  // when the lowest gap was first seen; {}: no gap
  for (;;) {
    {
      auto stmt = db.Prepare(query);
      stmt.Bind(1, floor);
      const auto now = Clock::now();
      std::lock_guard lock(timings.mutex);
      while (stmt.Step()) {
        above.insert(stmt.Int(0));
        cursor = std::max(cursor, stmt.Int(0));
        const std::string subject = stmt.Text(1);
        if (subject.rfind("nominations/", 0) == 0) timings.seen.emplace(subject.substr(12), now);
      }
      while (!above.empty() && *above.begin() <= floor + 1) {
        floor = std::max(floor, *above.begin());
        above.erase(above.begin());
      }
      if (above.empty()) {
        gap_since = {};
      } else if (gap_since == Clock::time_point{}) {
        gap_since = now;
      } else if (now - gap_since > std::chrono::seconds(2)) {
        floor = *above.begin() - 1;  // given up on: the next poll moves past it
        gap_since = {};
      }
    }
    if (!posting) {
      if (posted_at == Clock::time_point{}) posted_at = Clock::now();
      std::lock_guard lock(timings.mutex);
      bool all = true;
      for (const auto& [id, at] : timings.created) {
        if (!timings.seen.contains(id)) {
          all = false;
          break;
        }
      }
      if (all) return;
      if (Clock::now() - posted_at > deadline_after_posting) {
        Fail("timed out waiting for notifications");
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// One phase: post `count` events and wait for all of them to be seen; returns latencies in ms.
std::vector<double> Phase(const Options& options, int first, int count, std::int64_t& cursor) {
  Timings timings;
  std::atomic<bool> posting{true};
  std::thread watcher([&] { Watch(options, timings, posting, cursor); });
  Post(options, first, count, options.rate, timings);
  posting = false;
  watcher.join();
  std::vector<double> latencies;
  for (const auto& [id, created] : timings.created) {
    // A negative value (seen before the poster thread took its timestamp) counts as zero.
    latencies.push_back(std::max(
        0.0, std::chrono::duration<double, std::milli>(timings.seen[id] - created).count()));
  }
  std::sort(latencies.begin(), latencies.end());
  return latencies;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--port") {
      options.port = std::atoi(value.c_str());
    } else if (flag == "--token") {
      options.token = value;
    } else if (flag == "--programme") {
      options.programme = value;
    } else if (flag == "--notifications-db") {
      options.db = value;
    } else if (flag == "--notifications-database-url") {
      options.database_url = value;
    } else if (flag == "--database-password-file") {
      options.password_file = value;
    } else if (flag == "--events") {
      options.events = std::atoi(value.c_str());
    } else if (flag == "--rate") {
      options.rate = std::atof(value.c_str());
    } else if (flag == "--posters") {
      options.posters = std::atoi(value.c_str());
    } else {
      Fail("unknown flag " + flag);
    }
  }
  if (options.port == 0 || options.token.empty() || options.programme.empty() ||
      (options.db.empty() && options.database_url.empty())) {
    Fail(
        "usage: jilaf-bench-latency --port P --token T --programme ID (--notifications-db PATH |"
        " --notifications-database-url URL --database-password-file FILE)"
        " [--events N] [--rate R] [--posters K]");
  }
  std::int64_t cursor = 0;
  // Warm-up: also waits until the consumer has caught up with any backlog on the topic.
  (void)Phase(options, 0, options.warmup, cursor);
  const auto latencies = Phase(options, options.warmup, options.events, cursor);
  std::cout << nlohmann::json{{"events", latencies.size()},
                              {"p50_ms", Percentile(latencies, 0.50)},
                              {"p99_ms", Percentile(latencies, 0.99)},
                              {"max_ms", latencies.empty() ? 0.0 : latencies.back()}}
                   .dump()
            << std::endl;
  return 0;
}
