// The missions service's rules and handlers, called directly over a real SQLite store.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/events/people.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/records.hpp"
#include "services/missions/reports.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/rules.hpp"
#include "services/missions/schema.hpp"
#include "tests/support/domain_errors.hpp"
#include "tests/support/process.hpp"

namespace jilaf::missions {
namespace {

using testing::DomainAsHttp;

using nlohmann::json;

// The aggregates' shared handlers, bound as the routes bind them.
http::Response CreateMission(const http::Request& r, store::Store& s) {
  return CreateRecord(r, s, Mission());
}
http::Response ListMissions(const http::Request& r, store::Store& s) {
  return ListRecords(r, s, Mission());
}
http::Response GetMission(const http::Request& r, store::Store& s) {
  return GetRecord(r, s, Mission());
}
http::Response TransitionMission(const http::Request& r, store::Store& s) {
  return TransitionRecord(r, s, Mission());
}
http::Response CreateEducationProgramme(const http::Request& r, store::Store& s) {
  return CreateRecord(r, s, Education());
}
http::Response ListEducationProgrammes(const http::Request& r, store::Store& s) {
  return ListRecords(r, s, Education());
}
http::Response TransitionEducationProgramme(const http::Request& r, store::Store& s) {
  return TransitionRecord(r, s, Education());
}
http::Response CreateSeminar(const http::Request& r, store::Store& s) {
  return CreateRecord(r, s, Seminar());
}
http::Response ListSeminars(const http::Request& r, store::Store& s) {
  return ListRecords(r, s, Seminar());
}
http::Response TransitionSeminar(const http::Request& r, store::Store& s) {
  return TransitionRecord(r, s, Seminar());
}

// The status and field pointers of the problem a handler throws.
struct Problem {
  int status = 0;
  std::set<std::string> fields;
  json extensions;
};

template <typename Fn>
Problem ProblemOf(Fn fn) {
  try {
    DomainAsHttp(fn);
  } catch (const http::ApiError& error) {
    Problem problem{error.status(), {}, error.extensions()};
    if (error.extensions().contains("errors")) {
      for (const auto& e : error.extensions()["errors"]) problem.fields.insert(e["field"]);
    }
    return problem;
  }
  return {};
}

TEST(MissionStateMachines, MissionFollowsPlannedToReportedOrCancelled) {
  const auto& m = MissionStates();
  EXPECT_TRUE(m.Allows("planned", "in_progress"));
  EXPECT_TRUE(m.Allows("in_progress", "completed"));
  EXPECT_TRUE(m.Allows("completed", "reported"));
  EXPECT_TRUE(m.Allows("planned", "cancelled"));
  EXPECT_TRUE(m.Allows("in_progress", "cancelled"));
  EXPECT_FALSE(m.Allows("planned", "completed"));
  EXPECT_FALSE(m.Allows("completed", "cancelled"));
  EXPECT_TRUE(m.Next("reported").empty());
  EXPECT_TRUE(m.Next("cancelled").empty());
  const auto problem = ProblemOf([&] { m.Check("planned", "reported"); });
  EXPECT_EQ(problem.status, 409);
  EXPECT_EQ(problem.extensions["allowed_transitions"], json({"cancelled", "in_progress"}));
}

TEST(MissionStateMachines, ReportIsDraftedReviewedAndPublished) {
  const auto& r = ReportStates();
  EXPECT_TRUE(r.Allows("draft", "in_review"));
  EXPECT_TRUE(r.Allows("in_review", "published"));
  EXPECT_TRUE(r.Allows("in_review", "draft"));
  EXPECT_FALSE(r.Allows("draft", "published"));
  EXPECT_TRUE(r.Next("published").empty());
}

TEST(MissionStateMachines, EducationAndSeminarStates) {
  const auto& e = EducationStates();
  EXPECT_TRUE(e.Allows("planned", "in_progress"));
  EXPECT_TRUE(e.Allows("in_progress", "completed"));
  EXPECT_FALSE(e.Allows("planned", "completed"));
  EXPECT_FALSE(e.Allows("completed", "cancelled"));
  const auto& s = SeminarStates();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"planned", "registration_open"},
           {"registration_open", "registration_closed"},
           {"registration_closed", "held"},
           {"held", "reported"},
           {"planned", "cancelled"},
           {"registration_open", "cancelled"},
           {"registration_closed", "cancelled"}}) {
    EXPECT_TRUE(s.Allows(from, to)) << from << " → " << to;
  }
  EXPECT_FALSE(s.Allows("planned", "held"));
  EXPECT_FALSE(s.Allows("held", "cancelled"));
  EXPECT_EQ(ProblemOf([&] { s.Check("held", "cancelled"); }).status, 409);
  EXPECT_EQ(ProblemOf([&] { s.Check("held", "finished"); }).status, 422);
}

