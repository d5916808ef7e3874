// The proof that the event stream is complete: the analytics consumer, reading only the topics
// of the real broker, reproduces every figure of each service's GET /v1/reports/fiscal-years/{fy}
// after the demo loaders filled that year through the APIs; a replay (same store from the
// earliest offset, or a fresh store) changes nothing; and a consumer that starts at the
// snapshots reaches the same figures.
//
// The broker is shared with every other e2e test (and earlier runs), so the test first reads the
// topics to find a fiscal year that no event mentions yet, and loads the demo into that year only.
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "common/events/cloud_event.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::vector<std::string> kServices = {"invitations", "projects", "missions"};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// Every scalar of a report by its JSON pointer.
void Flatten(const std::string& pointer, const json& value, std::map<std::string, json>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) Flatten(pointer + "/" + key, child, out);
  } else {
    out[pointer] = value;
  }
}

class AnalyticsE2e : public E2eTest {
 protected:
  // Runs the analytics binary; returns its standard output (its log goes to analytics.log).
  std::string Analytics(const std::string& args, int expected_status = 0) {
    const std::string out = dir_ + "/analytics.out";
    std::string shell_output;
    // In a subshell: RunCommand appends 2>&1, which must not send the log into the output.
    const int status = testing::RunCommand("(" + std::string(JILAF_ANALYTICS_BIN) + " " + args +
                                               " >" + out + " 2>>" + dir_ + "/analytics.log)",
                                           &shell_output);
    EXPECT_EQ(status, expected_status)
        << "analytics " << args << "\n"
        << shell_output << testing::TailFile(dir_ + "/analytics.log");
    return ReadAll(out);
  }

  // Reads every topic into `db` (group `group`) until caught up; returns how many events it
  // applied (duplicates recognised by the inbox are not counted).
  std::int64_t Consume(const std::string& db, const std::string& group,
                       const std::string& extra = {}) {
    const auto out = Analytics("consume --until-caught-up --timeout-ms 120000 --kafka-brokers " +
                               bootstrap_ + " --analytics-db " + db + " --consumer-group " + group +
                               " --log-level warn " + extra);
    const auto summary = json::parse(out, nullptr, false);
    EXPECT_TRUE(summary.is_object()) << out;
    return summary.is_object() ? summary.value("applied", std::int64_t{-1}) : -1;
  }

  json Export(const std::string& db, const std::string& service) {
    return json::parse(Analytics("report --analytics-db " + db + " --fiscal-year " +
                                 std::to_string(fy_) + " --format json --service " + service));
  }

  json ServiceReport(const RunningService& service) {
    const auto result =
        Call(service, "GET", "/v1/reports/fiscal-years/" + std::to_string(fy_), {}, staff_token_);
    EXPECT_EQ(result.status, 200) << result.body;
    return json::parse(result.body);
  }

  // True when the analytics export of every service equals the service's own report.
  bool AllEqual(const std::string& db, std::string* difference = nullptr) {
    for (std::size_t i = 0; i < kServices.size(); ++i) {
      const json expected = ServiceReport(*running_[i]);
      const json actual = Export(db, kServices[i]);
      if (expected != actual) {
        if (difference != nullptr) {
          *difference = kServices[i] + ": " + json::diff(expected, actual).dump();
        }
        return false;
      }
    }
    return true;
  }

  void RunLoader(const std::string& name) {
    const std::string command =
        "env JILAF_INVITATIONS_URL=http://127.0.0.1:" + std::to_string(running_[0]->http_port) +
        " JILAF_PROJECTS_URL=http://127.0.0.1:" + std::to_string(running_[1]->http_port) +
        " JILAF_MISSIONS_URL=http://127.0.0.1:" + std::to_string(running_[2]->http_port) +
        " JILAF_DEMO_TOKEN=" + staff_token_ + " JILAF_DEMO_ADMIN_TOKEN=" + admin_token_ +
        " JILAF_DEMO_REVIEWER_TOKEN=" + Token("staff", "e2e-reviewer") +
        " JILAF_DEMO_FISCAL_YEAR=" + std::to_string(fy_) + " /usr/bin/python3 " + JILAF_SOURCE_DIR +
        "/scripts/demo.d/" + name;
    std::string output;
    ASSERT_EQ(testing::RunCommand(command, &output), 0) << name << ":\n" << output;
  }

