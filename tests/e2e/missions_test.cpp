// The missions service end to end: the alumni directory fed from jilaf.invitations.events by the
// real broker, invitations and linked registrations, dead letters, and hostile requests.
#include "common/events/cloud_event.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kCompleted = "jilaf.invitations.nomination.completed";

// The data of a nomination.completed event, as the invitations service emits it.
json CompletedData(const std::string& nomination_id, const std::string& email,
                   const std::string& country) {
  return {{"nomination_id", nomination_id},
          // The real producer's shape (schemas/invitations/nomination.completed/v1.json): the
          // contract check validates events the tests produce, ids included.
          {"programme_id", "5b7f3c1e-9a2d-4e8b-8f6a-2c4d6e8f0a1b"},
          {"fiscal_year", 2026},
          {"track", "developing"},
          {"region", "Asia"},
          {"programme_title", {{"ja", "アジア青年指導者招へい"}, {"en", "Asia Young Leaders"}}},
          {"status", "completed"},
          {"previous_status", "arrived"},
          {"candidate",
           {{"family_name", "Sok"},
            {"given_name", "Dara"},
            {"nationality", country},
            {"gender", nullptr},
            {"email", email}}},
          {"nominating_organisation",
           {{"name", "CLC"}, {"country", country}, {"contact_email", nullptr}}},
          {"union", "Cambodian Labour Confederation"},
          {"position", "Youth officer"}};
}

class MissionsE2eTest : public E2eTest {
 protected:
  // The alumnus for a nomination, once the consumer has applied its event (null on timeout).
  json WaitForAlumnus(const RunningService& missions, const std::string& nomination_id,
                      seconds timeout) {
    json found;
    testing::WaitUntil(
        [&] {
          std::string token;
          do {
            const auto page = Call(missions, "GET",
                                   "/v1/alumni?country=KH&fiscal_year=2026&page_size=200" +
                                       (token.empty() ? "" : "&page_token=" + token),
                                   {}, Token("viewer"));
            if (page.status != 200) return false;
            const auto body = json::parse(page.body);
            for (const auto& item : body["items"]) {
              if (item["nomination_id"] == nomination_id) found = item;
            }
            token = body.value("next_page_token", "");
          } while (!token.empty() && found.is_null());
          return !found.is_null();
        },
        timeout);
    return found;
  }

  json Post(const RunningService& service, const std::string& path, const json& body, int expected,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto result = Call(service, "POST", path, body.dump(), staff_token_, std::move(headers));
    EXPECT_EQ(result.status, expected) << path << ": " << result.body;
    return result.body.empty() ? json() : json::parse(result.body);
  }
};

const json kSeminar = {
    {"title", {{"ja", "アジア太平洋労働セミナー"}, {"en", "Asia-Pacific seminar"}}},
    {"venue", {{"name", "Sunway"}, {"city", "Phnom Penh"}, {"country", "KH"}}},
    {"start_date", "2026-10-05"},
    {"end_date", "2026-10-06"},
    {"capacity", 30},
    {"agenda", {{{"title", "Opening"}, {"date", "2026-10-05"}}}}};

