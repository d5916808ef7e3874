// The projects service's handlers called directly over a real SQLite store (no sockets, no
// broker): field-precise validation on every endpoint, the money rules end to end, the overdue
// scan with an injected date, and the events each change leaves in the outbox.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>
#include <utility>

#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/util/calendar.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/tables.hpp"
#include "tests/support/process.hpp"

namespace jilaf::projects {
namespace {

struct Result {
  int status = 0;
  nlohmann::json body;
  std::string etag;

  // Field pointers of a 422.
  [[nodiscard]] std::set<std::string> Fields() const {
    std::set<std::string> out;
    if (body.contains("errors")) {
      for (const auto& e : body["errors"]) out.insert(e["field"].get<std::string>());
    }
    return out;
  }
};

class ProjectsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-projects");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/projects.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), events::InboxMigrations(),
                                         http::IdempotencyMigrations(), Migrations()});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result Call(Handler handler, http::Method method,
              std::unordered_map<std::string, std::string> params, const nlohmann::json& body = {},
              const std::string& if_match = {}, const std::string& idempotency_key = {}) {
    http::Request request;
    request.method = method;
    request.path = "/test";
    request.params = std::move(params);
    request.principal.subject = subject_;
    request.principal.authenticated = true;
    if (!body.is_null()) {
      request.body = body.dump();
      request.headers.emplace_back("content-type", "application/json");
    }
    if (!if_match.empty()) request.headers.emplace_back("if-match", if_match);
    if (!idempotency_key.empty()) request.headers.emplace_back("idempotency-key", idempotency_key);
    Result result;
    try {
      const auto response = handler(request, *store_);
      result.status = response.status;
      result.body = response.body.empty() ? nlohmann::json() : nlohmann::json::parse(response.body);
      result.etag = std::string(response.Header("ETag"));
    } catch (const http::ApiError& error) {
      result.status = error.status();
      result.body = error.extensions();
      result.body["slug"] = error.slug();
      result.body["detail"] = error.detail();
    }
    return result;
  }

  // Call as `subject` instead of the usual tester.
  Result As(const std::string& subject, Handler handler, http::Method method,
            std::unordered_map<std::string, std::string> params, const nlohmann::json& body = {},
            const std::string& if_match = {}) {
    const std::string usual = std::exchange(subject_, subject);
    auto result = Call(handler, method, std::move(params), body, if_match);
    subject_ = usual;
    return result;
  }

  std::string Partner(const std::string& country = "VN") {
    const auto r = Call(CreatePartner, http::Method::kPost, {},
                        {{"name", "Union " + country},
                         {"country", country},
                         {"contact", {{"name", "Ms Lan"}, {"email", "lan@example.org"}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.body.value("id", "");
  }

  nlohmann::json ProjectBody(const std::string& partner_id) {
    return {{"title", {{"ja", "労働安全衛生"}, {"en", "OSH in garment factories"}}},
            {"country", "VN"},
            {"partner_id", partner_id},
            {"area", "occupational_safety_health"},
            {"support_type", "both"},
            {"funding_source", "MHLW grant"},
            {"start_date", "2026-04-01"},
            {"end_date", "2027-03-31"},
            {"budget", {{"amount", 10'000'000}, {"currency", "JPY"}}}};
  }

  // A project moved to `active` through review and approval; returns {id, etag}.
  std::pair<std::string, std::string> ActiveProject() {
    auto r = Call(CreateProject, http::Method::kPost, {}, ProjectBody(Partner()));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.body["id"];
    std::string etag = r.etag;
    for (const char* to : {"under_review", "approved", "active"}) {
      if (std::string(to) == "approved") {
        EXPECT_EQ(As("reviewer", CreateReview, http::Method::kPost, {{"id", id}},
                     {{"decision", "approve"}, {"comment", "sound plan"}})
                      .status,
                  201);
      }
      r = Call(TransitionProject, http::Method::kPost, {{"id", id}}, {{"to", to}}, etag);
      EXPECT_EQ(r.status, 200) << to << r.body;
      etag = r.etag;
    }
    return {id, etag};
  }

  Result Tranche(const std::string& project_id, const nlohmann::json& body) {
    return Call(CreateTranche, http::Method::kPost, {{"id", project_id}}, body);
  }

  // Moves a tranche through `states`, returning the last result.
  Result Move(const std::string& tranche_id, std::string etag,
              const std::vector<std::string>& states) {
    Result r;
    for (const auto& to : states) {
      // The tranche's approver cannot pay it: a treasurer does.
      r = As(to == "paid" ? "treasurer" : subject_, TransitionTranche, http::Method::kPost,
             {{"id", tranche_id}}, {{"to", to}}, etag);
      if (r.status != 200) return r;
      etag = r.etag;
    }
    return r;
  }

  std::vector<std::string> EventTypes() {
    return store_->Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT headers FROM outbox ORDER BY seq");
      std::vector<std::string> types;
      while (stmt.Step()) {
        for (const auto& header : nlohmann::json::parse(stmt.Text(0))) {
          if (header[0] == "ce_type") types.push_back(header[1]);
        }
      }
      return types;
    });
  }

  // The payloads of the outbox's events of `type`, in order.
  std::vector<nlohmann::json> Payloads(const std::string& type) {
    return store_->Read([&](store::Db& db) {
      auto stmt = db.Prepare("SELECT headers, payload FROM outbox ORDER BY seq");
      std::vector<nlohmann::json> out;
      while (stmt.Step()) {
        for (const auto& header : nlohmann::json::parse(stmt.Text(0))) {
          if (header[0] == "ce_type" && header[1] == type) {
            out.push_back(nlohmann::json::parse(stmt.Text(1)));
          }
        }
      }
      return out;
    });
  }

  std::string dir_;
  // Who acts: the author of every record, but for a second person where duties are separated.
  std::string subject_ = "tester";
  std::unique_ptr<store::Store> store_;
};

TEST_F(ProjectsApiTest, EveryCreatingEndpointNamesEachBadField) {
  const auto [project, etag] = ActiveProject();
  struct Case {
    Handler handler;
    std::unordered_map<std::string, std::string> params;
    nlohmann::json body;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {CreatePartner,
       {},
       {{"name", ""}, {"country", "vn"}, {"extra", 1}},
       {"/name", "/country", "/contact", "/extra"}},
      {CreateProject,
       {},
       {{"title", {{"ja", "x"}}},
        {"country", "Viet Nam"},
        {"partner_id", "nope"},
        {"area", "health"},
        {"support_type", "grant"},
        {"funding_source", "x"},
        {"start_date", "2026-04-01"},
        {"end_date", "2026-03-31"},
        {"budget", {{"amount", -5}, {"currency", "XYZ"}}}},
       {"/title/en", "/country", "/partner_id", "/area", "/support_type", "/end_date",
        "/budget/amount", "/budget/currency"}},
      {CreateProject,
       {},
       {{"budget", {{"amount", 10.5}, {"currency", "USD"}}}},
       {"/title", "/country", "/partner_id", "/area", "/support_type", "/funding_source",
        "/start_date", "/end_date", "/budget/amount", "/budget/exchange_rate"}},
      {CreateTranche,
       {{"id", project}},
       {{"amount", 1.5},
        {"currency", "EUR"},
        {"exchange_rate", "1e3"},
        {"planned_date", "2026-13-01"}},
       {"/amount", "/exchange_rate", "/planned_date"}},
      {CreateTranche,
       {{"id", project}},
       {{"amount", 0}, {"currency", "JPY"}, {"exchange_rate", "2"}, {"planned_date", "2026-07-01"}},
       {"/amount", "/exchange_rate"}},
      {CreateReport,
       {{"id", project}},
       {{"kind", "annual"},
        {"due_date", "soon"},
        {"period_from", "2026-06-01"},
        {"period_to", "2026-05-01"}},
       {"/kind", "/due_date", "/period_to"}},
      {CreateDispatch,
       {{"id", project}},
       {{"expert", {{"id", ""}}},
        {"role", "OSH trainer"},
        {"country", "VN"},
        {"from_date", "2026-08-10"},
        {"to_date", "2026-08-01"}},
       {"/expert/id", "/expert/name", "/to_date"}},
      {CreateIndicator,
       {{"id", project}},
       {{"name", "Workers trained"}, {"unit", ""}, {"baseline", -1}, {"target", "100"}},
       {"/unit", "/baseline", "/target"}},
      {CreateReview, {{"id", project}}, {{"decision", "maybe"}}, {"/decision", "/comment"}},
      {TransitionProject, {{"id", project}}, {{"to", 5}, {"why", "x"}}, {"/to", "/why"}},
      {TransitionTranche,
       {{"id", "x"}},
       {{"to", "approved"}, {"exchange_rate", "abc"}},
       {"/exchange_rate"}},
      {TransitionReport, {{"id", "x"}}, {{"to", "returned"}}, {"/reason"}},
      {CreateAmendment,
       {{"id", project}},
       {{"budget", {{"amount", -1}, {"currency", "JPY"}}}},
       {"/reason", "/budget/amount"}},
  };
  for (const auto& c : cases) {
    const auto r = Call(c.handler, http::Method::kPost, c.params, c.body, etag);
    EXPECT_EQ(r.status, 422) << c.body << " → " << r.body;
    EXPECT_EQ(r.Fields(), c.fields) << c.body << " → " << r.body;
  }
  // Bad input that is not a body field is a 400 naming the parameter.
  EXPECT_EQ(Call(FiscalYearReport, http::Method::kGet, {{"fy", "20x6"}}).status, 400);
  EXPECT_EQ(Call(RecordActual, http::Method::kPut, {{"id", "x"}, {"period", "Q1"}}, {{"value", 1}})
                .status,
            400);
  const auto not_json = [&] {
    http::Request request;
    request.method = http::Method::kPost;
    request.headers.emplace_back("content-type", "application/json");
    request.body = "{\"amount\": ";
    try {
      CreatePartner(request, *store_);
    } catch (const http::ApiError& error) {
      return error.status();
    }
    return 0;
  }();
  EXPECT_EQ(not_json, 400);
}

TEST_F(ProjectsApiTest, SeparationOfDutiesRefusesTheSamePersonAndIsConfigurable) {
  auto r = Call(CreateProject, http::Method::kPost, {}, ProjectBody(Partner()));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.body["id"];
  EXPECT_EQ(r.body["created_by"], "tester");
  ASSERT_EQ(
      Call(TransitionProject, http::Method::kPost, {{"id", id}}, {{"to", "under_review"}}, r.etag)
          .status,
      200);
  const nlohmann::json approve = {{"decision", "approve"}, {"comment", "mine"}};
  r = Call(CreateReview, http::Method::kPost, {{"id", id}}, approve);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body["slug"], "separation-of-duties");
  EXPECT_EQ(r.body["rule"], "author-cannot-approve");
  // The refusal recorded nothing; the author may still ask for changes.
  EXPECT_EQ(Call(ListOfProject<&ProjectTables::reviews>, http::Method::kGet, {{"id", id}})
                .body["items"]
                .size(),
            0u);
  EXPECT_EQ(Call(CreateReview, http::Method::kPost, {{"id", id}},
                 {{"decision", "request_changes"}, {"comment", "mine"}})
                .status,
            201);
  // With --separation-of-duties off the same person may approve.
  const Handler review_off = [](const http::Request& request, store::Store& store) {
    return CreateReview(request, store, Settings{.separation_of_duties = false});
  };
  EXPECT_EQ(Call(review_off, http::Method::kPost, {{"id", id}}, approve).status, 201);

  const auto project = ActiveProject().first;
  r = Tranche(project, {{"amount", 100'000}, {"currency", "JPY"}, {"planned_date", "2026-06-01"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string tranche = r.body["id"];
  r = Call(TransitionTranche, http::Method::kPost, {{"id", tranche}}, {{"to", "requested"}},
           r.etag);
  r = Call(TransitionTranche, http::Method::kPost, {{"id", tranche}}, {{"to", "approved"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto approved_etag = r.etag;
  r = Call(TransitionTranche, http::Method::kPost, {{"id", tranche}}, {{"to", "paid"}},
           approved_etag);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body["rule"], "approver-cannot-pay");
  EXPECT_EQ(r.body["earlier_actor"], "tester");
  const Handler pay_off = [](const http::Request& request, store::Store& store) {
    return TransitionTranche(request, store, Settings{.separation_of_duties = false});
  };
  EXPECT_EQ(
      Call(pay_off, http::Method::kPost, {{"id", tranche}}, {{"to", "paid"}}, approved_etag).status,
      200);
}

TEST_F(ProjectsApiTest, UpdatesNeedIfMatchAndValidateTheMergedDocument) {
  const auto partner = Partner();
  auto r = Call(GetRecord<&ProjectTables::partners>, http::Method::kGet, {{"id", partner}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Call(UpdatePartner, http::Method::kPatch, {{"id", partner}}, {{"name", "New"}}).status,
            428);
  EXPECT_EQ(
      Call(UpdatePartner, http::Method::kPatch, {{"id", partner}}, {{"name", "New"}}, "\"v9\"")
          .status,
      412);
  auto bad = Call(UpdatePartner, http::Method::kPatch, {{"id", partner}},
                  {{"contact", {{"email", "not-an-email"}}}}, r.etag);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.Fields(), (std::set<std::string>{"/contact/email"})) << bad.body;
  r = Call(UpdatePartner, http::Method::kPatch, {{"id", partner}}, {{"name", "New name"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["name"], "New name");
  EXPECT_EQ(r.body["contact"]["email"], "lan@example.org");
  EXPECT_EQ(r.body["version"], 2);
}

TEST_F(ProjectsApiTest, ProjectLifeWithMoneyReportsAndAmendments) {
  const auto [project, etag] = ActiveProject();
  // After approval, budget and period change only by amendment.
  auto r = Call(UpdateProject, http::Method::kPatch, {{"id", project}},
                {{"budget", {{"amount", 20'000'000}, {"currency", "JPY"}}}}, etag);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["slug"], "amendment-required");
  r = Call(UpdateProject, http::Method::kPatch, {{"id", project}}, {{"end_date", "2027-06-30"}},
           etag);
  EXPECT_EQ(r.body["slug"], "amendment-required");

  // 45,000.00 USD at 150.5 = 6,772,500 yen.
  r = Tranche(project, {{"amount", 4'500'000},
                        {"currency", "USD"},
                        {"exchange_rate", "150.5"},
                        {"planned_date", "2026-07-01"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body["amount_jpy"], 6'772'500);
  EXPECT_EQ(r.body["exchange_rate"], "150.5");
  const std::string first = r.body["id"];
  r = Move(first, r.etag, {"requested", "approved"});
  ASSERT_EQ(r.status, 200) << r.body;

  // A progress report due before the next tranche holds its approval until approved.
  r = Call(CreateReport, http::Method::kPost, {{"id", project}},
           {{"kind", "progress"}, {"due_date", "2026-09-30"}});
  ASSERT_EQ(r.status, 201);
  const std::string report = r.body["id"];
  std::string report_etag = r.etag;

  // 3,227,500 yen remain; 21,451.00 EUR at 150.46 = 3,227,517 yen is 17 too many.
  r = Tranche(project, {{"amount", 2'145'100},
                        {"currency", "EUR"},
                        {"exchange_rate", "150.46"},
                        {"planned_date", "2026-10-15"}});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.body["amount_jpy"], 3'227'517);
  const std::string second = r.body["id"];
  r = Move(second, r.etag, {"requested", "approved"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["slug"], "budget-exceeded");
  EXPECT_EQ(r.body["remaining_jpy"], 3'227'500);

  // An amendment (admin) raises the budget; it cannot go below what is committed.
  r = Call(CreateAmendment, http::Method::kPost, {{"id", project}},
           {{"reason", "too low"}, {"budget", {{"amount", 6'000'000}, {"currency", "JPY"}}}});
  EXPECT_EQ(r.body["slug"], "budget-below-committed");
  r = Call(CreateAmendment, http::Method::kPost, {{"id", project}},
           {{"reason", "Second factory joined"},
            {"budget", {{"amount", 12'000'000}, {"currency", "JPY"}}},
            {"end_date", "2027-06-30"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body["amended_by"], "tester");
  EXPECT_EQ(r.body["changes"]["budget"]["old"]["amount_jpy"], 10'000'000);
  EXPECT_EQ(r.body["changes"]["budget"]["new"]["amount_jpy"], 12'000'000);
  EXPECT_EQ(r.body["changes"]["end_date"]["new"], "2027-06-30");

  // Now the money fits, but the report is still missing.
  auto tranche = Call(GetRecord<&ProjectTables::tranches>, http::Method::kGet, {{"id", second}});
  r = Move(second, tranche.etag, {"approved"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["slug"], "report-outstanding");
  EXPECT_EQ(r.body["report_id"], report);
  for (const char* to : {"submitted", "approved"}) {
    r = Call(TransitionReport, http::Method::kPost, {{"id", report}}, {{"to", to}}, report_etag);
    ASSERT_EQ(r.status, 200) << r.body;
    report_etag = r.etag;
  }
  r = Move(second, tranche.etag, {"approved"});
  ASSERT_EQ(r.status, 200) << r.body;
  // Paid at the rate of the value date: re-rated and re-checked against the ceiling.
  r = As("treasurer", TransitionTranche, http::Method::kPost, {{"id", second}},
         {{"to", "paid"}, {"value_date", "2026-10-20"}, {"exchange_rate", "151"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["amount_jpy"], 3'239'101);  // 21,451.00 * 151 = 3,239,101
  EXPECT_EQ(r.body["value_date"], "2026-10-20");

  r = Call(FiscalYearReport, http::Method::kGet, {{"fy", "2026"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["totals"]["projects"], 1);
  EXPECT_EQ(r.body["totals"]["committed_jpy"], 12'000'000);
  EXPECT_EQ(r.body["totals"]["disbursed_jpy"], 3'239'101);  // the first tranche is not paid
  EXPECT_EQ(r.body["by_area"]["occupational_safety_health"]["disbursed_jpy"], 3'239'101);
  EXPECT_EQ(r.body["by_country"]["VN"]["projects"], 1);

  const auto types = EventTypes();
  for (const char* type : {"jilaf.projects.partner.created", "jilaf.projects.project.created",
                           "jilaf.projects.project.under_review", "jilaf.projects.review.recorded",
                           "jilaf.projects.project.approved", "jilaf.projects.project.active",
                           "jilaf.projects.tranche.planned", "jilaf.projects.tranche.requested",
                           "jilaf.projects.tranche.approved", "jilaf.projects.tranche.paid",
                           "jilaf.projects.report.scheduled", "jilaf.projects.report.submitted",
                           "jilaf.projects.report.approved", "jilaf.projects.project.amended"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
  // Refused changes leave no event behind: one approved per tranche approval that succeeded.
  EXPECT_EQ(std::count(types.begin(), types.end(), "jilaf.projects.tranche.approved"), 2);
}

TEST_F(ProjectsApiTest, OverdueScanAnnouncesEachMissedDueDateOnce) {
  const auto [project, etag] = ActiveProject();
  auto r = Call(CreateReport, http::Method::kPost, {{"id", project}},
                {{"kind", "financial"}, {"due_date", "2026-05-31"}});
  ASSERT_EQ(r.status, 201);
  const std::string report = r.body["id"];
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-05-31"), 0);  // due today is not late
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-01"), 1);
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-02"), 0);
  // The announcement does not change the report's version (ETag).
  EXPECT_EQ(Call(GetRecord<&ProjectTables::reports>, http::Method::kGet, {{"id", report}}).etag,
            r.etag);
  // A new due date is a new obligation to miss.
  r = Call(UpdateReport, http::Method::kPatch, {{"id", report}}, {{"due_date", "2026-06-30"}},
           r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-15"), 0);
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-07-01"), 1);
  const auto types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "jilaf.projects.report.overdue"), 2);
}

TEST_F(ProjectsApiTest, OverdueScanLeavesCompletedAndClosedProjectsAlone) {
  const auto [project, etag] = ActiveProject();
  auto r = Call(CreateReport, http::Method::kPost, {{"id", project}},
                {{"kind", "progress"}, {"due_date", "2026-05-31"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto other = ActiveProject().first;  // still active: its missed report is announced
  ASSERT_EQ(Call(CreateReport, http::Method::kPost, {{"id", other}},
                 {{"kind", "progress"}, {"due_date", "2026-05-31"}})
                .status,
            201);
  r = Call(TransitionProject, http::Method::kPost, {{"id", project}}, {{"to", "completed"}}, etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-01"), 1);
  r = Call(TransitionProject, http::Method::kPost, {{"id", project}}, {{"to", "closed"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-07-01"), 0);
  const auto types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "jilaf.projects.report.overdue"), 1);
}

// With an overdue progress report, each tranche it holds (still to be approved, planned after the
// missed due date) is announced once per report; approved, paid and earlier tranches are not, nor
// those of a closed project.
TEST_F(ProjectsApiTest, OverdueProgressReportAnnouncesTheTranchesItHoldsOnce) {
  const auto [project, etag] = ActiveProject();
  auto tranche = [&](const std::string& planned_date, const std::vector<std::string>& moves) {
    auto r = Tranche(project,
                     {{"amount", 1'000'000}, {"currency", "JPY"}, {"planned_date", planned_date}});
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.body["id"];
    if (!moves.empty()) {
      EXPECT_EQ(Move(id, r.etag, moves).status, 200) << planned_date;
    }
    return id;
  };
  // Approved and paid before the report was scheduled; one planned before its due date.
  tranche("2026-07-01", {"requested", "approved"});
  tranche("2026-08-01", {"requested", "approved", "paid"});
  tranche("2026-05-15", {});
  const auto planned = tranche("2026-09-01", {});
  const auto requested = tranche("2026-10-01", {"requested"});
  auto r = Call(CreateReport, http::Method::kPost, {{"id", project}},
                {{"kind", "progress"}, {"due_date", "2026-05-31"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string report = r.body["id"];

  // A closed project's report and tranche stay quiet.
  const auto [closed, closed_etag] = ActiveProject();
  ASSERT_EQ(
      Tranche(closed, {{"amount", 1'000}, {"currency", "JPY"}, {"planned_date", "2026-09-01"}})
          .status,
      201);
  ASSERT_EQ(Call(CreateReport, http::Method::kPost, {{"id", closed}},
                 {{"kind", "progress"}, {"due_date", "2026-05-31"}})
                .status,
            201);
  r = Call(TransitionProject, http::Method::kPost, {{"id", closed}}, {{"to", "completed"}},
           closed_etag);
  r = Call(TransitionProject, http::Method::kPost, {{"id", closed}}, {{"to", "closed"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;

  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-01"), 1);
  auto held = Payloads("jilaf.projects.tranche.held");
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0]["tranche_id"], planned);
  EXPECT_EQ(held[0]["status"], "planned");
  EXPECT_EQ(held[1]["tranche_id"], requested);
  EXPECT_EQ(held[1]["status"], "requested");
  for (const auto& data : held) {
    EXPECT_EQ(data["project_id"], project);
    EXPECT_EQ(data["report_id"], report);
    EXPECT_EQ(data["report_due_date"], "2026-05-31");
    EXPECT_EQ(data["as_of"], "2026-06-01");
    EXPECT_EQ(data["amount"], 1'000'000);
    EXPECT_EQ(data["currency"], "JPY");
    EXPECT_EQ(data["amount_jpy"], 1'000'000);
    EXPECT_EQ(data["project_title"]["en"], "OSH in garment factories");
  }
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-02"), 0);
  // A new due date is announced overdue again, but a tranche already announced as held by this
  // report is not; one planned since is.
  const auto later = tranche("2026-11-01", {});
  const auto current =
      Call(GetRecord<&ProjectTables::reports>, http::Method::kGet, {{"id", report}});
  ASSERT_EQ(Call(UpdateReport, http::Method::kPatch, {{"id", report}}, {{"due_date", "2026-06-30"}},
                 current.etag)
                .status,
            200);
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-07-01"), 1);
  held = Payloads("jilaf.projects.tranche.held");
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held[2]["tranche_id"], later);
  EXPECT_EQ(held[2]["report_due_date"], "2026-06-30");
  // Held indeed: the approval is refused naming the same report.
  const auto refused =
      Call(TransitionTranche, http::Method::kPost, {{"id", requested}}, {{"to", "approved"}},
           Call(GetRecord<&ProjectTables::tranches>, http::Method::kGet, {{"id", requested}}).etag);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body["report_id"], report);
}

// A financial report missing does not hold tranches: nothing is announced held.
TEST_F(ProjectsApiTest, OverdueFinancialReportHoldsNoTranche) {
  const auto project = ActiveProject().first;
  ASSERT_EQ(
      Tranche(project, {{"amount", 1'000}, {"currency", "JPY"}, {"planned_date", "2026-09-01"}})
          .status,
      201);
  ASSERT_EQ(Call(CreateReport, http::Method::kPost, {{"id", project}},
                 {{"kind", "financial"}, {"due_date", "2026-05-31"}})
                .status,
            201);
  EXPECT_EQ(ScanOverdueReports(*store_, "2026-06-01"), 1);
  EXPECT_TRUE(Payloads("jilaf.projects.tranche.held").empty());
}

TEST(ProjectReportNotices, StopOnceTheWorkIsOver) {
  for (const char* status : {"proposed", "under_review", "approved", "active", "suspended"}) {
    EXPECT_TRUE(rules::OwesReportNotices(status)) << status;
  }
  for (const char* status : {"completed", "closed", "rejected"}) {
    EXPECT_FALSE(rules::OwesReportNotices(status)) << status;
  }
}

TEST_F(ProjectsApiTest, ScheduledOverdueScanGoesByTheTokyoDate) {
  const auto [project, etag] = ActiveProject();
  const auto r = Call(CreateReport, http::Method::kPost, {{"id", project}},
                      {{"kind", "financial"}, {"due_date", "2026-03-31"}});
  ASSERT_EQ(r.status, 201) << r.body;
  {
    // 2026-03-31T14:59Z is 23:59 on the due date in Tokyo: not late yet.
    const util::ScopedBusinessClock clock(1774969140000);
    EXPECT_EQ(ScanOverdueReportsToday(*store_), 0);
  }
  // 2026-03-31T15:30Z: still the due date in UTC, but 1 April in Tokyo, where the report is late.
  const util::ScopedBusinessClock clock(1774971000000);
  EXPECT_EQ(ScanOverdueReportsToday(*store_), 1);
}

TEST_F(ProjectsApiTest, ExpertCannotBeOnOverlappingDispatchesAcrossProjects) {
  const auto first = ActiveProject().first;
  const auto second = ActiveProject().first;
  const nlohmann::json body = {{"expert", {{"id", "rengo-042"}, {"name", "Sato Hanako"}}},
                               {"role", "OSH trainer"},
                               {"country", "VN"},
                               {"from_date", "2026-08-01"},
                               {"to_date", "2026-08-14"}};
  auto r = Call(CreateDispatch, http::Method::kPost, {{"id", first}}, body);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string dispatch = r.body["id"];
  auto overlapping = body;
  overlapping["from_date"] = "2026-08-14";
  overlapping["to_date"] = "2026-08-20";
  r = Call(CreateDispatch, http::Method::kPost, {{"id", second}}, overlapping);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["dispatch_id"], dispatch);
  overlapping["from_date"] = "2026-08-15";
  r = Call(CreateDispatch, http::Method::kPost, {{"id", second}}, overlapping);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ProjectsApiTest, IndicatorActualsWithBreakdownsThatAddUp) {
  const auto project = ActiveProject().first;
  auto r = Call(CreateIndicator, http::Method::kPost, {{"id", project}},
                {{"name", "Workers trained"},
                 {"unit", "persons"},
                 {"baseline", 0},
                 {"target", 400},
                 {"disaggregation", {"female", "male"}}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.body["id"];
  auto bad =
      Call(RecordActual, http::Method::kPut, {{"id", id}, {"period", "2026-Q2"}},
           {{"value", 120}, {"breakdown", {{"female", 70}, {"male", 40}, {"other", 1}}}}, r.etag);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.Fields(), (std::set<std::string>{"/breakdown/other"})) << bad.body;
  bad = Call(RecordActual, http::Method::kPut, {{"id", id}, {"period", "2026-Q2"}},
             {{"value", 120}, {"breakdown", {{"female", 70}, {"male", 40}}}}, r.etag);
  EXPECT_EQ(bad.Fields(), (std::set<std::string>{"/breakdown"})) << bad.body;
  r = Call(RecordActual, http::Method::kPut, {{"id", id}, {"period", "2026-Q2"}},
           {{"value", 120}, {"breakdown", {{"female", 70}, {"male", 50}}}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["actuals"]["2026-Q2"]["breakdown"]["female"], 70);
}

TEST_F(ProjectsApiTest, EveryUpdateNamesEachBadField) {
  const auto [project, etag] = ActiveProject();
  auto tranche =
      Tranche(project, {{"amount", 100}, {"currency", "JPY"}, {"planned_date", "2026-07-01"}});
  auto report = Call(CreateReport, http::Method::kPost, {{"id", project}},
                     {{"kind", "progress"}, {"due_date", "2026-09-30"}});
  auto dispatch = Call(CreateDispatch, http::Method::kPost, {{"id", project}},
                       {{"expert", {{"id", "x-1"}, {"name", "X"}}},
                        {"role", "Trainer"},
                        {"country", "VN"},
                        {"from_date", "2026-08-01"},
                        {"to_date", "2026-08-02"}});
  ASSERT_EQ(tranche.status, 201);
  ASSERT_EQ(report.status, 201);
  ASSERT_EQ(dispatch.status, 201);
  struct Case {
    Handler handler;
    std::string id;
    std::string etag;
    nlohmann::json patch;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {UpdateProject, project, etag, {{"area", "mining"}, {"country", 7}}, {"/area", "/country"}},
      {UpdateTranche,
       tranche.body["id"],
       tranche.etag,
       {{"amount", -3}, {"currency", "ZZZ"}},
       {"/amount", "/currency"}},
      {UpdateTranche,
       tranche.body["id"],
       tranche.etag,
       {{"currency", "USD"}},
       {"/exchange_rate"}},  // a new currency needs its own rate
      {UpdateReport,
       report.body["id"],
       report.etag,
       {{"period_from", "2026-07-01"}, {"period_to", "2026-06-30"}},
       {"/period_to"}},
      {UpdateDispatch,
       dispatch.body["id"],
       dispatch.etag,
       {{"to_date", "2026-07-01"}},
       {"/to_date"}},
      {UpdateDispatch, dispatch.body["id"], dispatch.etag, {{"surprise", true}}, {"/surprise"}},
  };
  for (const auto& c : cases) {
    const auto r = Call(c.handler, http::Method::kPatch, {{"id", c.id}}, c.patch, c.etag);
    EXPECT_EQ(r.status, 422) << c.patch << " → " << r.body;
    EXPECT_EQ(r.Fields(), c.fields) << c.patch << " → " << r.body;
  }
}

TEST_F(ProjectsApiTest, ConcurrentApprovalsNeverPassTheCeilingTogether) {
  const auto project = ActiveProject().first;  // budget 10,000,000 yen
  std::vector<std::pair<std::string, std::string>> tranches;
  for (int i = 0; i < 8; ++i) {  // 8 × 3,000,000: only three fit
    auto r = Tranche(project,
                     {{"amount", 3'000'000}, {"currency", "JPY"}, {"planned_date", "2026-07-01"}});
    r = Move(r.body["id"], r.etag, {"requested"});
    ASSERT_EQ(r.status, 200);
    tranches.emplace_back(r.body["id"], r.etag);
  }
  std::vector<int> statuses(tranches.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < tranches.size(); ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = Move(tranches[i].first, tranches[i].second, {"approved"}).status; });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 3);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 5);
}

TEST_F(ProjectsApiTest, IdempotentCreateRunsOnce) {
  const nlohmann::json body = {{"name", "KSBSI"},
                               {"country", "ID"},
                               {"contact", {{"name", "Pak Budi"}, {"email", "b@example.org"}}}};
  const auto a = Call(CreatePartner, http::Method::kPost, {}, body, {}, "key-1");
  const auto b = Call(CreatePartner, http::Method::kPost, {}, body, {}, "key-1");
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.body["id"], b.body["id"]);
  const auto types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "jilaf.projects.partner.created"), 1);
}

TEST_F(ProjectsApiTest, CountryXXIsRefusedInBodiesAndQueryFilters) {
  auto r = Call(CreatePartner, http::Method::kPost, {},
                {{"name", "Nowhere"},
                 {"country", "XX"},
                 {"contact", {{"name", "Ms X"}, {"email", "x@example.org"}}}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.Fields(), (std::set<std::string>{"/country"})) << r.body;
  for (const Handler handler : {ListProjects, ListPartners}) {
    http::Request request;
    request.method = http::Method::kGet;
    request.query["country"] = "XX";
    try {
      handler(request, *store_);
      ADD_FAILURE() << "country=XX was accepted";
    } catch (const http::ApiError& error) {
      EXPECT_EQ(error.status(), 400);
    }
    request.query["country"] = "VN";
    EXPECT_EQ(handler(request, *store_).status, 200);
  }
}

TEST_F(ProjectsApiTest, TransitionsRecordTheReasonAndAcceptCommentAsAnAlias) {
  auto r = Call(CreateProject, http::Method::kPost, {}, ProjectBody(Partner()));
  ASSERT_EQ(r.status, 201);
  const std::string id = r.body["id"];
  auto both = Call(TransitionProject, http::Method::kPost, {{"id", id}},
                   {{"to", "under_review"}, {"reason", "ready"}, {"comment", "ready"}}, r.etag);
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(both.Fields(), (std::set<std::string>{"/comment"})) << both.body;
  r = Call(TransitionProject, http::Method::kPost, {{"id", id}},
           {{"to", "under_review"}, {"comment", "ready for review"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call(TransitionProject, http::Method::kPost, {{"id", id}}, {{"to", "proposed"}}, r.etag);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& history = r.body["status_history"];
  ASSERT_EQ(history.size(), 2U);
  EXPECT_EQ(history[0]["reason"], "ready for review");
  EXPECT_FALSE(history[0].contains("comment"));
  EXPECT_FALSE(history[1].contains("reason"));
  EXPECT_EQ(history[1]["by"], "tester");
}

TEST(ProjectsMigrationTest, StatusHistoryWithCommentsReadsBackWithReasons) {
  const auto dir = testing::MakeTempDir("jilaf-projects-migration");
  auto before = Migrations();
  before.migrations.resize(2);  // as shipped before the history shape changed
  const nlohmann::json old_doc = {{"id", "p-1"},
                                  {"version", 3},
                                  {"status", "proposed"},
                                  {"status_history",
                                   {{{"from", "proposed"},
                                     {"to", "under_review"},
                                     {"at", "t1"},
                                     {"by", "a"},
                                     {"comment", "go"}},
                                    {{"from", "under_review"},
                                     {"to", "proposed"},
                                     {"at", "t2"},
                                     {"by", "b"},
                                     {"comment", ""}}}}};
  {
    store::Store store(store::StoreOptions{dir + "/projects.db"}, {before});
    store.Write([&](store::Db& tx) {
      for (const char* table : {"projects", "tranches"}) {
        auto stmt =
            tx.Prepare(std::string("INSERT INTO ") + table +
                       " (id, version, doc, created_at, updated_at) VALUES (?, 3, ?, 't', 't')");
        stmt.Bind(1, "p-1").Bind(2, old_doc.dump());
        stmt.Run();
      }
    });
  }
  {
    store::Store store(store::StoreOptions{dir + "/projects.db"}, {Migrations()});
    for (const auto* table : {&Tables().projects, &Tables().tranches}) {
      const auto doc = store.Read([&](store::Db& db) { return table->Get(db, "p-1"); });
      const nlohmann::json expected = {
          {{"from", "proposed"},
           {"to", "under_review"},
           {"at", "t1"},
           {"by", "a"},
           {"reason", "go"}},
          {{"from", "under_review"}, {"to", "proposed"}, {"at", "t2"}, {"by", "b"}}};
      EXPECT_EQ(doc["status_history"], expected) << table->spec().name;
      EXPECT_EQ(doc["version"], 3);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jilaf::projects