  // A fiscal year (and the one before, which the invitations demo also uses) that no event on
  // the broker mentions, found by reading every topic into a first analytics store.
  int UnusedFiscalYear(const std::string& db, const std::string& group) {
    Consume(db, group);
    std::set<int> used;
    for (const auto& year : json::parse(Analytics("years --analytics-db " + db))) {
      used.insert(year.get<int>());
    }
    std::mt19937 random(std::random_device{}());
    const int start = 2030 + static_cast<int>(random() % 60);
    for (int offset = 0; offset < 60; ++offset) {
      const int year = 2030 + (start - 2030 + offset) % 60;
      if (!used.contains(year) && !used.contains(year - 1)) return year;
    }
    ADD_FAILURE() << "every fiscal year from 2030 to 2089 is taken on this broker";
    return 0;
  }

  // One nomination through the API the way staff move it: the current ETag, then the move.
  testing::HttpResult Move(const RunningService& service, const std::string& collection,
                           const std::string& id, const std::string& to) {
    const auto current = Call(service, "GET", "/v1/" + collection + "/" + id, {}, staff_token_);
    return Call(service, "POST", "/v1/" + collection + "/" + id + "/transitions",
                json{{"to", to}}.dump(), staff_token_, {{"If-Match", current.Header("etag")}});
  }

  // Reports of every service and the analytics export, once the export agrees with them.
  std::map<std::string, json> AgreedFigures(const std::string& db, const std::string& group) {
    std::string difference;
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          Consume(db, group);
          return AllEqual(db, &difference);
        },
        seconds(240)))
        << difference;
    std::map<std::string, json> figures;
    for (std::size_t i = 0; i < kServices.size(); ++i) {
      figures[kServices[i]] = ServiceReport(*running_[i]);
      figures["analytics " + kServices[i]] = Export(db, kServices[i]);
    }
    return figures;
  }

  int fy_ = 0;
  std::string admin_token_;
  std::vector<RunningService*> running_;
};

