// analytics: rebuilds every service's yearly report from the event topics alone.
//   analytics consume  reads the topics into its own SQLite store (inbox, dead letters)
//   analytics report   exports a fiscal year's reports as JSON or CSV
//   analytics years    lists the fiscal years the store holds
#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "common/config/flags.hpp"
#include "common/events/consumer.hpp"
#include "common/events/kafka_config.hpp"
#include "common/log/log.hpp"
#include "common/metrics/metrics.hpp"
#include "tools/analytics/group_offsets.hpp"
#include "tools/analytics/projection.hpp"
#include "tools/analytics/reconcile.hpp"
#include "tools/analytics/reports.hpp"

namespace {

using namespace jilaf;  // NOLINT(google-build-using-namespace): a composition root

std::atomic<bool> g_stop{false};

struct ConsumeConfig {
  std::string db = "var/analytics.db";
  std::string brokers = "127.0.0.1:9092";
  std::string group = "analytics";
  std::string topics =
      "jilaf.invitations.events,jilaf.projects.events,jilaf.missions.events,"
      "jilaf.notifications.events";
  std::string dead_letter_topic = "jilaf.analytics.dlq";
  bool from_earliest = false;
  std::string since;
  bool until_caught_up = false;
  std::int64_t timeout_ms = 600000;
  std::string log_level = "info";
  events::KafkaSecurity kafka_security;
};

struct ReportConfig {
  std::string db = "var/analytics.db";
  std::int64_t fiscal_year = 0;
  std::string format = "json";
  std::string service;
};

void RegisterConsume(config::Flags& flags, ConsumeConfig& c) {
  flags.String("analytics-db", &c.db, "SQLite file of the analytics store (created if missing).");
  flags.String("kafka-brokers", &c.brokers, "Kafka bootstrap servers.");
  events::RegisterSecurityFlags(flags, c.kafka_security);
  flags.String("consumer-group", &c.group,
               "Consumer group and inbox name; a new name reads the topics from the start.");
  flags.String("topics", &c.topics, "Comma-separated topics to read.");
  flags.String("dead-letter-topic", &c.dead_letter_topic,
               "Where events that cannot be folded go, with headers naming why.");
  flags.Bool("from-earliest", &c.from_earliest,
             "Rewind the group to the start of every topic first (a replay; the inbox skips what "
             "the store already holds).");
  flags.String("since", &c.since,
               "Rewind the group to the first event at or after this time (RFC 3339 UTC, e.g. "
               "2026-11-29T17:00:00Z or Unix milliseconds): start from a snapshot.");
  flags.Bool("until-caught-up", &c.until_caught_up,
             "Exit once every partition's end (as of the start) is applied and committed.");
  flags.Int("timeout-ms", &c.timeout_ms, 1000, 24LL * 3600 * 1000,
            "With --until-caught-up: give up (exit 1) after this long.");
  flags.String("log-level", &c.log_level, "debug, info, warn or error.");
}

void RegisterReport(config::Flags& flags, ReportConfig& c) {
  flags.String("analytics-db", &c.db, "SQLite file of the analytics store.");
  flags.Int("fiscal-year", &c.fiscal_year, 1989, 2100, "The fiscal year (April to March).");
  flags.String("format", &c.format, "json or csv.");
  flags.String("service", &c.service, "invitations, projects or missions (default: all three).");
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// RFC 3339 UTC ("2026-11-29T17:00:00Z", optional fraction) or Unix milliseconds.
std::optional<std::int64_t> ParseSince(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    return std::stoll(text);
  }
  std::tm tm{};
  int millis = 0;
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  if (in.peek() == '.') {
    in.get();
    std::string digits;
    while (std::isdigit(in.peek())) digits += static_cast<char>(in.get());
    digits = (digits + "000").substr(0, 3);
    millis = std::stoi(digits);
  }
  if (in.get() != 'Z') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

std::vector<char*> SubArgs(int argc, char** argv) {
  // Flags parses argv[1..]; drop the subcommand so it sees only the flags.
  std::vector<char*> out = {argv[0]};
  for (int i = 2; i < argc; ++i) out.push_back(argv[i]);
  return out;
}

int Consume(int argc, char** argv) {
  ConsumeConfig c;
  config::Flags flags(
      "analytics consume",
      "Reads every topic into the analytics store through the platform's consumer.");
  RegisterConsume(flags, c);
  auto args = SubArgs(argc, argv);
  flags.ParseOrExit(static_cast<int>(args.size()), args.data());
  log::Level level = log::Level::kInfo;
  if (!log::ParseLevel(c.log_level, level)) {
    std::cerr << "analytics: --log-level must be debug, info, warn or error\n";
    return 2;
  }
  log::SetLevel(level);
  log::SetService("analytics");
  std::optional<std::int64_t> since;
  if (!c.since.empty() && !(since = ParseSince(c.since))) {
    std::cerr << "analytics: --since must be RFC 3339 UTC (2026-11-29T17:00:00Z) or Unix ms\n";
    return 2;
  }
  if (since && c.from_earliest) {
    std::cerr << "analytics: give --from-earliest or --since, not both\n";
    return 2;
  }
  const auto topics = Split(c.topics);
  if (topics.empty()) {
    std::cerr << "analytics: --topics names no topic\n";
    return 2;
  }
  try {
    events::SetProcessKafkaSecurity(events::SecurityProperties(c.kafka_security));
  } catch (const std::exception& error) {
    std::cerr << "analytics: " << error.what() << "\n";
    return 2;
  }
  try {
    store::Store store({c.db}, {events::InboxMigrations(), analytics::Migrations()});
    metrics::Metrics metrics;
    analytics::GroupOffsets offsets(c.brokers, c.group, topics);
    const auto reconciliation = analytics::Reconcile(
        c.group, store.Read([&](store::Db& db) { return analytics::ReadStoreState(db, c.group); }),
        offsets.Positions(), c.from_earliest || since.has_value());
    if (reconciliation.refusal) {
      std::cerr << "analytics: " << *reconciliation.refusal << "\n";
      return 2;
    }
    std::vector<std::tuple<std::string, int, std::int64_t>> rewinds;
    for (const auto& r : reconciliation.rewinds) {
      log::Warn(
          "the group is ahead of the store: re-reading from the store's position",
          {{"topic", r.topic}, {"partition", r.partition}, {"committed", r.from}, {"from", r.to}});
      rewinds.emplace_back(r.topic, r.partition, r.to);
    }
    offsets.RewindTo(rewinds);
    if (c.from_earliest) offsets.RewindToEarliest();
    if (since) offsets.RewindToTime(*since);
    const auto targets = offsets.Positions();
    events::ConsumerOptions options;
    options.name = c.group;
    options.topics = topics;
    options.brokers = c.brokers;
    options.dead_letter_topic = c.dead_letter_topic;
    // A fold that refuses an event refuses it every time (its data lacks a fact): one retry is
    // enough before the dead letter; a busy or failing store is still retried without limit.
    options.max_attempts = 2;
    options.retry_backoff = std::chrono::milliseconds(50);
    // Runs only for events the inbox has not seen: a replay into the same store applies none.
    std::atomic<std::int64_t> applied{0};
    events::Consumer consumer(
        store, options,
        [&applied](store::Db& tx, const events::CloudEvent& event,
                   const events::MessageOrigin& origin) {
          analytics::Apply(tx, event);
          analytics::RecordPosition(tx, origin);
          ++applied;
        },
        metrics);
    std::signal(SIGINT, [](int) { g_stop = true; });
    std::signal(SIGTERM, [](int) { g_stop = true; });
    consumer.Start();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(c.timeout_ms);
    int status = 0;
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (!c.until_caught_up) continue;
      if (offsets.Reached(targets)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        log::Error("not caught up before --timeout-ms", {{"timeout_ms", c.timeout_ms}});
        status = 1;
        break;
      }
    }
    consumer.Stop();
    store.Stop();
    log::Info("analytics consumer stopped", {{"caught_up", status == 0 && c.until_caught_up}});
    std::cout << nlohmann::json{{"applied", applied.load()},
                                {"caught_up", status == 0},
                                {"rewound_partitions", reconciliation.rewinds.size()}}
                     .dump()
              << "\n";
    return status;
  } catch (const std::exception& error) {
    std::cerr << "analytics: " << error.what() << "\n";
    return 1;
  }
}

int Report(int argc, char** argv) {
  ReportConfig c;
  config::Flags flags("analytics report",
                      "Exports a fiscal year's reports, the same figures as each service's "
                      "GET /v1/reports/fiscal-years/{fy}.");
  RegisterReport(flags, c);
  auto args = SubArgs(argc, argv);
  flags.ParseOrExit(static_cast<int>(args.size()), args.data());
  if (c.fiscal_year == 0) {
    std::cerr << "analytics: --fiscal-year is required\n";
    return 2;
  }
  if (c.format != "json" && c.format != "csv") {
    std::cerr << "analytics: --format must be json or csv\n";
    return 2;
  }
  std::vector<std::string> services = analytics::ReportServices();
  if (!c.service.empty()) {
    if (std::find(services.begin(), services.end(), c.service) == services.end()) {
      std::cerr << "analytics: --service must be invitations, projects or missions\n";
      return 2;
    }
    services = {c.service};
  }
  if (!std::ifstream(c.db)) {
    std::cerr << "analytics: no analytics store at " << c.db << " (run analytics consume)\n";
    return 2;
  }
  try {
    store::Store store({c.db}, {events::InboxMigrations(), analytics::Migrations()});
    store.Read([&](store::Db& db) {
      nlohmann::json all = nlohmann::json::object();
      std::string csv = analytics::CsvHeader();
      for (const auto& service : services) {
        auto report = analytics::BuildReport(db, service, c.fiscal_year);
        csv += analytics::CsvRows(service, report);
        all[service] = std::move(report);
      }
      if (c.format == "csv") {
        std::cout << csv;
      } else {
        std::cout << (c.service.empty() ? all : all[c.service]).dump(2) << "\n";
      }
      return 0;
    });
    store.Stop();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "analytics: " << error.what() << "\n";
    return 1;
  }
}

int Years(int argc, char** argv) {
  std::string db = "var/analytics.db";
  config::Flags flags("analytics years", "Lists the fiscal years the analytics store holds.");
  flags.String("analytics-db", &db, "SQLite file of the analytics store.");
  auto args = SubArgs(argc, argv);
  flags.ParseOrExit(static_cast<int>(args.size()), args.data());
  if (!std::ifstream(db)) {
    std::cerr << "analytics: no analytics store at " << db << "\n";
    return 2;
  }
  store::Store store({db}, {events::InboxMigrations(), analytics::Migrations()});
  const auto years = store.Read([](store::Db& d) { return analytics::FiscalYears(d); });
  std::cout << nlohmann::json(years).dump() << "\n";
  store.Stop();
  return 0;
}

void Usage() {
  ConsumeConfig consume;
  ReportConfig report;
  config::Flags consume_flags("analytics consume",
                              "Reads every topic from the earliest offset into the analytics "
                              "store (inbox dedup, dead letters to --dead-letter-topic).");
  RegisterConsume(consume_flags, consume);
  config::Flags report_flags("analytics report",
                             "Exports each yearly report as JSON or CSV (service,figure,value).");
  RegisterReport(report_flags, report);
  std::cout << "Usage: analytics consume|report|years [flags]\n\n"
               "Rebuilds every service's GET /v1/reports/fiscal-years/{fy} from the event "
               "topics alone.\n\n"
            << consume_flags.Usage() << "\n"
            << report_flags.Usage() << "\n"
            << "analytics years [--analytics-db FILE]: the fiscal years the store holds (JSON).\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "consume") return Consume(argc, argv);
  if (command == "report") return Report(argc, argv);
  if (command == "years") return Years(argc, argv);
  if (command == "--help" || command == "-h" || command == "help") {
    Usage();
    return 0;
  }
  std::cerr << "analytics: give a command: consume, report or years (--help for more)\n";
  return 2;
}