TEST(AttendanceThreshold, MeetsExactlyAtThePercentage) {
  EXPECT_TRUE(MeetsThreshold(4, 5, 80));
  EXPECT_FALSE(MeetsThreshold(3, 5, 80));
  EXPECT_TRUE(MeetsThreshold(5, 5, 100));
  EXPECT_FALSE(MeetsThreshold(4, 5, 100));
  EXPECT_TRUE(MeetsThreshold(1, 3, 33));
  EXPECT_FALSE(MeetsThreshold(1, 3, 34));
  EXPECT_FALSE(MeetsThreshold(0, 0, 1));
}

TEST(AttendanceThreshold, CountsSessionsAcrossCourses) {
  const json programme = {
      {"courses",
       {{{"sessions", {{{"id", "a"}}, {{"id", "b"}}}}}, {{"sessions", {{{"id", "c"}}}}}}},
      {"attendance", {{"a", {"p1", "p2"}}, {"b", {"p1"}}, {"c", json::array()}}}};
  EXPECT_EQ(SessionCount(programme), 3);
  EXPECT_EQ(AttendedCount(programme, "p1"), 2);
  EXPECT_EQ(AttendedCount(programme, "p2"), 1);
  EXPECT_EQ(AttendedCount(programme, "p3"), 0);
}

json Registration(const std::string& id, const std::string& status) {
  return {{"id", id}, {"status", status}};
}

TEST(SeminarWaitlist, AdmitsUntilCapacityThenWaitlists) {
  json seminar = {{"capacity", 2}, {"registrations", json::array()}};
  EXPECT_EQ(AdmissionFor(seminar), "registered");
  seminar["registrations"].push_back(Registration("a", "registered"));
  seminar["registrations"].push_back(Registration("x", "cancelled"));
  EXPECT_EQ(AdmissionFor(seminar), "registered");
  seminar["registrations"].push_back(Registration("b", "registered"));
  EXPECT_EQ(AdmissionFor(seminar), "waitlisted");
}

TEST(SeminarWaitlist, CancellingASeatPromotesTheEarliestWaitlisted) {
  json seminar = {{"capacity", 2},
                  {"registrations",
                   {Registration("a", "registered"), Registration("b", "registered"),
                    Registration("c", "waitlisted"), Registration("d", "waitlisted")}}};
  EXPECT_EQ(CancelRegistration(seminar, "b"), std::optional<std::string>("c"));
  EXPECT_EQ(seminar["registrations"][1]["status"], "cancelled");
  EXPECT_EQ(seminar["registrations"][2]["status"], "registered");
  EXPECT_EQ(seminar["registrations"][3]["status"], "waitlisted");
  // A waitlisted person leaving frees no seat.
  EXPECT_EQ(CancelRegistration(seminar, "d"), std::nullopt);
  EXPECT_EQ(seminar["registrations"][2]["status"], "registered");
  EXPECT_EQ(ProblemOf([&] { (void)CancelRegistration(seminar, "b"); }).status, 409);
  EXPECT_EQ(ProblemOf([&] { (void)CancelRegistration(seminar, "nobody"); }).status, 404);
}

TEST(Certificates, VerificationCodesAreLongAndDistinct) {
  std::set<std::string> codes;
  for (int i = 0; i < 100; ++i) codes.insert(NewVerificationCode());
  EXPECT_EQ(codes.size(), 100u);
  EXPECT_EQ(codes.begin()->size(), 39u);  // 32 base32 characters (160 bits) and 7 dashes
}

TEST(FiscalYear, StartsInApril) {
  EXPECT_EQ(FiscalYearOf("2026-04-01"), 2026);
  EXPECT_EQ(FiscalYearOf("2027-03-31"), 2026);
  EXPECT_EQ(FiscalYearOf("2026-12-01"), 2026);
}