TEST_F(AnalyticsE2e, RebuildsEveryFiscalYearReportFromTheTopicsAlone) {
  admin_token_ = Token("admin");
  running_ = {&StartInvitations(), &StartProjects(), &StartMissions()};
  const std::string run = events::NewUuid().substr(0, 8);
  const std::string store_a = dir_ + "/analytics-a.db";
  const std::string group_a = "analytics-e2e-" + run + "-a";
  fy_ = UnusedFiscalYear(store_a, group_a);
  ASSERT_NE(fy_, 0);

  // The demo year, through the public APIs only.
  RunLoader("10-invitations.py");
  RunLoader("20-projects.py");
  RunLoader("30-missions.py");
  const json invitations_report = ServiceReport(*running_[0]);
  ASSERT_GT(invitations_report["nominated"].get<int>(), 0);
  ASSERT_GT(invitations_report["completed"].get<int>(), 0);
  // The missions service builds its alumni from the invitations topic: wait until it has them all.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return ServiceReport(*running_[2])["alumni"]["new_alumni"] ==
               invitations_report["completed"];
      },
      seconds(120)));

  // Store A follows the topics as they fill (the relays publish asynchronously).
  std::string difference;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        Consume(store_a, group_a);
        return AllEqual(store_a, &difference);
      },
      seconds(240)))
      << difference;
  const json projects_report = ServiceReport(*running_[1]);
  EXPECT_GT(projects_report["totals"]["projects"].get<int>(), 0);
  EXPECT_GT(projects_report["totals"]["disbursed_jpy"].get<std::int64_t>(), 0);
  const json missions_report = ServiceReport(*running_[2]);
  EXPECT_GT(missions_report["missions"]["total"].get<int>(), 0);
  EXPECT_GT(missions_report["seminars"]["participants"].get<int>(), 0);
  EXPECT_GT(missions_report["education"]["certificates"].get<int>(), 0);
  EXPECT_GT(missions_report["alumni"]["invited"].get<int>(), 0);

  // Snapshots of every current entity; a consumer starting here needs nothing older.
  const std::string since = events::NowRfc3339();
  for (auto* service : running_) {
    const auto result = Call(*service, "POST", "/v1/admin/snapshots", "{}", admin_token_);
    ASSERT_EQ(result.status, 202) << service->name << ": " << result.body;
    EXPECT_GT(json::parse(result.body)["published"].get<int>(), 0) << result.body;
    EXPECT_EQ(Call(*service, "POST", "/v1/admin/snapshots", "{}", staff_token_).status, 403);
  }

  // Later changes, to entities the snapshots described and to new ones.
  const std::string year = std::to_string(fy_);
  const json programme = {
      {"fiscal_year", fy_},
      {"title", {{"ja", "分析用追加プログラム"}, {"en", "Analytics late programme"}}},
      {"track", "industrialized"},
      {"region", "Europe"},
      {"start_date", year + "-09-01"},
      {"end_date", year + "-09-20"},
      {"seats", 4},
      {"country_quotas", json::object()},
      {"host_organisations", {"RENGO"}},
      {"status", "open"}};
  const auto created = Call(*running_[0], "POST", "/v1/programmes", programme.dump(), staff_token_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string programme_id = json::parse(created.body)["id"];
  ASSERT_EQ(Nominate(*running_[0], programme_id, "Late-" + run).status, 201);
  const auto approved =
      json::parse(Call(*running_[1], "GET", "/v1/projects?status=approved&fiscal_year=" + year, {},
                       staff_token_)
                      .body);
  ASSERT_FALSE(approved["items"].empty()) << approved.dump();
  const std::string project_id = approved["items"][0]["id"];
  const json amendment = {{"reason", "Scope widened after the snapshot"},
                          {"budget", {{"amount", 98765432}, {"currency", "JPY"}}}};
  const auto amended = Call(*running_[1], "POST", "/v1/projects/" + project_id + "/amendments",
                            amendment.dump(), admin_token_);
  ASSERT_EQ(amended.status, 201) << amended.body;
  const json mission = {{"title", {{"ja", "追加調査団"}, {"en", "Late research mission"}}},
                        {"countries", {"LK"}},
                        {"start_date", year + "-12-01"},
                        {"end_date", year + "-12-05"},
                        {"objectives", {"Plantation workers' wages"}}};
  ASSERT_EQ(Call(*running_[2], "POST", "/v1/missions", mission.dump(), staff_token_).status, 201);

  // Snapshots change no figure: wait for the relays to have published them too.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        Consume(store_a, group_a);
        for (auto* service : running_) {
          if (Metric(*service, "jilaf_outbox_pending") != 0) return false;
        }
        return AllEqual(store_a, &difference);
      },
      seconds(240)))
      << difference;
  std::map<std::string, json> expected;
  for (std::size_t i = 0; i < kServices.size(); ++i) {
    expected[kServices[i]] = ServiceReport(*running_[i]);
  }
  // The later changes moved the figures (so the comparisons below test them).
  EXPECT_NE(expected["projects"]["totals"]["committed_jpy"],
            projects_report["totals"]["committed_jpy"]);
  EXPECT_EQ(expected["invitations"]["nominated"], invitations_report["nominated"].get<int>() + 1);
  EXPECT_EQ(expected["missions"]["missions"]["total"],
            missions_report["missions"]["total"].get<int>() + 1);

  // A fresh store reading everything from the earliest offset: the same figures, to the yen.
  const std::string store_b = dir_ + "/analytics-b.db";
  EXPECT_GT(Consume(store_b, "analytics-e2e-" + run + "-b"), 0);
  for (const auto& service : kServices) {
    EXPECT_EQ(Export(store_b, service), expected[service]) << service;
  }
  // The CSV export carries the same figures.
  std::map<std::string, json> csv_figures;
  std::istringstream csv(
      Analytics("report --analytics-db " + store_b + " --fiscal-year " + year + " --format csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "service,figure,value");
  while (std::getline(csv, line)) {
    const auto fields = CsvFields(line);
    ASSERT_EQ(fields.size(), 3u) << line;
    csv_figures[fields[0] + fields[1]] = json::parse(fields[2]);
  }
  std::map<std::string, json> report_figures;
  for (const auto& service : kServices) Flatten(service, expected[service], report_figures);
  EXPECT_EQ(csv_figures, report_figures);

  // Store A again from the earliest offset: the inbox recognises every event, nothing changes.
  EXPECT_EQ(Consume(store_a, group_a, "--from-earliest"), 0);
  for (const auto& service : kServices) {
    EXPECT_EQ(Export(store_a, service), expected[service]) << service;
  }

  // A consumer that starts at the snapshots (nothing older) reaches the same figures.
  const std::string store_c = dir_ + "/analytics-c.db";
  EXPECT_GT(Consume(store_c, "analytics-e2e-" + run + "-c", "--since " + since), 0);
  for (const auto& service : kServices) {
    EXPECT_EQ(Export(store_c, service), expected[service]) << service;
  }
}

TEST_F(AnalyticsE2e, ReportRefusesBadArguments) {
  const std::string db = dir_ + "/empty.db";
  Analytics("report --analytics-db " + db + " --fiscal-year 2026", 2);  // no store yet
  Analytics("report --analytics-db " + db + " --fiscal-year 2026 --format xml", 2);
  Analytics("report --analytics-db " + db + " --fiscal-year 2026 --service payroll", 2);
  Analytics("report --analytics-db " + db + " --fiscal-year 1900", 2);
  Analytics("consume --since yesterday --analytics-db " + db, 2);
  Analytics("summarise", 2);
  EXPECT_NE(Analytics("--help").find("--until-caught-up"), std::string::npos);
  // The notifications topic carries nothing the reports count: an empty year, all zeros.
  Consume(db, "analytics-e2e-" + events::NewUuid().substr(0, 8) + "-args",
          "--topics jilaf.notifications.events");
  const json empty = json::parse(
      Analytics("report --analytics-db " + db + " --fiscal-year 2026 --service projects"));
  EXPECT_EQ(empty["totals"]["projects"], 0);
  EXPECT_EQ(empty["from"], "2026-04-01");
}

TEST_F(AnalyticsE2e, EventLackingAReportFactGoesToItsOwnDeadLetterTopic) {
  const std::string key = "analytics-poison-" + events::NewUuid();
  // A paid tranche without its status or amount: the projects report cannot count it.
  ProduceMalformedEvent("jilaf.projects.events", "jilaf.projects.tranche.paid", key,
                        {{"tranche_id", key}, {"project_id", key}});
  const std::string db = dir_ + "/poison.db";
  const std::string group = "analytics-e2e-" + events::NewUuid().substr(0, 8) + "-poison";
  Consume(db, group, "--topics jilaf.projects.events");
  const auto dead = FindMessage("jilaf.analytics.dlq", key, seconds(60));
  ASSERT_FALSE(dead.empty()) << "no dead letter for " << key;
  EXPECT_EQ(dead.at("dlq_consumer"), group);
  EXPECT_EQ(dead.at("dlq_origin_topic"), "jilaf.projects.events");
  EXPECT_NE(dead.at("dlq_error").find("status"), std::string::npos) << dead.at("dlq_error");
  // The consumer moved on: caught up, and a replay into the same store applies nothing.
  EXPECT_EQ(Consume(db, group, "--topics jilaf.projects.events --from-earliest"), 0);
}

}  // namespace
}  // namespace jilaf::e2e

