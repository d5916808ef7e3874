// The analytics projection: events and snapshots fold to the same state in any order the topics
// can hold, and the reports read that state with the services' definitions.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/events/consumer.hpp"
#include "tests/support/process.hpp"
#include "tools/analytics/projection.hpp"
#include "tools/analytics/reconcile.hpp"
#include "tools/analytics/reports.hpp"

namespace jilaf::analytics {
namespace {

using nlohmann::json;

events::CloudEvent Event(const std::string& type, json data) {
  return events::MakeEvent("/test", type, "key", "subject", "/schemas/x/v1.json", std::move(data));
}

json Nomination(const std::string& id, const std::string& status) {
  return {
      {"nomination_id", id},        {"programme_id", "p1"},
      {"fiscal_year", 2040},        {"track", "developing"},
      {"region", "Asia"},           {"status", status},
      {"previous_status", nullptr}, {"candidate", {{"nationality", "VN"}, {"gender", "female"}}}};
}

json Programme(const std::string& region) {
  return {
      {"programme_id", "p1"}, {"fiscal_year", 2040}, {"track", "developing"}, {"region", region}};
}

class AnalyticsProjection : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("jilaf-analytics"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Folds `events` into a fresh store and returns every service's report for FY2040.
  json Fold(const std::vector<events::CloudEvent>& events) {
    const std::string path = dir_ + "/a" + std::to_string(++stores_) + ".db";
    store::Store store({path}, {events::InboxMigrations(), Migrations()});
    for (const auto& event : events) {
      store.Write([&](store::Db& tx) { Apply(tx, event); });
    }
    json out;
    store.Read([&](store::Db& db) {
      for (const auto& service : ReportServices()) out[service] = BuildReport(db, service, 2040);
      return 0;
    });
    return out;
  }

  std::string dir_;
  int stores_ = 0;
};

TEST_F(AnalyticsProjection, SnapshotBeforeOrAfterChangesGivesTheSameReport) {
  const auto created = Event("jilaf.invitations.programme.created", Programme("Asia"));
  const auto submitted =
      Event("jilaf.invitations.nomination.submitted", Nomination("n1", "submitted"));
  const auto selected =
      Event("jilaf.invitations.nomination.selected", Nomination("n1", "selected"));
  const auto completed =
      Event("jilaf.invitations.nomination.completed", Nomination("n1", "completed"));
  const auto programme_snapshot = Event("jilaf.invitations.programme.snapshot", Programme("Asia"));
  const auto snapshot =
      Event("jilaf.invitations.nomination.snapshot", Nomination("n1", "selected"));

  const json changes_only = Fold({created, submitted, selected, completed});
  // Changes, then a snapshot of the state they led to, then the later change.
  const json changes_then_snapshot =
      Fold({created, submitted, selected, programme_snapshot, snapshot, completed});
  // Only the snapshot and what came after it: what a consumer starting late sees.
  const json snapshot_then_changes = Fold({programme_snapshot, snapshot, completed});
  EXPECT_EQ(changes_only, changes_then_snapshot);
  EXPECT_EQ(changes_only, snapshot_then_changes);
  const json& report = changes_only["invitations"];
  EXPECT_EQ(report["nominated"], 1);
  EXPECT_EQ(report["completed"], 1);
  EXPECT_EQ(report["by_region"]["Asia"]["selected"], 1);
  // The alumnus a completion creates counts once, whichever events announced it.
  EXPECT_EQ(changes_only["missions"]["alumni"]["new_alumni"], 1);
}

TEST_F(AnalyticsProjection, ProgrammeRegionFollowsItsLatestEvent) {
  const json report =
      Fold({Event("jilaf.invitations.programme.created", Programme("Asia")),
            Event("jilaf.invitations.nomination.submitted", Nomination("n1", "submitted")),
            Event("jilaf.invitations.programme.updated", Programme("Africa"))});
  EXPECT_EQ(report["invitations"]["by_region"].size(), 1u);
  EXPECT_EQ(report["invitations"]["by_region"]["Africa"]["nominated"], 1);
}

TEST_F(AnalyticsProjection, DeletedNominationLeavesTheReport) {
  const json report =
      Fold({Event("jilaf.invitations.programme.created", Programme("Asia")),
            Event("jilaf.invitations.nomination.submitted", Nomination("n1", "submitted")),
            Event("jilaf.invitations.nomination.deleted",
                  {{"nomination_id", "n1"}, {"programme_id", "p1"}, {"fiscal_year", 2040}})});
  EXPECT_EQ(report["invitations"]["nominated"], 0);
}

TEST_F(AnalyticsProjection, SeminarSnapshotReplacesItsRegistrations) {
  const json seminar = {
      {"seminar_id", "s1"}, {"fiscal_year", 2040}, {"status", "registration_open"}};
  auto registration = [](const std::string& id, const std::string& status, json alumnus) {
    return json{{"seminar_id", "s1"},    {"registration_id", id}, {"status", status},
                {"alumnus_id", alumnus}, {"country", "TH"},       {"fiscal_year", 2040}};
  };
  json snapshot = seminar;
  snapshot["status"] = "held";
  snapshot["registrations"] = {
      {{"registration_id", "r1"}, {"status", "cancelled"}, {"alumnus_id", "a1"}, {"country", "TH"}},
      {{"registration_id", "r2"},
       {"status", "registered"},
       {"alumnus_id", nullptr},
       {"country", "TH"}}};
  const json by_events = Fold(
      {Event("jilaf.missions.seminar.created", seminar),
       Event("jilaf.missions.registration.registered", registration("r1", "registered", "a1")),
       Event("jilaf.missions.registration.cancelled", registration("r1", "cancelled", "a1")),
       Event("jilaf.missions.registration.registered", registration("r2", "registered", nullptr)),
       Event("jilaf.missions.seminar.held", [&] {
         json held = seminar;
         held["status"] = "held";
         return held;
       }())});
  const json by_snapshot =
      Fold({Event("jilaf.missions.seminar.created", seminar),
            Event("jilaf.missions.registration.registered", registration("r9", "registered", "a9")),
            Event("jilaf.missions.seminar.snapshot", snapshot)});
  EXPECT_EQ(by_events["missions"], by_snapshot["missions"]);
  EXPECT_EQ(by_events["missions"]["seminars"]["participants"], 1);
  EXPECT_EQ(by_events["missions"]["seminars"]["held"], 1);
  EXPECT_EQ(by_events["missions"]["alumni"]["participating"], 0);
}

TEST_F(AnalyticsProjection, PaidTrancheCountsUnderItsProjectsCurrentArea) {
  const json project = {{"project_id", "pr1"},
                        {"status", "active"},
                        {"fiscal_year", 2040},
                        {"area", "other"},
                        {"country", "KH"},
                        {"support_type", "financing"},
                        {"budget", {{"amount_jpy", 1000000}}}};
  json tranche = {{"tranche_id", "t1"},
                  {"project_id", "pr1"},
                  {"status", "paid"},
                  {"amount_jpy", 400000},
                  {"value_date", "2041-03-31"}};
  json amended = project;
  amended["area"] = "industrial_relations";
  amended["budget"]["amount_jpy"] = 1200000;
  const json report = Fold({Event("jilaf.projects.project.active", project),
                            Event("jilaf.projects.tranche.paid", tranche),
                            Event("jilaf.projects.project.amended", amended)})["projects"];
  EXPECT_EQ(report["totals"]["projects"], 1);
  EXPECT_EQ(report["totals"]["committed_jpy"], 1200000);
  EXPECT_EQ(report["totals"]["disbursed_jpy"], 400000);
  EXPECT_EQ(report["by_area"]["industrial_relations"]["disbursed_jpy"], 400000);
  EXPECT_FALSE(report["by_area"].contains("other"));
}

TEST_F(AnalyticsProjection, KnownTypeWithoutItsFactsIsRefused) {
  const std::string path = dir_ + "/bad.db";
  store::Store store({path}, {events::InboxMigrations(), Migrations()});
  const auto bad = Event("jilaf.invitations.nomination.selected", {{"nomination_id", "n1"}});
  EXPECT_THROW(store.Write([&](store::Db& tx) { Apply(tx, bad); }), std::invalid_argument);
  // Types no report needs are ignored, not refused.
  EXPECT_NO_THROW(store.Write([&](store::Db& tx) {
    Apply(tx, Event("jilaf.notifications.delivery.sent", {{"x", 1}}));
  }));
}

TEST(AnalyticsCsv, EveryScalarIsOneRowNamedByItsPointer) {
  const json report = {{"fiscal_year", 2040},
                       {"by_country", {{"JP", {{"nominated", 2}}}}},
                       {"note", "a, \"quoted\" text"},
                       {"rate", 0.5}};
  EXPECT_EQ(CsvRows("invitations", report),
            "invitations,/by_country/JP/nominated,2\n"
            "invitations,/fiscal_year,2040\n"
            "invitations,/note,\"\"\"a, \\\"\"quoted\\\"\" text\"\"\"\n"
            "invitations,/rate,0.5\n");
}

}  // namespace
}  // namespace jilaf::analytics