// A small subset of JSON Schema (type, const, enum, required, properties,
// additionalProperties: false, items, $ref to nothing): enough to catch an event drifting from its
// published schema. Returns the first mismatch, or "".
std::string Mismatch(const json& schema, const json& value, const std::string& at) {
  if (schema.contains("const") && value != schema["const"]) return at + ": not the const";
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    return at + ": not in the enum";
  }
  if (schema.contains("type")) {
    const json types = schema["type"].is_array() ? schema["type"] : json::array({schema["type"]});
    bool ok = false;
    for (const auto& t : types) {
      ok |= (t == "string" && value.is_string()) || (t == "integer" && value.is_number_integer()) ||
            (t == "number" && value.is_number()) || (t == "object" && value.is_object()) ||
            (t == "array" && value.is_array()) || (t == "null" && value.is_null()) ||
            (t == "boolean" && value.is_boolean());
    }
    if (!ok) return at + ": wrong type";
  }
  if (value.is_object() && schema.contains("properties")) {
    for (const auto& key : schema.value("required", json::array())) {
      if (!value.contains(key)) return at + "/" + key.get<std::string>() + ": missing";
    }
    for (const auto& [key, member] : value.items()) {
      if (!schema["properties"].contains(key)) {
        if (schema.value("additionalProperties", true) == false) return at + "/" + key + ": extra";
        continue;
      }
      auto inner = Mismatch(schema["properties"][key], member, at + "/" + key);
      if (!inner.empty()) return inner;
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto inner = Mismatch(schema["items"], value[i], at + "/" + std::to_string(i));
      if (!inner.empty()) return inner;
    }
  }
  return "";
}

class MissionsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-missions");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/missions.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), events::InboxMigrations(),
                                         http::IdempotencyMigrations(),
                                         events::PeopleCopyMigrations(), Migrations()});
  }
  // Every event the test produced matches the JSON Schema its dataschema names, in the repo.
  void TearDown() override {
    const auto rows = store_->Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT headers, payload FROM outbox ORDER BY seq");
      std::vector<std::pair<json, json>> out;
      while (stmt.Step()) out.emplace_back(json::parse(stmt.Text(0)), json::parse(stmt.Text(1)));
      return out;
    });
    for (const auto& [headers, payload] : rows) {
      std::string type;
      std::string dataschema;
      for (const auto& header : headers) {
        if (header[0] == "ce_type") type = header[1];
        if (header[0] == "ce_dataschema") dataschema = header[1];
      }
      // Alumnus events are at version 2 (no names or e-mail), the rest at version 1.
      const std::string name = type.substr(std::string("jilaf.missions.").size());
      EXPECT_EQ(dataschema, "/schemas/missions/" + name +
                                (name.rfind("alumnus.", 0) == 0 ? "/v2.json" : "/v1.json"));
      std::ifstream file(std::string(JILAF_SOURCE_DIR) + dataschema);
      ASSERT_TRUE(file) << "no schema file for " << type;
      const auto schema = json::parse(file);
      EXPECT_EQ(Mismatch(schema, payload, ""), "") << type << " " << payload.dump();
    }
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static http::Request Req(const std::string& body, std::map<std::string, std::string> params = {},
                           const std::string& if_match = {}) {
    http::Request request;
    request.method = http::Method::kPost;
    request.headers = {{"content-type", "application/json"}};
    if (!if_match.empty()) request.headers.emplace_back("if-match", if_match);
    request.body = body;
    for (auto& [k, v] : params) request.params[k] = v;
    request.principal.subject = "unit";
    request.principal.authenticated = true;
    return request;
  }

  events::CloudEvent Completed(const std::string& nomination_id, const std::string& email) {
    events::CloudEvent event = events::MakeEvent(
        "/jilaf/invitations", "jilaf.invitations.nomination.completed", nomination_id,
        "nominations/" + nomination_id, "/schemas/invitations/nomination.completed/v1.json",
        {{"nomination_id", nomination_id},
         {"programme_id", "prog-1"},
         {"fiscal_year", 2026},
         {"track", "developing"},
         {"region", nullptr},
         {"programme_title", {{"ja", "招へい"}, {"en", "Young Leaders"}}},
         {"status", "completed"},
         {"previous_status", "arrived"},
         {"candidate",
          {{"family_name", "Nguyen"},
           {"given_name", "Lan"},
           {"nationality", "VN"},
           {"gender", nullptr},
           {"email", email}}},
         {"nominating_organisation",
          {{"name", "VGCL"}, {"country", "VN"}, {"contact_email", nullptr}}},
         {"union", "VGCL"},
         {"position", "Youth officer"}});
    return event;
  }

  events::ApplyOutcome Apply(const events::CloudEvent& event) {
    return store_->Write([&](store::Db& db) {
      return events::ApplyOnce(db, "missions", event, {"jilaf.invitations.events", 0, 1},
                               ApplyInvitationEvent);
    });
  }

  std::vector<std::string> AlumniDocs() {
    return store_->Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT doc FROM alumni ORDER BY seq");
      std::vector<std::string> out;
      while (stmt.Step()) out.push_back(stmt.Text(0));
      return out;
    });
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(MissionsStoreTest, CompletedNominationBecomesAnAlumnusOnce) {
  const auto event = Completed("nom-1", "Lan@Example.org");
  EXPECT_EQ(Apply(event), events::ApplyOutcome::kApplied);
  const auto first = AlumniDocs();
  ASSERT_EQ(first.size(), 1u);
  const auto alumnus = json::parse(first[0]);
  EXPECT_EQ(alumnus["country"], "VN");
  EXPECT_EQ(alumnus["fiscal_year"], 2026);
  EXPECT_EQ(alumnus["programme_title"]["en"], "Young Leaders");
  // The same event delivered again, and the same completion re-sent under a new event id.
  EXPECT_EQ(Apply(event), events::ApplyOutcome::kDuplicate);
  auto resent = event;
  resent.id = events::NewUuid();
  EXPECT_EQ(Apply(resent), events::ApplyOutcome::kApplied);
  EXPECT_EQ(AlumniDocs(), first);
  EXPECT_EQ(store_->Read([](store::Db& db) { return FindAlumnus(db, "LAN@example.ORG", {}); }),
            alumnus["id"].get<std::string>());
}