namespace jilaf::e2e {
namespace {

// Copies a closed analytics store (with its write-ahead log, if one was left).
void CopyStore(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(to + suffix);
  fs::copy_file(from, to);
  if (fs::exists(from + "-wal")) fs::copy_file(from + "-wal", to + "-wal");
}

// A store and its consumer group that disagree are reconciled (the group rewound to what the
// store lacks) or refused with the fix, never consumed into partial figures with exit status 0.
TEST_F(AnalyticsE2e, AStoreAndAGroupThatDisagreeAreReconciledOrRefused) {
  const std::string topic = "test.analytics-reconcile." + events::NewUuid().substr(0, 8);
  CreateTopic(topic);
  ProduceTestEvents(topic, 10);
  const std::string group = group_ + "-reconcile";
  const std::string topics = "--topics " + topic;
  const std::string a = dir_ + "/a.db";
  EXPECT_EQ(Consume(a, group, topics), 10);

  // A new, empty store under the group store A advanced reads everything again.
  EXPECT_EQ(Consume(dir_ + "/b.db", group, topics), 10);

  // Store A restored from a copy older than the group's position catches up from the copy's.
  CopyStore(a, dir_ + "/a-copy.db");
  ProduceTestEvents(topic, 5);
  EXPECT_EQ(Consume(a, group, topics), 5);
  CopyStore(dir_ + "/a-copy.db", a);
  EXPECT_EQ(Consume(a, group, topics), 5);
  EXPECT_EQ(Consume(a, group, topics), 0);  // and is then in step

  // Under another group store A would count everything twice: refused, naming the fix.
  const std::string consume = "consume --until-caught-up --timeout-ms 60000 --kafka-brokers " +
                              bootstrap_ + " " + topics + " --analytics-db ";
  Analytics(consume + a + " --consumer-group " + group + "-other", 2);
  EXPECT_NE(testing::TailFile(dir_ + "/analytics.log").find("--consumer-group " + group),
            std::string::npos);

  // Once the topic no longer starts at offset 0, a new store cannot be rebuilt from it...
  DeleteRecordsBefore(topic, 3);
  const std::string c = dir_ + "/c.db";
  Analytics(consume + c + " --consumer-group " + group + "-c", 2);
  EXPECT_NE(testing::TailFile(dir_ + "/analytics.log").find("--since"), std::string::npos);
  // ...except from a chosen start (a snapshot run): offsets 3 to 14.
  EXPECT_EQ(Consume(c, group + "-c", topics + " --since 0"), 12);
}

}  // namespace
}  // namespace jilaf::e2e