namespace jilaf::analytics {
namespace {

PartitionPosition At(std::int64_t committed, std::int64_t low, std::int64_t high) {
  return {"jilaf.invitations.events", 0, committed, low, high};
}

// An empty store under a group another store advanced: re-read from the log start.
TEST(AnalyticsReconcile, AnEmptyStoreUnderAnAdvancedGroupIsRebuiltFromTheStart) {
  const auto r = Reconcile("analytics", {}, {At(120, 0, 120)}, false);
  ASSERT_FALSE(r.refusal);
  ASSERT_EQ(r.rewinds.size(), 1u);
  EXPECT_EQ(r.rewinds[0].from, 120);
  EXPECT_EQ(r.rewinds[0].to, 0);
}

// A store restored from an older copy: re-read from where the copy stops.
TEST(AnalyticsReconcile, AStoreBehindItsGroupIsCaughtUpFromItsOwnPosition) {
  StoreState store;
  store.applied[{"jilaf.invitations.events", 0}] = 80;
  store.consumers = {"analytics"};
  const auto r = Reconcile("analytics", store, {At(120, 0, 130)}, false);
  ASSERT_FALSE(r.refusal);
  ASSERT_EQ(r.rewinds.size(), 1u);
  EXPECT_EQ(r.rewinds[0].to, 80);
  // A store ahead of its group (the group was reset) needs nothing: the inbox skips repeats.
  EXPECT_TRUE(Reconcile("analytics", store, {At(40, 0, 130)}, false).rewinds.empty());
  EXPECT_TRUE(Reconcile("analytics", store, {At(-1, 0, 130)}, false).rewinds.empty());
}

TEST(AnalyticsReconcile, AStoreOfAnotherGroupIsRefusedWithTheFix) {
  StoreState store;
  store.consumers = {"analytics-old"};
  for (const bool explicit_start : {false, true}) {
    const auto r = Reconcile("analytics", store, {At(0, 0, 10)}, explicit_start);
    ASSERT_TRUE(r.refusal);
    EXPECT_NE(r.refusal->find("--consumer-group analytics-old"), std::string::npos) << *r.refusal;
    EXPECT_EQ(r.refusal->find('\n'), std::string::npos);
  }
}

// Events the store never applied and Kafka no longer holds: refused, unless the caller chose
// the start (a snapshot run with --since).
TEST(AnalyticsReconcile, HistoryGoneFromTheTopicIsRefusedUnlessTheStartIsChosen) {
  StoreState behind;
  behind.applied[{"jilaf.invitations.events", 0}] = 50;
  const auto gap = Reconcile("analytics", behind, {At(120, 70, 130)}, false);
  ASSERT_TRUE(gap.refusal);
  EXPECT_NE(gap.refusal->find("--since"), std::string::npos);
  const auto empty = Reconcile("analytics", {}, {At(-1, 70, 130)}, false);
  ASSERT_TRUE(empty.refusal);
  EXPECT_NE(empty.refusal->find("--since"), std::string::npos);
  EXPECT_FALSE(Reconcile("analytics", {}, {At(-1, 70, 130)}, true).refusal);
}

}  // namespace
}  // namespace jilaf::analytics