TEST_F(MissionsStoreTest, PersonHistoryIsInTimeOrderWhateverOrderEventsArrive) {
  auto completed = Completed("nom-1", "lan@example.org");
  completed.data["person_id"] = "person-1";
  completed.time = "2026-06-20T10:00:00.000Z";
  auto submitted = completed;
  submitted.id = events::NewUuid();
  submitted.type = "jilaf.invitations.nomination.submitted";
  submitted.time = "2026-04-01T09:00:00.000Z";
  submitted.data["status"] = "submitted";
  submitted.data["candidate"]["family_name"] = "Nguyen-old";
  events::CloudEvent registered;
  registered.id = events::NewUuid();
  registered.type = "jilaf.missions.registration.registered";
  registered.subject = "seminars/sem-1";
  registered.time = "2026-10-01T08:00:00.000Z";
  registered.data = {{"seminar_id", "sem-1"},
                     {"registration_id", "r-1"},
                     {"status", "registered"},
                     {"person_id", "person-1"}};
  auto anonymous = registered;
  anonymous.id = events::NewUuid();
  anonymous.data.erase("person_id");
  // Delivered out of time order (two topics, several partitions); one without a person.
  for (const auto* event : {&registered, &completed, &anonymous, &submitted}) {
    store_->Write([&](store::Db& db) {
      return events::ApplyOnce(db, "missions-people", *event, {"t", 0, 1}, ApplyPersonEvent);
    });
  }
  const auto person = store_->Read([](store::Db& db) { return PeopleTable().Get(db, "person-1"); });
  ASSERT_EQ(person["history"].size(), 3u);
  EXPECT_EQ(person["history"][0]["what"], "nomination.submitted");
  EXPECT_EQ(person["history"][0]["link"], "/v1/nominations/nom-1");
  EXPECT_EQ(person["history"][1]["what"], "nomination.completed");
  EXPECT_EQ(person["history"][2]["what"], "registration.registered");
  EXPECT_EQ(person["history"][2]["service"], "missions");
  EXPECT_EQ(person["history"][2]["link"], "/v1/seminars/sem-1");
  // The names are those of the latest nomination event, not of the last one applied.
  EXPECT_EQ(person["family_name"], "Nguyen");
}

TEST_F(MissionsStoreTest, OtherInvitationEventsAreIgnoredAndIncompleteOnesRefused) {
  auto other = Completed("nom-2", "x@example.org");
  other.type = "jilaf.invitations.nomination.selected";
  EXPECT_EQ(Apply(other), events::ApplyOutcome::kApplied);
  EXPECT_TRUE(AlumniDocs().empty());
  auto broken = Completed("nom-3", "y@example.org");
  broken.data["candidate"].erase("email");
  EXPECT_THROW(Apply(broken), std::invalid_argument);
  broken.data = json::array();
  EXPECT_THROW(Apply(broken), std::invalid_argument);
  EXPECT_TRUE(AlumniDocs().empty());
}

TEST_F(MissionsStoreTest, BadMissionBodiesAreRejectedFieldByField) {
  const auto problem = ProblemOf([&] {
    CreateMission(Req(R"({"title": {"ja": "調査"}, "countries": ["vn"], "start_date": "2026-13-01",
        "end_date": "2026-05-01", "objectives": [], "delegation": [{"name": "A",
        "organisation": "RENGO", "role": "boss"}], "meetings": [{"date": "2026-05-02",
        "counterpart": "MOLISA", "kind": "ministry", "extra": 1}], "surprise": true})"),
                  *store_);
  });
  EXPECT_EQ(problem.status, 422);
  for (const auto* field : {"/title/en", "/countries", "/start_date", "/delegation/0/role",
                            "/meetings/0/kind", "/meetings/0/extra", "/surprise"}) {
    EXPECT_EQ(problem.fields.count(field), 1u) << field;
  }
  EXPECT_EQ(ProblemOf([&] { CreateMission(Req("[1,"), *store_); }).status, 400);
}