namespace jilaf::e2e {
namespace {

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Which of `needles` occur in `haystack`.
std::vector<std::string> Found(const std::string& haystack,
                               const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  for (const auto& needle : needles) {
    if (haystack.find(needle) != std::string::npos) found.push_back(needle);
  }
  return found;
}

}  // namespace

// Issue 19's "done when": a participant of the demo year who completed a programme, became an
// alumnus invited to the demo seminars and received e-mails is erased; afterwards none of their
// name, e-mail, passport number or birth date is in any service's database file (main file,
// WAL, shared memory), the analytics stores, the logs, or on any topic once the people topic has
// been compacted, while every fiscal-year report and the analytics export stay figure for figure.
TEST_F(AnalyticsE2e, AnErasedAlumnusLeavesNoPersonalDataAnywhereAndNoFigureChanges) {
  admin_token_ = Token("admin");
  const int smtp = StartSmtpSink();
  auto& notifications =
      StartNotificationsWith({"--smtp-port", std::to_string(smtp), "--dispatch-interval-ms", "50"});
  running_ = {&StartInvitations(), &StartProjects(), &StartMissions()};
  auto& invitations = *running_[0];
  auto& missions = *running_[2];
  const std::string run = events::NewUuid().substr(0, 8);
  const std::string store = dir_ + "/analytics-erasure.db";
  const std::string group = "analytics-e2e-" + run + "-erasure";
  fy_ = UnusedFiscalYear(store, group);
  ASSERT_NE(fy_, 0);
  const std::string year = std::to_string(fy_);

  // Mail to the participant when they complete and when they are invited as an alumnus, and an
  // inbox item naming them for staff.
  const std::string completed = "jilaf.invitations.nomination.completed";
  const std::string invited = "jilaf.missions.alumnus.invited";
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> templates = {
      {completed, "email", "Congratulations, {{data.candidate.given_name}}",
       "Dear {{data.candidate.given_name}} {{data.candidate.family_name}}, you completed it."},
      {completed, "inbox", "{{data.candidate.family_name}} completed",
       "{{data.candidate.given_name}} {{data.candidate.family_name}} ({{data.union}})"},
      {invited, "email", "An invitation for {{data.given_name}} {{data.family_name}}",
       "Dear {{data.given_name}}, you are invited to {{data.target_title.en}}."}};
  for (const auto& [type, channel, subject, body] : templates) {
    // Sample data to check the template against (these types have no built-in sample).
    const json sample = {{"candidate", {{"given_name", "Lan"}, {"family_name", "Nguyen"}}},
                         {"union", "VGCL"},
                         {"given_name", "Lan"},
                         {"family_name", "Nguyen"},
                         {"target_title", {{"en", "Seminar"}}}};
    for (const char* locale : {"ja", "en"}) {  // a rule needs its templates in both
      const auto saved =
          Call(notifications, "PUT", "/v1/templates/" + type + "/" + channel + "/" + locale,
               json{{"subject", subject}, {"body", body}, {"sample", sample}}.dump(), admin_token_);
      ASSERT_EQ(saved.status, 201) << saved.body;
    }
  }
  for (const auto& [type, channel, recipient] :
       std::vector<std::tuple<std::string, std::string, json>>{
           {completed, "email", {{"pointer", "/candidate/email"}}},
           {completed, "inbox", {{"role", "staff"}}},
           {invited, "email", {{"pointer", "/email"}}}}) {
    const json rule = {{"name", "Erasure test " + type + " " + channel},
                       {"event_type", type},
                       {"channel", channel},
                       {"locale", "en"},
                       {"operational", true},
                       {"recipients", {recipient}}};
    const auto created = Call(notifications, "POST", "/v1/rules", rule.dump(), admin_token_);
    ASSERT_EQ(created.status, 201) << created.body;
  }

  RunLoader("10-invitations.py");  // the demo year around our participant

  // The participant: a programme of the demo year, taken all the way to completion.
  const std::string family = "Erasmo" + run;
  const std::string given = "Kartini" + run;
  const std::string email = "kartini." + run + "@erasure.example.org";
  const std::string passport =
      "B" + std::to_string(1000000 + std::stoul(run.substr(0, 5), nullptr, 16) % 8999999);
  const std::string birth = "1979-02-13";  // before every demo birth date (1984-1998)
  const json programme = {
      {"fiscal_year", fy_},
      {"title", {{"ja", "消去試験プログラム"}, {"en", "Erasure test programme"}}},
      {"track", "developing"},
      {"region", "Asia"},
      {"start_date", year + "-10-01"},
      {"end_date", year + "-10-20"},
      {"seats", 2},
      {"country_quotas", json::object()},
      {"host_organisations", {"RENGO"}},
      {"status", "open"}};
  const auto created = Call(invitations, "POST", "/v1/programmes", programme.dump(), staff_token_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string programme_id = json::parse(created.body)["id"];
  const json nomination = {{"candidate",
                            {{"family_name", family},
                             {"given_name", given},
                             {"gender", "female"},
                             {"nationality", "ID"},
                             {"email", email},
                             {"languages", {"id", "en"}},
                             {"union", "KSPI"},
                             {"position", "Youth officer"},
                             {"date_of_birth", birth},
                             {"passport_number", passport}}},
                           {"nominating_organisation", {{"name", "KSPI"}, {"country", "ID"}}}};
  const auto nominated =
      Call(invitations, "POST", "/v1/programmes/" + programme_id + "/nominations",
           nomination.dump(), staff_token_);
  ASSERT_EQ(nominated.status, 201) << nominated.body;
  const std::string nomination_id = json::parse(nominated.body)["id"];
  const std::string person_id = json::parse(nominated.body)["person_id"];
  ASSERT_EQ(Move(invitations, "nominations", nomination_id, "screened").status, 200);
  ASSERT_EQ(Move(invitations, "programmes", programme_id, "selection").status, 200);
  for (const char* to : {"selected", "invited", "visa_applied", "visa_granted", "travel_booked"}) {
    ASSERT_EQ(Move(invitations, "nominations", nomination_id, to).status, 200) << to;
  }
  ASSERT_EQ(Move(invitations, "programmes", programme_id, "confirmed").status, 200);
  ASSERT_EQ(Move(invitations, "programmes", programme_id, "running").status, 200);
  ASSERT_EQ(Move(invitations, "nominations", nomination_id, "arrived").status, 200);
  ASSERT_EQ(Move(invitations, "programmes", programme_id, "completed").status, 200);

  // An alumnus, with their name from the people topic; then the demo seminars invite them.
  json alumnus;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto page = json::parse(
            Call(missions, "GET", "/v1/alumni?fiscal_year=" + year + "&country=ID&page_size=200",
                 {}, staff_token_)
                .body);
        for (const auto& item : page["items"]) {
          if (item["nomination_id"] == nomination_id) alumnus = item;
        }
        return !alumnus.is_null();
      },
      seconds(120)));
  EXPECT_EQ(alumnus["family_name"], family);
  EXPECT_EQ(alumnus["email"], email);
  RunLoader("30-missions.py");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        int to_them = 0;
        for (const auto& mail : Mails()) {
          if (mail.value("rcpt_tos", json::array()).dump().find(email) != std::string::npos) {
            ++to_them;
          }
        }
        return to_them >= 2;  // completion and at least one seminar invitation
      },
      seconds(120)))
      << Mails().size() << " mails";
  ASSERT_TRUE(WaitForInbox(notifications, {"nominations/" + nomination_id}, seconds(60)));

  const auto before = AgreedFigures(store, group);
  ASSERT_GT(before.at("invitations")["completed"].get<int>(), 0);
  ASSERT_GT(before.at("missions")["alumni"]["invited"].get<int>(), 0);

  // The erasure: admins only, audited.
  const std::string erasure = "/v1/people/" + person_id + "/erasure";
  EXPECT_EQ(Call(invitations, "POST", erasure, {}, staff_token_).status, 403);
  EXPECT_EQ(Call(invitations, "POST", "/v1/people/no-such-person/erasure", {}, admin_token_).status,
            404);
  ASSERT_EQ(Call(invitations, "POST", erasure, {}, admin_token_).status, 204);
  const auto audit = Call(invitations, "GET", "/v1/audit?page_size=200", {}, admin_token_);
  EXPECT_NE(audit.body.find("/v1/people/{id}/erasure"), std::string::npos) << audit.body;
  const auto erased = json::parse(
      Call(invitations, "GET", "/v1/nominations/" + nomination_id, {}, admin_token_).body);
  EXPECT_EQ(erased["candidate"]["family_name"], "(erased)");
  EXPECT_EQ(erased["status"], "completed");
  EXPECT_FALSE(erased["candidate"].contains("passport_number"));

  // Missions and notifications apply the tombstone.
  EventReader people(bootstrap_, "jilaf.invitations.people");
  people.ReadUntil(HasType(person_id, "jilaf.invitations.person.erased"), seconds(60));
  ASSERT_EQ(people.TypesFor(person_id).back(), "jilaf.invitations.person.erased");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto doc =
            json::parse(Call(missions, "GET", "/v1/alumni/" + alumnus["id"].get<std::string>(), {},
                             staff_token_)
                            .body);
        return doc.value("family_name", "") == "(erased)";
      },
      seconds(60)));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto deliveries =
            Call(notifications, "GET", "/v1/deliveries?page_size=200", {}, staff_token_).body;
        std::string inbox;
        for (const auto& item : Inbox(notifications)) inbox += item.dump();
        return Found(deliveries + inbox, {email, family, given}).empty();
      },
      seconds(60)));

  // Every figure as before: the services' reports, the export of the store that followed the
  // topics, and a fresh store reading everything from the earliest offset.
  const auto after = AgreedFigures(store, group);
  EXPECT_EQ(after, before);
  const std::string fresh = dir_ + "/analytics-fresh.db";
  EXPECT_GT(Consume(fresh, group + "-fresh"), 0);
  for (const auto& service : kServices) {
    EXPECT_EQ(Export(fresh, service), before.at(service)) << service;
  }

  // Compaction, forced: small segments, no lag (tombstones stay their day, so that consumers
  // which start later still learn of the erasure). Another erasure call
  // writes a second tombstone, which rolls the segment holding the person's records, so the
  // log cleaner may compact it; until it has, the topic still shows their records. The dump
  // reads every record of every topic up to its end (jilaf-topic-dump, as the contract check).
  SetTopicConfig("jilaf.invitations.people", {{"cleanup.policy", "compact"},
                                              {"retention.ms", "-1"},
                                              {"segment.ms", "100"},
                                              {"min.cleanable.dirty.ratio", "0.01"},
                                              {"min.compaction.lag.ms", "0"},
                                              {"delete.retention.ms", "86400000"}});
  const std::vector<std::string> personal = {family, given, email, passport, birth};
  auto dump = [&] {
    const std::string out = dir_ + "/topics.jsonl";
    std::string output;
    EXPECT_EQ(testing::RunCommand(std::string(JILAF_TOPIC_DUMP_BIN) + " --bootstrap " + bootstrap_ +
                                      " --out " + out,
                                  &output),
              0)
        << output;
    std::vector<json> records;
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);) records.push_back(json::parse(line));
    return records;
  };
  std::vector<json> records;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        EXPECT_EQ(Call(invitations, "POST", erasure, {}, admin_token_).status, 204);
        records = dump();
        for (const auto& record : records) {
          if (record["topic"] == "jilaf.invitations.people" &&
              !Found(record["value"].get<std::string>(), personal).empty()) {
            return false;
          }
        }
        return true;
      },
      seconds(180)))
      << "the people topic still holds the person's records after compaction was forced";
  // What the topics keep of the person: tombstones under their id on the people topic, and no
  // personal value anywhere (events since version 2 name people by id only).
  std::size_t tombstones = 0;
  std::size_t on_events_topics = 0;
  for (const auto& record : records) {
    const std::string topic = record["topic"];
    EXPECT_EQ(Found(record["value"].get<std::string>() + record["headers"].dump(), personal),
              std::vector<std::string>{})
        << topic << " " << record["key"];
    if (topic == "jilaf.invitations.people" && record["key"] == person_id) {
      EXPECT_EQ(record["value"], "") << "a record of the erased person that is not a tombstone";
      ++tombstones;
    }
    if (topic.ends_with(".events") && record.dump().find(nomination_id) != std::string::npos) {
      ++on_events_topics;
    }
  }
  EXPECT_GE(tombstones, 1u);
  EXPECT_GE(on_events_topics, 10u);  // the dump did read the person's history, by id

  // Nor any file of any service once stopped (a clean stop checkpoints the WAL), nor the
  // analytics stores, nor a log.
  // Each service rewrites its file after the erasure (VACUUM): wait for that first.
  for (const auto* service : {&invitations, &missions, &notifications}) {
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          return ReadBytes(service->log).find("database file scrubbed after an erasure") !=
                 std::string::npos;
        },
        seconds(60)))
        << service->name;
  }
  std::vector<std::string> files = {store, fresh, store + "-wal", fresh + "-wal",
                                    dir_ + "/analytics.log"};
  for (auto& service : services_) {
    Stop(*service);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      files.push_back(service->db + suffix);
    files.push_back(service->log);
  }
  for (const auto& file : files) {
    if (!std::filesystem::exists(file)) continue;
    EXPECT_EQ(Found(ReadBytes(file), personal), std::vector<std::string>{}) << file;
  }
}

}  // namespace jilaf::e2e