TEST_F(MissionsE2eTest, CompletedInviteeJoinsAlumniIsInvitedAndRegistersLinked) {
  auto& missions = StartMissions();
  const std::string nomination_id = events::NewUuid();
  const std::string email = "dara." + nomination_id.substr(0, 8) + "@example.org";
  ProduceEvent("jilaf.invitations.events", kCompleted, nomination_id,
               CompletedData(nomination_id, email, "KH"));
  const json alumnus = WaitForAlumnus(missions, nomination_id, seconds(90));
  ASSERT_FALSE(alumnus.is_null()) << "the completed invitee never reached the alumni directory";
  EXPECT_EQ(alumnus["country"], "KH");
  EXPECT_EQ(alumnus["fiscal_year"], 2026);
  EXPECT_EQ(alumnus["programme_title"]["en"], "Asia Young Leaders");
  const std::string alumnus_id = alumnus["id"];

  // The same completion again (a replay under a new event id) adds nobody.
  const std::string consumed = "jilaf_events_consumed_total{consumer=\"" + missions_group_ + "\"";
  const double before = Metric(missions, consumed);
  ProduceEvent("jilaf.invitations.events", kCompleted, nomination_id,
               CompletedData(nomination_id, email, "KH"));
  ASSERT_TRUE(testing::WaitUntil([&] { return Metric(missions, consumed) > before; }, seconds(60)));

  const json seminar = Post(missions, "/v1/seminars", kSeminar, 201);
  const std::string seminar_id = seminar["id"];
  EXPECT_EQ(seminar["co_organisers"], json({"ITUC-AP"}));
  const json invited = Post(missions, "/v1/alumni/invitations",
                            {{"target", {{"kind", "seminar"}, {"id", seminar_id}}},
                             {"filter", {{"country", "KH"}, {"fiscal_year", 2026}}}},
                            201, {{"Idempotency-Key", "invite-" + seminar_id}});
  EXPECT_NE(std::find(invited["invited"].begin(), invited["invited"].end(), alumnus_id),
            invited["invited"].end())
      << invited.dump();

  const auto opened =
      Call(missions, "POST", "/v1/seminars/" + seminar_id + "/transitions",
           R"({"to": "registration_open"})", staff_token_, {{"If-Match", "\"v1\""}});
  ASSERT_EQ(opened.status, 200) << opened.body;
  std::string shouting = email;
  for (auto& c : shouting) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const json registration =
      Post(missions, "/v1/seminars/" + seminar_id + "/registrations",
           {{"name", "Sok Dara"}, {"email", shouting}, {"country", "KH"}}, 201);
  EXPECT_EQ(registration["status"], "registered");
  EXPECT_EQ(registration["alumnus_id"], alumnus_id);

  const auto history = Call(missions, "GET", "/v1/alumni/" + alumnus_id, {}, staff_token_);
  ASSERT_EQ(history.status, 200);
  const auto linked = json::parse(history.body)["history"];
  ASSERT_EQ(linked.size(), 1u) << linked.dump();
  EXPECT_EQ(linked[0]["target_id"], seminar_id);
  EXPECT_EQ(linked[0]["registration_id"], registration["id"]);
  EXPECT_FALSE(linked[0]["invited_at"].is_null());

  // Exactly one alumnus for the nomination despite the replay.
  int copies = 0;
  const auto page = Call(missions, "GET", "/v1/alumni?country=KH&page_size=200", {}, staff_token_);
  const auto items = json::parse(page.body)["items"];
  for (const auto& item : items) {
    copies += item["nomination_id"] == nomination_id ? 1 : 0;
  }
  EXPECT_EQ(copies, 1);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Metric(missions, "jilaf_events_published_total{topic=\"jilaf.missions.events\"}") >=
               4.0;
      },
      seconds(60)));
}