json Body(const http::Response& response) { return json::parse(response.body); }

TEST_F(MissionsStoreTest, MissionIsReportedOnlyAfterItsReportIsPublished) {
  auto created = CreateMission(
      Req(R"({"title": {"ja": "ベトナム調査", "en": "Viet Nam study"}, "countries": ["VN", "KH"],
          "start_date": "2026-05-10", "end_date": "2026-05-20", "objectives": ["minimum wage"],
          "delegation": [{"name": "Sato", "organisation": "JILAF", "role": "head"}]})"),
      *store_);
  ASSERT_EQ(created.status, 201);
  const std::string id = Body(created)["id"];
  auto move = [&](const std::string& path_to, const std::string& etag) {
    return TransitionMission(Req(json({{"to", path_to}}).dump(), {{"id", id}}, etag), *store_);
  };
  EXPECT_EQ(ProblemOf([&] { move("in_progress", ""); }).status, 428);
  EXPECT_EQ(ProblemOf([&] { move("in_progress", "\"v9\""); }).status, 412);
  EXPECT_EQ(move("in_progress", "\"v1\"").status, 200);
  const json report = {{"title", {{"ja", "報告"}, {"en", "Report"}}},
                       {"summary", {{"ja", "要約"}, {"en", "Summary"}}},
                       {"findings", {{"ja", "所見"}, {"en", "Findings"}}}};
  EXPECT_EQ(PutReport(Req(report.dump(), {{"id", id}}, "\"v2\""), *store_).status, 200);
  EXPECT_EQ(move("completed", "\"v3\"").status, 200);
  EXPECT_EQ(ProblemOf([&] { move("reported", "\"v4\""); }).status, 409);
  auto report_move = [&](const std::string& to, const std::string& etag) {
    return TransitionReport(Req(json({{"to", to}}).dump(), {{"id", id}}, etag), *store_);
  };
  EXPECT_EQ(ProblemOf([&] { report_move("published", "\"v4\""); }).status, 409);
  EXPECT_EQ(report_move("in_review", "\"v4\"").status, 200);
  const auto published = report_move("published", "\"v5\"");
  EXPECT_EQ(Body(published)["report"]["status"], "published");
  EXPECT_EQ(move("reported", "\"v6\"").status, 200);
  // The publication is in the outbox, for notifications' website feed and periodical.
  const auto types = store_->Read([](store::Db& db) {
    auto stmt = db.Prepare("SELECT headers FROM outbox ORDER BY seq");
    std::string all;
    while (stmt.Step()) all += stmt.Text(0);
    return all;
  });
  EXPECT_NE(types.find("jilaf.missions.report.published"), std::string::npos);
  EXPECT_NE(types.find("jilaf.missions.mission.reported"), std::string::npos);
}

// PATCH /v1/missions/{id} corrects what its OpenAPI document names (Schemathesis found it
// refused every member); meetings keep their own route.
TEST_F(MissionsStoreTest, PatchCorrectsTheDocumentedMembersAndKeepsMeetings) {
  auto created = CreateMission(Req(R"({"title": {"ja": "調査", "en": "Study"}, "countries": ["VN"],
          "start_date": "2026-05-10", "end_date": "2026-05-20", "objectives": ["wages"],
          "meetings": [{"date": "2026-05-11", "counterpart": "MOLISA", "kind": "government"}]})"),
                               *store_);
  ASSERT_EQ(created.status, 201);
  const std::string id = Body(created)["id"];
  auto patch = [&](const std::string& body, const std::string& etag) {
    auto request = Req(body, {{"id", id}}, etag);
    request.method = http::Method::kPatch;
    return UpdateRecord(request, *store_, Mission());
  };
  const auto corrected = patch(
      R"({"title": {"ja": "調査", "en": "Wage study"}, "countries": ["VN", "KH"],
          "delegation": [{"name": "Sato", "organisation": "JILAF", "role": "head"}]})",
      "\"v1\"");
  ASSERT_EQ(corrected.status, 200) << corrected.body;
  const auto doc = Body(corrected);
  EXPECT_EQ(doc["title"]["en"], "Wage study");
  EXPECT_EQ(doc["countries"], json({"VN", "KH"}));
  EXPECT_EQ(doc["delegation"].size(), 1u);
  EXPECT_EQ(doc["meetings"].size(), 1u);
  const auto refused = ProblemOf([&] { patch(R"({"meetings": []})", "\"v2\""); });
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.fields.count("/meetings"), 1u);
}

TEST_F(MissionsStoreTest, CompletionIssuesCertificatesOnlyAtTheThreshold) {
  auto created = CreateEducationProgramme(
      Req(R"({"title": {"ja": "労使関係講座", "en": "Industrial relations course"},
          "location": "abroad", "country": "ID", "start_date": "2026-07-01",
          "end_date": "2026-07-05", "attendance_threshold_percent": 75,
          "courses": [{"title": "Collective bargaining", "sessions": [{"date": "2026-07-01"},
          {"date": "2026-07-02"}]}, {"title": "OSH", "sessions": [{"date": "2026-07-03"},
          {"date": "2026-07-04"}]}]})"),
      *store_);
  ASSERT_EQ(created.status, 201) << created.body;
  auto doc = Body(created);
  const std::string id = doc["id"];
  std::vector<std::string> sessions;
  for (const auto& course : doc["courses"]) {
    for (const auto& s : course["sessions"]) sessions.push_back(s["id"]);
  }
  ASSERT_EQ(sessions.size(), 4u);
  auto enrol = [&](const std::string& name, const std::string& email) {
    const auto r = EnrolParticipant(
        Req(json({{"name", name}, {"email", email}, {"country", "ID"}}).dump(), {{"id", id}}),
        *store_);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r)["id"].get<std::string>();
  };
  const auto good = enrol("Siti Rahma", "siti@example.org");
  const auto poor = enrol("Budi", "budi@example.org");
  EXPECT_EQ(ProblemOf([&] { enrol("Budi again", "budi@example.org"); }).status, 409);
  EXPECT_EQ(ProblemOf([&] { enrol("Budi shouting", "BUDI@Example.ORG"); }).status, 409);
  std::int64_t version = 3;
  auto etag = [&] { return "\"v" + std::to_string(version++) + "\""; };
  EXPECT_EQ(
      TransitionEducationProgramme(Req(R"({"to": "in_progress"})", {{"id", id}}, etag()), *store_)
          .status,
      200);
  for (int i = 0; i < 4; ++i) {
    const json present = i < 2 ? json{good, poor} : json{good};
    const auto r = RecordAttendance(
        Req(json({{"present", present}}).dump(), {{"id", id}, {"session_id", sessions[i]}}, etag()),
        *store_);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const auto unknown = ProblemOf([&] {
    RecordAttendance(Req(R"({"present": ["ghost"]})", {{"id", id}, {"session_id", sessions[0]}},
                         "\"v" + std::to_string(version) + "\""),
                     *store_);
  });
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.fields.count("/present/0"), 1u);
  const auto done =
      TransitionEducationProgramme(Req(R"({"to": "completed"})", {{"id", id}}, etag()), *store_);
  ASSERT_EQ(done.status, 200) << done.body;
  std::string code;
  const auto completed = Body(done);
  for (const auto& p : completed["participants"]) {
    if (p["id"] == good) {
      EXPECT_EQ(p["status"], "completed");  // 4 of 4
      code = p["certificate_code"];
    } else {
      EXPECT_EQ(p["status"], "not_completed");  // 2 of 4 < 75 %
      EXPECT_FALSE(p.contains("certificate_code"));
    }
  }
  http::Request verify;
  verify.params["code"] = code;
  const auto certificate = Body(VerifyCertificate(verify, *store_));
  EXPECT_EQ(certificate,
            json({{"name", "Siti Rahma"},
                  {"programme", {{"ja", "労使関係講座"}, {"en", "Industrial relations course"}}},
                  {"date", "2026-07-05"}}));
  verify.params["code"] = "0000-0000";
  EXPECT_EQ(ProblemOf([&] { VerifyCertificate(verify, *store_); }).status, 404);
  http::Request report;
  report.params["fy"] = "2026";
  const auto fy = Body(FiscalYearReport(report, *store_));
  EXPECT_EQ(fy["education"]["participants"], 2);
  EXPECT_EQ(fy["education"]["completions"], 1);
  EXPECT_EQ(fy["education"]["certificates"], 1);
  report.params["fy"] = "26";
  EXPECT_EQ(ProblemOf([&] { FiscalYearReport(report, *store_); }).status, 400);
}