TEST_F(MissionsE2eTest, SeminarAndCourseCorrectionsKeepTheCreateRulesAndAreFoundBySearch) {
  auto& missions = StartMissions();
  const json seminar = Post(missions, "/v1/seminars", kSeminar, 201);
  const std::string id = seminar["id"];
  const std::string path = "/v1/seminars/" + id;
  ASSERT_EQ(Call(missions, "POST", path + "/transitions", R"({"to": "registration_open"})",
                 staff_token_, {{"If-Match", "\"v1\""}})
                .status,
            200);
  for (const auto* name : {"Sok Dara", "Chan Sophea"}) {
    Post(missions, path + "/registrations",
         {{"name", name},
          {"email", std::string(name).substr(0, 3) + "@example.org"},
          {"country", "KH"}},
         201);
  }
  auto patch = [&](const json& body, std::vector<std::pair<std::string, std::string>> headers) {
    if (headers.empty()) {
      const auto current = Call(missions, "GET", path, {}, staff_token_);
      headers = {{"If-Match", std::string(current.Header("etag"))}};
    }
    return Call(missions, "PATCH", path, body.dump(), staff_token_, headers);
  };
  EXPECT_EQ(Call(missions, "PATCH", path, R"({"capacity": 40})", staff_token_).status, 428);
  // Each broken rule names itself and changes nothing.
  const auto below = patch({{"capacity", 1}}, {});
  EXPECT_EQ(below.status, 409) << below.body;
  EXPECT_NE(below.body.find("capacity-below-registrations"), std::string::npos);
  const auto reversed = patch({{"end_date", "2026-10-01"}}, {});
  EXPECT_EQ(reversed.status, 422) << reversed.body;
  EXPECT_NE(reversed.body.find("/end_date"), std::string::npos);
  const auto owned = patch({{"registrations", json::array()}}, {});
  EXPECT_EQ(owned.status, 422) << owned.body;
  EXPECT_NE(owned.body.find("/registrations"), std::string::npos);
  EXPECT_EQ(json::parse(Call(missions, "GET", path, {}, staff_token_).body)["version"], 4);
  // A good correction: read again as on create, announced with what changed.
  const auto fixed = patch({{"capacity", 2}, {"title", {{"en", "Mekong labour seminar"}}}}, {});
  ASSERT_EQ(fixed.status, 200) << fixed.body;
  const auto doc = json::parse(fixed.body);
  EXPECT_EQ(doc["capacity"], 2);
  EXPECT_EQ(doc["title"]["en"], "Mekong labour seminar");
  EXPECT_EQ(doc["title"]["ja"], kSeminar["title"]["ja"]);
  EXPECT_EQ(doc["registrations"].size(), 2u);
  // Search by the new title and by a registrant, in any case and order.
  for (const auto* q : {"mekong", "SEMINAR%20labour", "sophea"}) {
    const auto found = Call(missions, "GET", std::string("/v1/seminars?q=") + q, {}, staff_token_);
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(json::parse(found.body)["items"].size(), 1u) << q;
  }
  // A course: its dates still hold every session, and the courses themselves are not patched.
  const json course = Post(
      missions, "/v1/education-programmes",
      {{"title", {{"ja", "講座"}, {"en", "Course"}}},
       {"location", "japan"},
       {"start_date", "2026-07-01"},
       {"end_date", "2026-07-02"},
       {"courses",
        {{{"title", "A"}, {"sessions", {{{"date", "2026-07-01"}}, {{"date", "2026-07-02"}}}}}}}},
      201);
  const std::string course_path = "/v1/education-programmes/" + course["id"].get<std::string>();
  auto patch_course = [&](const json& body) {
    const auto current = Call(missions, "GET", course_path, {}, staff_token_);
    return Call(missions, "PATCH", course_path, body.dump(), staff_token_,
                {{"If-Match", std::string(current.Header("etag"))}});
  };
  const auto shortened = patch_course({{"end_date", "2026-07-01"}});
  EXPECT_EQ(shortened.status, 422) << shortened.body;
  EXPECT_NE(shortened.body.find("/courses/0/sessions/1/date"), std::string::npos);
  EXPECT_EQ(patch_course({{"courses", json::array()}}).status, 422);
  const auto moved = patch_course({{"location", "abroad"}, {"country", "KH"}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(json::parse(moved.body)["country"], "KH");
  EXPECT_EQ(json::parse(moved.body)["courses"], course["courses"]);  // session ids kept

  EventReader reader(bootstrap_, "jilaf.missions.events");
  const auto& events = reader.ReadUntil(
      [&](const auto& all) {
        return HasType(id, "jilaf.missions.seminar.updated")(all) &&
               HasType(course["id"], "jilaf.missions.education_programme.updated")(all);
      },
      seconds(60));
  int updated = 0;
  for (const auto& event : events) {
    if (event.key != id || event.type != "jilaf.missions.seminar.updated") continue;
    ++updated;
    EXPECT_EQ(event.data["changed"], json({"title", "capacity"}));
    EXPECT_EQ(event.data["capacity"], 2);
  }
  EXPECT_EQ(updated, 1);
}

TEST_F(MissionsE2eTest, ForgedOrMalformedInvitationEventsGoToTheMissionsDeadLetterTopic) {
  auto& missions = StartMissions();
  const std::string unreadable_key = "forged-" + events::NewUuid();
  const std::string incomplete_key = "incomplete-" + events::NewUuid();
  ProduceRaw("jilaf.invitations.events", unreadable_key, "{not a cloud event", {});
  json broken = CompletedData(incomplete_key, "x@example.org", "KH");
  broken["candidate"].erase("email");
  ProduceMalformedEvent("jilaf.invitations.events", kCompleted, incomplete_key, broken);
  // A good event behind them still gets through.
  const std::string good = events::NewUuid();
  ProduceEvent("jilaf.invitations.events", kCompleted, good,
               CompletedData(good, "good@example.org", "KH"));
  EXPECT_FALSE(WaitForAlumnus(missions, good, seconds(90)).is_null());

  auto unreadable = FindMessage("jilaf.missions.dlq", unreadable_key, seconds(60));
  ASSERT_FALSE(unreadable.empty()) << "forged message not found in jilaf.missions.dlq";
  EXPECT_EQ(unreadable["dlq_origin_topic"], "jilaf.invitations.events");
  EXPECT_NE(unreadable["dlq_error"].find("missing ce_specversion"), std::string::npos);
  EXPECT_EQ(unreadable["(value)"], "{not a cloud event");
  auto incomplete = FindMessage("jilaf.missions.dlq", incomplete_key, seconds(60));
  ASSERT_FALSE(incomplete.empty()) << "incomplete event not found in jilaf.missions.dlq";
  EXPECT_EQ(incomplete["ce_type"], kCompleted);
  EXPECT_NE(incomplete["dlq_error"].find("/candidate/email"), std::string::npos)
      << incomplete["dlq_error"];
  EXPECT_GE(
      Metric(missions, "jilaf_events_dead_lettered_total{consumer=\"" + missions_group_ + "\""),
      2.0);
}

// Issue 19, part 3: an event on invitations' topic whose CloudEvents source is another service
// (a forgery by anything that can reach the broker) is dead-lettered with the reason and never
// becomes an alumnus; the owner's own event behind it does.
TEST_F(MissionsE2eTest, AnEventFromANonOwnerSourceIsDeadLetteredAndNothingApplied) {
  auto& missions = StartMissions();
  const std::string forged_key = events::NewUuid();
  const auto forged =
      events::MakeEvent("/jilaf/projects", kCompleted, forged_key, "nominations/" + forged_key, {},
                        CompletedData(forged_key, "forged@example.org", "KH"));
  events::Headers headers;
  std::string value;
  events::ToKafka(forged, headers, value);
  ProduceRaw("jilaf.invitations.events", forged_key, value, headers);
  const std::string good = events::NewUuid();
  ProduceEvent("jilaf.invitations.events", kCompleted, good,
               CompletedData(good, "owner@example.org", "KH"));
  EXPECT_FALSE(WaitForAlumnus(missions, good, seconds(90)).is_null());

  auto letter = FindMessage("jilaf.missions.dlq", forged_key, seconds(60));
  ASSERT_FALSE(letter.empty()) << "forged event not found in jilaf.missions.dlq";
  EXPECT_EQ(letter["dlq_origin_topic"], "jilaf.invitations.events");
  EXPECT_EQ(letter["ce_source"], "/jilaf/projects");
  EXPECT_NE(letter["dlq_error"].find("source /jilaf/projects does not own topic"),
            std::string::npos)
      << letter["dlq_error"];
  // Consumed in order: the good event behind it was applied, so the forged one was settled first.
  EXPECT_TRUE(WaitForAlumnus(missions, forged_key, seconds(1)).is_null());
}

// Every endpoint answers bad input with a problem naming the field or parameter.
TEST_F(MissionsE2eTest, EveryEndpointRejectsBadInputFieldByField) {
  auto& missions = StartMissions();
  auto fields = [](const testing::HttpResult& result) {
    std::set<std::string> out;
    const auto body = json::parse(result.body);
    for (const auto& e : body.value("errors", json::array())) out.insert(e["field"]);
    return out;
  };
  auto expect = [&](const std::string& method, const std::string& path, const std::string& body,
                    int status, std::set<std::string> want,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto result = Call(missions, method, path, body, staff_token_, std::move(headers));
    EXPECT_EQ(result.status, status) << method << " " << path << ": " << result.body;
    EXPECT_EQ(result.Header("content-type"), "application/problem+json") << path;
    const auto got = fields(result);
    for (const auto& field : want) EXPECT_EQ(got.count(field), 1u) << path << " " << field;
  };
  expect("POST", "/v1/missions",
         R"({"title": {"ja": "x"}, "countries": ["xx"], "start_date": "2026-02-30",
             "end_date": "2026-05-01", "objectives": "many", "delegation": [{"name": "A",
             "organisation": "B", "role": "chief"}], "extra": 1})",
         422,
         {"/title/en", "/countries", "/start_date", "/objectives", "/delegation/0/role", "/extra"});
  expect("POST", "/v1/missions", "{\"title\": ", 400, {});
  expect("POST", "/v1/education-programmes",
         R"({"title": {"ja": "x", "en": "y"}, "location": "moon", "start_date": "2026-07-01",
             "end_date": "2026-07-02", "attendance_threshold_percent": 150,
             "courses": [{"title": "A", "sessions": [{"date": "2026-08-01"}]}]})",
         422, {"/location", "/attendance_threshold_percent", "/courses/0/sessions/0/date"});
  expect("POST", "/v1/seminars",
         R"({"title": {"ja": "x", "en": "y"}, "venue": {"name": "V", "city": "C"},
             "start_date": "2026-10-01", "end_date": "2026-09-01", "capacity": 0})",
         422, {"/venue/country", "/end_date", "/capacity"});
  expect("POST", "/v1/alumni/invitations", R"({"target": {"kind": "party"}})", 422,
         {"/target/kind", "/target/id"});
  expect("GET", "/v1/alumni?country=Cambodia", {}, 400, {});
  expect("GET", "/v1/seminars?status=finished", {}, 400, {});
  expect("GET", "/v1/reports/fiscal-years/20x6", {}, 400, {});
  expect("GET", "/v1/missions/no-such-mission", {}, 404, {});

  const json seminar = Post(missions, "/v1/seminars", kSeminar, 201);
  const std::string seminar_path = "/v1/seminars/" + seminar["id"].get<std::string>();
  expect("POST", seminar_path + "/transitions", R"({"too": "held"})", 422, {"/to", "/too"},
         {{"If-Match", "\"v1\""}});
  expect("POST", seminar_path + "/transitions", R"({"to": "held"})", 409, {},
         {{"If-Match", "\"v1\""}});
  expect("POST", seminar_path + "/transitions", R"({"to": "registration_open"})", 428, {});
  expect("POST", seminar_path + "/transitions", R"({"to": "registration_open"})", 412, {},
         {{"If-Match", "\"v7\""}});
  expect("POST", seminar_path + "/registrations",
         R"({"name": "", "email": "not-an-email", "country": "kh"})", 422,
         {"/name", "/email", "/country"});

  const json programme =
      Post(missions, "/v1/education-programmes",
           {{"title", {{"ja", "講座"}, {"en", "Course"}}},
            {"location", "japan"},
            {"start_date", "2026-07-01"},
            {"end_date", "2026-07-02"},
            {"courses", {{{"title", "A"}, {"sessions", {{{"date", "2026-07-01"}}}}}}}},
           201);
  const std::string programme_path =
      "/v1/education-programmes/" + programme["id"].get<std::string>();
  EXPECT_EQ(programme["country"], "JP");
  expect("POST", programme_path + "/participants", R"({"name": "A", "country": "JP"})", 422,
         {"/email"});
  const std::string session_id = programme["courses"][0]["sessions"][0]["id"];
  expect("PUT", programme_path + "/sessions/" + session_id + "/attendance", R"({"present": [1]})",
         422, {"/present/0"}, {{"If-Match", "\"v1\""}});

  const json mission = Post(missions, "/v1/missions",
                            {{"title", {{"ja", "調査"}, {"en", "Study"}}},
                             {"countries", {"KH"}},
                             {"start_date", "2026-05-01"},
                             {"end_date", "2026-05-09"},
                             {"objectives", {"wages"}}},
                            201);
  const std::string mission_path = "/v1/missions/" + mission["id"].get<std::string>();
  expect("POST", mission_path + "/meetings", R"({"date": "2026-05-02", "kind": "pub"})", 422,
         {"/counterpart", "/kind"}, {{"If-Match", "\"v1\""}});
  expect("PUT", mission_path + "/report", R"({"title": {"ja": "報告", "en": ""}})", 422,
         {"/title/en", "/summary", "/findings"}, {{"If-Match", "\"v1\""}});

  // Public certificate check needs no token and reveals nothing for an unknown code.
  const auto certificate = Call(missions, "GET", "/v1/certificates/ABCD-EFGH", {}, {});
  EXPECT_EQ(certificate.status, 404);
  EXPECT_EQ(Call(missions, "GET", "/v1/alumni", {}, {}).status, 401);
  EXPECT_EQ(Call(missions, "POST", "/v1/seminars", kSeminar.dump(), Token("viewer")).status, 403);
  const auto openapi = Call(missions, "GET", "/openapi.json", {}, {});
  ASSERT_EQ(openapi.status, 200);
  EXPECT_EQ(json::parse(openapi.body)["openapi"], "3.1.0");
}

}  // namespace
}  // namespace jilaf::e2e