TEST_F(MissionsStoreTest, SeminarWaitlistPromotesAndAlumniAreLinked) {
  ASSERT_EQ(Apply(Completed("nom-9", "alumna@example.org")), events::ApplyOutcome::kApplied);
  const auto created =
      CreateSeminar(Req(R"({"title": {"ja": "アジア太平洋セミナー", "en": "Asia-Pacific seminar"},
          "venue": {"name": "Hotel", "city": "Bangkok", "country": "TH"},
          "start_date": "2026-09-01", "end_date": "2026-09-02", "capacity": 1,
          "agenda": [{"title": "Opening", "date": "2026-09-01"}]})"),
                    *store_);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto seminar = Body(created);
  EXPECT_EQ(seminar["co_organisers"], json({"ITUC-AP"}));
  const std::string id = seminar["id"];
  auto reg = [&](const std::string& email) {
    return RegisterForSeminar(
        Req(json({{"name", "P"}, {"email", email}, {"country", "VN"}}).dump(), {{"id", id}}),
        *store_);
  };
  EXPECT_EQ(ProblemOf([&] { reg("early@example.org"); }).status, 409);  // not open yet
  const auto invited = InviteAlumni(
      Req(json({{"target", {{"kind", "seminar"}, {"id", id}}}, {"filter", {{"country", "VN"}}}})
              .dump()),
      *store_);
  EXPECT_EQ(Body(invited)["invited"].size(), 1u);
  ASSERT_EQ(
      TransitionSeminar(Req(R"({"to": "registration_open"})", {{"id", id}}, "\"v1\""), *store_)
          .status,
      200);
  const auto first = Body(reg("first@example.org"));
  const auto second = Body(reg("ALUMNA@example.org"));
  EXPECT_EQ(first["status"], "registered");
  EXPECT_EQ(second["status"], "waitlisted");
  EXPECT_TRUE(second.contains("alumnus_id"));
  EXPECT_EQ(ProblemOf([&] { reg("first@EXAMPLE.org"); }).status, 409);
  http::Request cancel = Req("", {{"id", id}, {"registration_id", first["id"]}});
  EXPECT_EQ(Body(CancelSeminarRegistration(cancel, *store_))["promoted"], second["id"]);
  http::Request get;
  get.params["id"] = second["alumnus_id"];
  const auto alumnus = Body(GetAlumnus(get, *store_));
  ASSERT_EQ(alumnus["history"].size(), 1u);
  EXPECT_EQ(alumnus["history"][0]["target_id"], id);
  EXPECT_FALSE(alumnus["history"][0]["invited_at"].is_null());
  EXPECT_EQ(alumnus["history"][0]["registration_id"], second["id"]);
  // Cancelling takes the registration out of the alumnus's history; the invitation stays.
  http::Request cancel_alumna = Req("", {{"id", id}, {"registration_id", second["id"]}});
  EXPECT_EQ(Body(CancelSeminarRegistration(cancel_alumna, *store_))["promoted"], nullptr);
  const auto after = Body(GetAlumnus(get, *store_));
  EXPECT_TRUE(after["history"][0]["registered_at"].is_null());
  EXPECT_FALSE(after["history"][0]["invited_at"].is_null());
  const auto bad = ProblemOf([&] {
    InviteAlumni(Req(R"({"target": {"kind": "party", "id": ""}, "filter": {"country": "vn"}})"),
                 *store_);
  });
  EXPECT_EQ(bad.status, 422);
  for (const auto* field : {"/target/kind", "/target/id", "/filter/country"}) {
    EXPECT_EQ(bad.fields.count(field), 1u) << field;
  }
}

// "XX" is a user-assigned code, not a country: refused in bodies and in list filters.
TEST_F(MissionsStoreTest, XXIsRefusedAsACountryInBodiesAndFilters) {
  auto list = Req("");
  list.method = http::Method::kGet;
  list.query["country"] = "XX";
  EXPECT_EQ(ProblemOf([&] { ListMissions(list, *store_); }).status, 400);
  EXPECT_EQ(ProblemOf([&] { ListSeminars(list, *store_); }).status, 400);
  EXPECT_EQ(ProblemOf([&] { ListEducationProgrammes(list, *store_); }).status, 400);
  EXPECT_EQ(ProblemOf([&] { ListAlumni(list, *store_); }).status, 400);
  list.query["country"] = "VN";
  EXPECT_EQ(ListMissions(list, *store_).status, 200);
  const auto mission = ProblemOf([&] {
    CreateMission(Req(R"({"title": {"ja": "調査", "en": "Study"}, "countries": ["VN", "XX"],
        "start_date": "2026-05-10", "end_date": "2026-05-20", "objectives": ["wages"]})"),
                  *store_);
  });
  EXPECT_EQ(mission.status, 422);
  EXPECT_EQ(mission.fields.count("/countries"), 1u);
  const auto seminar = ProblemOf([&] {
    CreateSeminar(Req(R"({"title": {"ja": "セミナー", "en": "Seminar"}, "venue": {"name": "Hall",
        "city": "Nowhere", "country": "XX"}, "start_date": "2026-06-01",
        "end_date": "2026-06-02", "capacity": 10})"),
                  *store_);
  });
  EXPECT_EQ(seminar.status, 422);
  EXPECT_EQ(seminar.fields.count("/venue/country"), 1u);
}

TEST_F(MissionsStoreTest, TransitionsRecordTheirReasonInStatusHistory) {
  const auto created =
      CreateSeminar(Req(R"({"title": {"ja": "セミナー", "en": "Seminar"}, "venue": {"name": "Hall",
          "city": "Hanoi", "country": "VN"}, "start_date": "2026-06-01",
          "end_date": "2026-06-02", "capacity": 10})"),
                    *store_);
  const std::string id = Body(created)["id"];
  EXPECT_EQ(ProblemOf([&] {
              TransitionSeminar(Req(R"({"to": "registration_open", "reason": "a", "note": "b"})",
                                    {{"id", id}}, "\"v1\""),
                                *store_);
            }).status,
            422);
  // `note` is still read, as a deprecated name of `reason`.
  const auto moved = Body(TransitionSeminar(
      Req(R"({"to": "registration_open", "note": "call is out"})", {{"id", id}}, "\"v1\""),
      *store_));
  ASSERT_EQ(moved["status_history"].size(), 1u);
  EXPECT_EQ(moved["status_history"][0]["from"], "planned");
  EXPECT_EQ(moved["status_history"][0]["to"], "registration_open");
  EXPECT_EQ(moved["status_history"][0]["by"], "unit");
  EXPECT_EQ(moved["status_history"][0]["reason"], "call is out");
  EXPECT_FALSE(moved.contains("history"));
}

// Migration 3: a document stored with `history` entries carrying `note` reads back with
// `status_history` entries carrying `reason`.
TEST_F(MissionsStoreTest, AnAlumnusIsInvitedToATargetOnce) {
  const auto invited = [&](const std::string& at) {
    return store_->Write(
        [&](store::Db& tx) { return RecordInvitation(tx, "a1", "seminar", "s1", 2026, at); });
  };
  store_->Write([](store::Db& tx) {
    InsertAlumnusOnce(tx, {{"id", "a1"},
                           {"nomination_id", "n1"},
                           {"email", "Lan@example.org"},
                           {"country", "VN"},
                           {"fiscal_year", 2026},
                           {"created_at", "2026-05-01T00:00:00Z"}});
  });
  EXPECT_TRUE(invited("2026-06-01T00:00:00Z"));   // the first invitation is recorded
  EXPECT_FALSE(invited("2026-06-02T00:00:00Z"));  // a second one to the same target is not
  const auto engagements = store_->Read([](store::Db& db) { return Engagements(db, "a1"); });
  ASSERT_EQ(engagements.size(), 1u);
  EXPECT_EQ(engagements[0]["invited_at"], "2026-06-01T00:00:00Z");
}

TEST_F(MissionsStoreTest, MigrationMovesHistoryToStatusHistory) {
  const std::string path = dir_ + "/old.db";
  auto before = Migrations();
  before.migrations.resize(2);
  const json old_entries = json::array({{{"from", "planned"},
                                         {"to", "in_progress"},
                                         {"at", "2026-05-10T00:00:00Z"},
                                         {"by", "officer"},
                                         {"note", "departed"}},
                                        {{"from", "report:draft"},
                                         {"to", "report:in_review"},
                                         {"at", "2026-05-21T00:00:00Z"},
                                         {"by", "officer"}}});
  {
    store::Store old(store::StoreOptions{path}, {before});
    old.Write([&](store::Db& tx) {
      auto insert = tx.Prepare(
          "INSERT INTO missions(id, status, fiscal_year, version, doc, created_at, updated_at)"
          " VALUES ('m1', 'in_progress', 2026, 3, ?, 't', 't')");
      insert.Bind(1, json({{"id", "m1"},
                           {"version", 3},
                           {"status", "in_progress"},
                           {"fiscal_year", 2026},
                           {"history", old_entries}})
                         .dump());
      insert.Run();
    });
  }
  store::Store migrated(store::StoreOptions{path}, {Migrations()});
  const auto doc = Body(GetMission(Req("", {{"id", "m1"}}), migrated));
  EXPECT_FALSE(doc.contains("history"));
  ASSERT_EQ(doc["status_history"].size(), 2u);
  EXPECT_EQ(doc["status_history"][0], json({{"from", "planned"},
                                            {"to", "in_progress"},
                                            {"at", "2026-05-10T00:00:00Z"},
                                            {"by", "officer"},
                                            {"reason", "departed"}}));
  EXPECT_EQ(doc["status_history"][1], old_entries[1]);
  EXPECT_EQ(doc["version"], 3);
}

}  // namespace
}  // namespace jilaf::missions
