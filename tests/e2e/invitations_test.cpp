// The invitation programme year end to end: the real invitations binary, HTTP, and the real
// broker; events are read back from jilaf.invitations.events with a consumer of the test's own.
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/events/cloud_event.hpp"
#include "common/store/sqlite.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using std::chrono::seconds;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class InvitationsE2e : public E2eTest {
 protected:
  std::string CreateProgramme(const RunningService& service, std::int64_t seats,
                              nlohmann::json quotas, const std::string& end = "2026-06-20") {
    const nlohmann::json body = {{"fiscal_year", 2026},
                                 {"title", {{"ja", "青年指導者招へい"}, {"en", "Young Leaders"}}},
                                 {"track", "developing"},
                                 {"region", "Asia"},
                                 {"start_date", "2026-06-01"},
                                 {"end_date", end},
                                 {"seats", seats},
                                 {"country_quotas", quotas},
                                 {"host_organisations", {"RENGO"}},
                                 {"status", "open"}};
    const auto result = Call(service, "POST", "/v1/programmes", body.dump(), staff_token_);
    EXPECT_EQ(result.status, 201) << result.body;
    return nlohmann::json::parse(result.body).value("id", "");
  }

  nlohmann::json NominateFull(const RunningService& service, const std::string& programme,
                              const std::string& family, const std::string& nationality,
                              const std::string& passport = {},
                              const std::string& email = "lan@example.org") {
    nlohmann::json candidate = {{"family_name", family},        {"given_name", "Lan"},
                                {"katakana_name", "ラン"},      {"gender", "female"},
                                {"nationality", nationality},   {"email", email},
                                {"union", "National Centre"},   {"position", "Youth officer"},
                                {"date_of_birth", "1992-03-04"}};
    if (!passport.empty()) candidate["passport_number"] = passport;
    const nlohmann::json body = {
        {"candidate", candidate},
        {"nominating_organisation", {{"name", "Centre"}, {"country", nationality}}}};
    const auto result = Call(service, "POST", "/v1/programmes/" + programme + "/nominations",
                             body.dump(), staff_token_);
    EXPECT_EQ(result.status, 201) << result.body;
    return nlohmann::json::parse(result.body, nullptr, false);
  }

  /// Reads the nomination's ETag, then moves it; returns the response.
  testing::HttpResult Move(const RunningService& service, const std::string& id,
                           const std::string& to, const std::string& token = {}) {
    const auto current = Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_);
    return Call(service, "POST", "/v1/nominations/" + id + "/transitions",
                nlohmann::json({{"to", to}}).dump(), token.empty() ? staff_token_ : token,
                {{"If-Match", std::string(current.Header("etag"))}});
  }

  /// Reads the programme's ETag, then moves it; returns the response.
  testing::HttpResult MoveProgramme(const RunningService& service, const std::string& id,
                                    const std::string& to) {
    const auto current = Call(service, "GET", "/v1/programmes/" + id, {}, staff_token_);
    return Call(service, "POST", "/v1/programmes/" + id + "/transitions",
                nlohmann::json({{"to", to}}).dump(), staff_token_,
                {{"If-Match", std::string(current.Header("etag"))}});
  }

  /// Reads the nomination's ETag, then sends `body` to `path` (under the nomination) with it.
  testing::HttpResult WithEtag(const RunningService& service, const std::string& method,
                               const std::string& id, const std::string& path,
                               const nlohmann::json& body, const std::string& token) {
    const auto current = Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_);
    return Call(service, method, "/v1/nominations/" + id + path, body.dump(), token,
                {{"If-Match", std::string(current.Header("etag"))}});
  }
};

TEST_F(InvitationsE2e, FullParticipantJourneyWithLogisticsLettersAndFollowUps) {
  // The periodic scan (as of today) stays out of the way; the test runs it as of fixed dates.
  auto& service = StartInvitations({"--followup-scan-ms", "86400000"});
  const auto programme = CreateProgramme(service, 10, {{"VN", 2}});
  const std::string id = NominateFull(service, programme, "Tran", "VN", "B7654321")["id"];
  const std::vector<std::string> journey = {"screened",     "selected",     "invited",
                                            "visa_applied", "visa_granted", "travel_booked",
                                            "arrived",      "completed"};
  for (const auto& to : journey) {
    if (to == "invited") {
      const auto letter =
          Call(service, "GET", "/v1/nominations/" + id + "/documents/invitation-letter?lang=ja", {},
               staff_token_);
      EXPECT_EQ(letter.status, 200);
      EXPECT_NE(letter.body.find("招へい状"), std::string::npos);
      const auto logistics =
          Call(service, "PUT", "/v1/nominations/" + id + "/logistics",
               R"({"arrival": {"flight": "VN300", "airport": "NRT", "at": "2026-05-31T07:30"},
              "departure": {"flight": "VN301", "airport": "NRT", "at": "2026-06-21T10:00"},
              "hotel": {"name": "Hotel Rengo", "city": "Tokyo", "check_in": "2026-05-31",
                        "check_out": "2026-06-21"}})",
               staff_token_);
      EXPECT_EQ(logistics.status, 201) << logistics.body;
      const auto stale = Call(service, "PUT", "/v1/nominations/" + id + "/logistics", "{}",
                              staff_token_, {{"If-Match", "\"v9\""}});
      EXPECT_EQ(stale.status, 412);
    }
    const auto moved = Move(service, id, to);
    ASSERT_EQ(moved.status, 200) << to << ": " << moved.body;
    EXPECT_EQ(nlohmann::json::parse(moved.body)["status"], to);
  }
  // Every move is in the history; a completed record is no longer corrected.
  const auto done = Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_);
  const auto history = nlohmann::json::parse(done.body)["status_history"];
  ASSERT_EQ(history.size(), journey.size());
  EXPECT_EQ(history[0]["from"], "submitted");
  EXPECT_EQ(history[0]["by"], "e2e-staff");
  EXPECT_EQ(history.back()["to"], "completed");
  const auto closed =
      WithEtag(service, "PATCH", id, "", {{"candidate", {{"position", "Chair"}}}}, staff_token_);
  EXPECT_EQ(closed.status, 409) << closed.body;
  const auto itinerary = Call(service, "POST", "/v1/programmes/" + programme + "/itinerary",
                              R"({"starts_at": "2026-06-02T10:00", "organisation": "RENGO",
                                  "city": "Tokyo", "topic": "Social dialogue",
                                  "interpreter_needed": true})",
                              staff_token_);
  EXPECT_EQ(itinerary.status, 201) << itinerary.body;

  const auto followups =
      Call(service, "GET", "/v1/nominations/" + id + "/followups", {}, staff_token_);
  const auto items = nlohmann::json::parse(followups.body)["items"];
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["due_date"], "2026-09-20");
  const std::string first = items[0]["id"];
  const auto report = Call(service, "POST", "/v1/followups/" + first + "/report",
                           R"({"summary": "Organised a youth committee."})", staff_token_);
  EXPECT_EQ(report.status, 201) << report.body;
  const auto scan = Call(service, "POST", "/v1/admin/followup-scans", R"({"as_of": "2027-12-31"})",
                         Token("admin"));
  ASSERT_EQ(scan.status, 200) << scan.body;
  EXPECT_EQ(nlohmann::json::parse(scan.body)["overdue"], 2);
  const auto again = Call(service, "POST", "/v1/admin/followup-scans", R"({"as_of": "2028-01-31"})",
                          Token("admin"));
  EXPECT_EQ(nlohmann::json::parse(again.body)["overdue"], 0);

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  const std::string overdue_key = items[2]["id"];
  reader.ReadUntil(
      [&](const auto& events) {
        return HasType(id, "jilaf.invitations.nomination.completed")(events) &&
               HasType(overdue_key, "jilaf.invitations.followup.overdue")(events) &&
               HasType(first, "jilaf.invitations.followup.submitted")(events);
      },
      seconds(60));
  std::vector<std::string> expected = {"jilaf.invitations.nomination.submitted"};
  for (std::size_t i = 0; i < journey.size(); ++i) {
    if (journey[i] == "invited")
      expected.push_back("jilaf.invitations.nomination.logistics_updated");
    expected.push_back("jilaf.invitations.nomination." + journey[i]);
  }
  EXPECT_EQ(reader.TypesFor(id), expected);
  std::string person_id;
  for (const auto& event : reader.ReadUntil([](const auto&) { return true; }, seconds(0))) {
    if (event.key != id || event.type != "jilaf.invitations.nomination.completed") continue;
    const auto& data = event.data;
    EXPECT_EQ(data["previous_status"], "arrived");
    EXPECT_EQ(data["fiscal_year"], 2026);
    EXPECT_EQ(data["region"], "Asia");
    EXPECT_EQ(data["programme_title"]["en"], "Young Leaders");
    // Version 2: the person by id only; names and addresses are on the people topic.
    EXPECT_FALSE(data["candidate"].contains("email"));
    EXPECT_FALSE(data["candidate"].contains("family_name"));
    EXPECT_EQ(data["nominating_organisation"]["country"], "VN");
    EXPECT_FALSE(data.contains("union"));
    EXPECT_FALSE(data["candidate"].contains("date_of_birth"));
    person_id = data["person_id"];
  }
  ASSERT_FALSE(person_id.empty());
  EventReader people(bootstrap_, "jilaf.invitations.people");
  people.ReadUntil(HasType(person_id, "jilaf.invitations.person.updated"), seconds(60));
  nlohmann::json record;
  for (const auto& event : people.ReadUntil([](const auto&) { return true; }, seconds(0))) {
    if (event.key == person_id) record = event.data;  // the latest
  }
  EXPECT_EQ(record["candidate"]["email"], "lan@example.org");
  EXPECT_EQ(record["union"], "National Centre");
  EXPECT_FALSE(record["candidate"].contains("date_of_birth"));
  EXPECT_EQ(reader.TypesFor(overdue_key),
            std::vector<std::string>{"jilaf.invitations.followup.overdue"});
  EXPECT_TRUE(reader.TypesFor(first).size() == 1 &&
              reader.TypesFor(first)[0] == "jilaf.invitations.followup.submitted");

  const auto report_fy = Call(service, "GET", "/v1/reports/fiscal-years/2026", {}, Token("viewer"));
  ASSERT_EQ(report_fy.status, 200);
  EXPECT_GE(nlohmann::json::parse(report_fy.body)["completed"].get<int>(), 1);
}

TEST_F(InvitationsE2e, WithdrawalsPromoteFromTheWaitlistInACascadeWithTheirEvents) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 2, {{"VN", 1}});
  std::vector<std::string> ids;
  const std::vector<std::string> countries = {"VN", "TH", "VN", "KE", "ID"};
  for (std::size_t i = 0; i < countries.size(); ++i) {
    ids.push_back(
        NominateFull(service, programme, "Cascade" + std::to_string(i), countries[i])["id"]);
    ASSERT_EQ(Move(service, ids[i], "screened").status, 200);
  }
  ASSERT_EQ(Move(service, ids[0], "selected").status, 200);
  ASSERT_EQ(Move(service, ids[1], "selected").status, 200);
  const auto full = Move(service, ids[3], "selected");
  EXPECT_EQ(full.status, 409);
  EXPECT_EQ(nlohmann::json::parse(full.body)["limit"], "seats");
  for (int i : {2, 3, 4}) ASSERT_EQ(Move(service, ids[i], "waitlisted").status, 200);

  // TH leaves: the first waitlisted (VN) is not eligible while VN's quota is held; KE comes in.
  auto withdrawn = Move(service, ids[1], "withdrawn");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(nlohmann::json::parse(withdrawn.body)["promoted"], nlohmann::json::array({ids[3]}));
  // The VN participant withdraws: the VN candidate on the waitlist comes in.
  withdrawn = Move(service, ids[0], "withdrawn");
  EXPECT_EQ(nlohmann::json::parse(withdrawn.body)["promoted"], nlohmann::json::array({ids[2]}));
  // The promoted KE participant's visa is denied: ID, last on the list, comes in.
  ASSERT_EQ(Move(service, ids[3], "invited").status, 200);
  ASSERT_EQ(Move(service, ids[3], "visa_applied").status, 200);
  withdrawn = Move(service, ids[3], "visa_denied");
  EXPECT_EQ(nlohmann::json::parse(withdrawn.body)["promoted"], nlohmann::json::array({ids[4]}));

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  // Each nomination is its own key, so its events may sit on another partition: wait for all.
  reader.ReadUntil(
      [&](const auto& events) {
        return HasType(ids[4], "jilaf.invitations.nomination.selected")(events) &&
               HasType(ids[3], "jilaf.invitations.nomination.visa_denied")(events) &&
               HasType(ids[2], "jilaf.invitations.nomination.selected")(events);
      },
      seconds(60));
  const std::vector<std::string> ke = {
      "jilaf.invitations.nomination.submitted",  "jilaf.invitations.nomination.screened",
      "jilaf.invitations.nomination.waitlisted", "jilaf.invitations.nomination.selected",
      "jilaf.invitations.nomination.invited",    "jilaf.invitations.nomination.visa_applied",
      "jilaf.invitations.nomination.visa_denied"};
  EXPECT_EQ(reader.TypesFor(ids[3]), ke);
  for (const auto& event : reader.ReadUntil([](const auto&) { return true; }, seconds(0))) {
    if (event.key == ids[2] && event.type == "jilaf.invitations.nomination.selected") {
      EXPECT_EQ(event.data["replaces_nomination_id"], ids[0]);
    }
    if (event.key == ids[4] && event.type == "jilaf.invitations.nomination.selected") {
      EXPECT_EQ(event.data["previous_status"], "waitlisted");
      EXPECT_EQ(event.data["promoted_from_waitlist"], true);
      EXPECT_EQ(event.data["replaces_nomination_id"], ids[3]);
    }
  }
}

TEST_F(InvitationsE2e, ProgrammeTransitionsCarryTheirNominationsWithTheirEvents) {
  auto& service = StartInvitations({"--followup-scan-ms", "86400000"});
  // A programme that runs and completes: one arrived, one still on the way, one never screened.
  const auto completing = CreateProgramme(service, 5, nlohmann::json::object());
  std::vector<std::string> ids;
  for (const char* family : {"Arrived", "OnTheWay", "Unscreened"}) {
    // The completed participant becomes an alumnus wherever missions reads this topic: an
    // address of its own keeps them distinct from other tests' alumni.
    ids.push_back(NominateFull(service, completing, family, "VN", {},
                               std::string(family) + "-" + completing + "@example.org")["id"]);
  }
  for (const char* to : {"screened", "selected", "invited", "visa_applied", "visa_granted",
                         "travel_booked", "arrived"}) {
    ASSERT_EQ(Move(service, ids[0], to).status, 200) << to;
  }
  for (const char* to : {"screened", "selected", "invited"}) {
    ASSERT_EQ(Move(service, ids[1], to).status, 200) << to;
  }
  for (const char* to : {"selection", "confirmed", "running"}) {
    ASSERT_EQ(MoveProgramme(service, completing, to).status, 200) << to;
  }
  auto moved = MoveProgramme(service, completing, "completed");
  ASSERT_EQ(moved.status, 409) << moved.body;
  auto problem = nlohmann::json::parse(moved.body);
  EXPECT_EQ(problem["type"].get<std::string>().find("participants-pending") != std::string::npos,
            true)
      << moved.body;
  EXPECT_EQ(problem["nominations"],
            nlohmann::json::array({{{"nomination_id", ids[1]}, {"status", "invited"}}}));
  EXPECT_NE(problem["detail"].get<std::string>().find(ids[1]), std::string::npos);
  ASSERT_EQ(Move(service, ids[1], "withdrawn").status, 200);
  moved = MoveProgramme(service, completing, "completed");
  ASSERT_EQ(moved.status, 200) << moved.body;
  auto arrived = nlohmann::json::parse(
      Call(service, "GET", "/v1/nominations/" + ids[0], {}, staff_token_).body);
  EXPECT_EQ(arrived["status"], "completed");
  EXPECT_EQ(arrived["status_history"].back()["from"], "arrived");
  const auto followups =
      Call(service, "GET", "/v1/nominations/" + ids[0] + "/followups", {}, staff_token_);
  EXPECT_EQ(nlohmann::json::parse(followups.body)["items"].size(), 3u) << followups.body;
  EXPECT_EQ(nlohmann::json::parse(
                Call(service, "GET", "/v1/nominations/" + ids[2], {}, staff_token_).body)["status"],
            "submitted");

  // A programme cancelled during selection: every open nomination closes and frees its seat.
  const auto cancelling = CreateProgramme(service, 1, nlohmann::json::object());
  const std::string seated = NominateFull(service, cancelling, "Seated", "TH")["id"];
  const std::string waiting = NominateFull(service, cancelling, "Waiting", "KE")["id"];
  const std::string rejected = NominateFull(service, cancelling, "Rejected", "ID")["id"];
  for (const auto& [id, to] :
       std::vector<std::pair<std::string, std::string>>{{seated, "screened"},
                                                        {seated, "selected"},
                                                        {waiting, "screened"},
                                                        {waiting, "waitlisted"},
                                                        {rejected, "rejected"}}) {
    ASSERT_EQ(Move(service, id, to).status, 200) << to;
  }
  const auto direct = Move(service, seated, "programme_cancelled");
  EXPECT_EQ(direct.status, 409) << direct.body;  // only the programme's cancellation leads there
  ASSERT_EQ(MoveProgramme(service, cancelling, "selection").status, 200);
  ASSERT_EQ(MoveProgramme(service, cancelling, "cancelled").status, 200);
  for (const auto& id : {seated, waiting}) {
    const auto doc =
        nlohmann::json::parse(Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_).body);
    EXPECT_EQ(doc["status"], "programme_cancelled") << id;
    EXPECT_FALSE(doc.contains("waitlist_rank")) << id;
  }
  EXPECT_EQ(
      nlohmann::json::parse(
          Call(service, "GET", "/v1/nominations/" + rejected, {}, staff_token_).body)["status"],
      "rejected");

  // The report counts what holds at the end.
  const auto report = nlohmann::json::parse(
      Call(service, "GET", "/v1/reports/fiscal-years/2026", {}, Token("viewer")).body);
  EXPECT_EQ(report["by_programme"][cancelling]["nominated"], 3);
  EXPECT_EQ(report["by_programme"][cancelling]["selected"], 0);
  EXPECT_EQ(report["by_programme"][completing]["selected"], 1);
  EXPECT_EQ(report["by_programme"][completing]["completed"], 1);

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  reader.ReadUntil(
      [&](const auto& events) {
        return HasType(ids[0], "jilaf.invitations.nomination.completed")(events) &&
               HasType(seated, "jilaf.invitations.nomination.programme_cancelled")(events) &&
               HasType(waiting, "jilaf.invitations.nomination.programme_cancelled")(events) &&
               HasType(rejected, "jilaf.invitations.nomination.rejected")(events);
      },
      seconds(60));
  ASSERT_FALSE(reader.TypesFor(rejected).empty());
  EXPECT_EQ(reader.TypesFor(rejected).back(), "jilaf.invitations.nomination.rejected");
  for (const auto& event : reader.ReadUntil([](const auto&) { return true; }, seconds(0))) {
    // This test's nominations only: the topic also holds earlier tests' (the suite runs once
    // per store engine against one broker).
    if (event.type == "jilaf.invitations.nomination.programme_cancelled" &&
        (event.key == seated || event.key == waiting)) {
      EXPECT_EQ(event.data["carried_by_programme"], true);
      EXPECT_EQ(event.data["previous_status"], event.key == seated ? "selected" : "waitlisted");
    }
    if (event.key == ids[0] && event.type == "jilaf.invitations.nomination.completed") {
      EXPECT_EQ(event.data["carried_by_programme"], true);
      EXPECT_EQ(event.data["previous_status"], "arrived");
    }
  }
}

TEST_F(InvitationsE2e, PossibleDuplicatesWithoutABirthDateAreWarnedNotRefused) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 10, nlohmann::json::object());
  auto nominate = [&](const std::string& family, const std::string& given, const std::string& email,
                      const std::string& passport, const std::string& union_name) {
    nlohmann::json candidate = {{"family_name", family}, {"given_name", given},
                                {"nationality", "VN"},   {"email", email},
                                {"union", union_name},   {"position", "Youth officer"}};
    if (!passport.empty()) candidate["passport_number"] = passport;
    const auto result =
        Call(service, "POST", "/v1/programmes/" + programme + "/nominations",
             nlohmann::json({{"candidate", candidate},
                             {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}})
                 .dump(),
             staff_token_);
    EXPECT_EQ(result.status, 201) << result.body;
    return nlohmann::json::parse(result.body, nullptr, false);
  };
  const auto first = nominate("Nguyen", "Van An", "an.nguyen@example.org", "C1234567", "VGCL");
  EXPECT_FALSE(first.contains("possible_duplicates"));
  EXPECT_FALSE(first.contains("warnings"));
  const std::string first_id = first["id"];
  // The same e-mail in other case, nothing else shared.
  const auto by_email = nominate("Tran", "Binh", "AN.Nguyen@Example.ORG", "", "Other union");
  ASSERT_EQ(by_email["possible_duplicates"].size(), 1u) << by_email.dump();
  EXPECT_EQ(by_email["possible_duplicates"][0]["nomination_id"], first_id);
  EXPECT_EQ(by_email["possible_duplicates"][0]["matched_on"], nlohmann::json::array({"email"}));
  EXPECT_EQ(by_email["warnings"][0]["code"], "possible-duplicate");
  EXPECT_EQ(by_email["warnings"][0]["nomination_ids"], nlohmann::json::array({first_id}));
  // The same passport number, nothing else shared.
  const auto by_passport = nominate("Le", "Cuong", "cuong@example.org", "C1234567", "Else");
  ASSERT_EQ(by_passport["possible_duplicates"].size(), 1u) << by_passport.dump();
  EXPECT_EQ(by_passport["possible_duplicates"][0]["matched_on"],
            nlohmann::json::array({"passport"}));
  // The same name in another order and spelling, with the same nationality and union.
  const auto by_name = nominate("NGUYỄN", "an  van", "other@example.org", "", "vgcl");
  ASSERT_EQ(by_name["possible_duplicates"].size(), 1u) << by_name.dump();
  EXPECT_EQ(by_name["possible_duplicates"][0]["nomination_id"], first_id);
  EXPECT_EQ(by_name["possible_duplicates"][0]["matched_on"],
            nlohmann::json::array({"name_nationality_union"}));
  // Kept on the record for whoever screens it.
  const auto stored = nlohmann::json::parse(
      Call(service, "GET", "/v1/nominations/" + by_name["id"].get<std::string>(), {}, staff_token_)
          .body);
  EXPECT_EQ(stored["possible_duplicates"], by_name["possible_duplicates"]);
  EXPECT_FALSE(stored.contains("warnings"));
}

TEST_F(InvitationsE2e, RegionalQuotasLimitSelectionBesideCountryQuotas) {
  auto& service = StartInvitations();
  const nlohmann::json body = {{"title", {{"ja", "地域枠"}, {"en", "Regional quotas"}}},
                               {"track", "developing"},
                               {"start_date", "2026-06-01"},
                               {"end_date", "2026-06-20"},
                               {"seats", 5},
                               {"country_quotas", {{"VN", 2}}},
                               {"region_quotas", {{"asia", 2}, {"africa", 1}}},
                               {"status", "open"}};
  const auto bad = Call(service, "POST", "/v1/programmes",
                        nlohmann::json({{"title", body["title"]},
                                        {"track", "developing"},
                                        {"start_date", "2026-06-01"},
                                        {"end_date", "2026-06-20"},
                                        {"seats", 5},
                                        {"region_quotas", {{"middle_earth", 1}}}})
                            .dump(),
                        staff_token_);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("region_quotas"), std::string::npos) << bad.body;
  const auto created = Call(service, "POST", "/v1/programmes", body.dump(), staff_token_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string programme = nlohmann::json::parse(created.body)["id"];
  EXPECT_EQ(nlohmann::json::parse(created.body)["region_quotas"]["asia"], 2);
  std::vector<std::string> ids;
  for (const char* country : {"VN", "TH", "ID", "KE"}) {
    ids.push_back(NominateFull(service, programme, std::string("Region") + country, country)["id"]);
    ASSERT_EQ(Move(service, ids.back(), "screened").status, 200);
  }
  ASSERT_EQ(Move(service, ids[0], "selected").status, 200);
  ASSERT_EQ(Move(service, ids[1], "selected").status, 200);
  const auto full = Move(service, ids[2], "selected");
  ASSERT_EQ(full.status, 409) << full.body;
  const auto problem = nlohmann::json::parse(full.body);
  EXPECT_EQ(problem["limit"], "region_quota");
  EXPECT_EQ(problem["region"], "asia");
  EXPECT_EQ(Move(service, ids[3], "selected").status, 200);  // Africa has its own room

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  reader.ReadUntil(HasType(programme, "jilaf.invitations.programme.created"), seconds(60));
  for (const auto& event : reader.ReadUntil([](const auto&) { return true; }, seconds(0))) {
    if (event.key != programme) continue;
    EXPECT_EQ(event.data["region_quotas"], body["region_quotas"]);
  }
}

TEST_F(InvitationsE2e, StaffGetTheFullPassportOnlyInAnAuditedGuarantorLetterWithAReason) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 5, nlohmann::json::object());
  const std::string id = NominateFull(service, programme, "Letter", "VN", "N7654321")["id"];
  for (const char* to : {"screened", "selected"}) ASSERT_EQ(Move(service, id, to).status, 200);
  const auto masked = Call(service, "GET", "/v1/nominations/" + id + "/documents/guarantor-letter",
                           {}, staff_token_);
  ASSERT_EQ(masked.status, 200);
  EXPECT_EQ(masked.body.find("N7654321"), std::string::npos);
  const std::string path = "/v1/nominations/" + id + "/guarantor-letters";
  const auto no_reason = Call(service, "POST", path, R"({"lang": "ja"})", staff_token_);
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_NE(no_reason.body.find("reason"), std::string::npos) << no_reason.body;
  EXPECT_EQ(Call(service, "POST", path, R"({"reason": "Visa application at the embassy"})",
                 Token("viewer"))
                .status,
            403);
  const auto letter =
      Call(service, "POST", path, R"({"reason": "Visa application at the embassy", "lang": "ja"})",
           staff_token_);
  ASSERT_EQ(letter.status, 200) << letter.body;
  EXPECT_NE(letter.body.find("N7654321"), std::string::npos);
  EXPECT_NE(letter.body.find("身元保証書"), std::string::npos);
  EXPECT_EQ(letter.Header("cache-control"), "no-store");
  const auto doc =
      nlohmann::json::parse(Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_).body);
  ASSERT_EQ(doc["passport_disclosures"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["passport_disclosures"][0]["by"], "e2e-staff");
  EXPECT_EQ(doc["passport_disclosures"][0]["reason"], "Visa application at the embassy");
  // The audit log names the request, who made it and the nomination; the chain holds.
  const auto audit = Call(service, "GET", "/v1/audit?page_size=500", {}, Token("admin"));
  ASSERT_EQ(audit.status, 200) << audit.body;
  std::vector<nlohmann::json> letters;
  const auto rows = nlohmann::json::parse(audit.body)["items"];
  for (const auto& row : rows) {
    if (row["route"] == "/v1/nominations/{id}/guarantor-letters" && row["status"] != 422 &&
        row["status"] != 403) {
      letters.push_back(row);
    }
  }
  ASSERT_EQ(letters.size(), 1u) << audit.body;
  EXPECT_EQ(letters[0]["outcome"], "committed");
  EXPECT_EQ(letters[0]["entity_id"], id);
  EXPECT_EQ(letters[0]["actor"]["subject"], "e2e-staff");
  EXPECT_EQ(letters[0]["method"], "POST");
  // Reads of personal data are recorded too: the staff's read of the full view just above.
  bool read_recorded = false;
  for (const auto& row : rows) {
    read_recorded =
        read_recorded || (row["method"] == "GET" && row["route"] == "/v1/nominations/{id}" &&
                          row["entity_id"] == id && row["actor"]["subject"] == "e2e-staff");
  }
  EXPECT_TRUE(read_recorded) << audit.body;
  EXPECT_EQ(audit.body.find("N7654321"), std::string::npos);
  const auto verify = Call(service, "GET", "/v1/audit/verify", {}, Token("admin"));
  EXPECT_TRUE(nlohmann::json::parse(verify.body)["intact"]) << verify.body;
}

TEST_F(InvitationsE2e, PassportNumberIsNeverInClearInTopicLogOrDatabase) {
  auto& service = StartInvitations();
  std::random_device random;
  const std::string passport = "QZ" + std::to_string(1000000 + random() % 8999999);
  const auto programme = CreateProgramme(service, 5, nlohmann::json::object());
  const auto created = NominateFull(service, programme, "Secret", "VN", passport);
  const std::string id = created["id"];
  EXPECT_EQ(created["candidate"]["passport_number"], std::string(6, '*') + passport.substr(6));
  const auto admin = Call(service, "GET", "/v1/nominations/" + id, {}, Token("admin"));
  EXPECT_EQ(nlohmann::json::parse(admin.body)["candidate"]["passport_number"], passport);
  const auto staff = Call(service, "GET", "/v1/nominations/" + id, {}, staff_token_);
  EXPECT_EQ(staff.body.find(passport), std::string::npos);
  EXPECT_NE(staff.body.find("date_of_birth"), std::string::npos);
  const auto viewer = Call(service, "GET", "/v1/nominations/" + id, {}, Token("viewer"));
  EXPECT_EQ(viewer.body.find("date_of_birth"), std::string::npos);
  // Error bodies, every topic, every service's log and audit rows: tests/e2e/canary_test.cpp.
  for (const char* to : {"screened", "selected"}) ASSERT_EQ(Move(service, id, to).status, 200);

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  const auto& events =
      reader.ReadUntil(HasType(id, "jilaf.invitations.nomination.selected"), seconds(60));
  ASSERT_EQ(reader.TypesFor(id).size(), 3u);
  for (const auto& event : events) {
    EXPECT_EQ(event.value.find(passport), std::string::npos) << event.type;
    EXPECT_EQ(event.value.find("1992-03-04"), std::string::npos) << event.type;
  }

  // The ciphertext as stored, to prove below that the deletion removes it from the file too
  // (SQLite's file; on PostgreSQL the row is gone and VACUUM reclaims its old versions).
  const bool file = !OnPostgres();
  std::string sealed;
  std::string before;
  auto database_bytes = [&] {
    std::string bytes = ReadBytes(service.db);
    if (std::filesystem::exists(service.db + "-wal")) bytes += ReadBytes(service.db + "-wal");
    return bytes;
  };
  if (file) {
    store::Db db(service.db, {true, 5000});
    auto stmt =
        db.Prepare("SELECT passport_number FROM nomination_personal WHERE nomination_id = ?");
    stmt.Bind(1, id);
    ASSERT_TRUE(stmt.Step());
    sealed = stmt.Text(0);
    ASSERT_EQ(sealed.find(passport), std::string::npos);
    before = database_bytes();
    EXPECT_EQ(before.find(passport), std::string::npos);
    EXPECT_NE(before.find(sealed.substr(3, 40)), std::string::npos);
  }

  EXPECT_EQ(Call(service, "DELETE", "/v1/nominations/" + id, {}, staff_token_).status, 403);
  EXPECT_EQ(Call(service, "DELETE", "/v1/nominations/" + id, {}, Token("admin")).status, 409);
  ASSERT_EQ(Move(service, id, "withdrawn").status, 200);
  ASSERT_EQ(Call(service, "DELETE", "/v1/nominations/" + id, {}, Token("admin")).status, 204);
  EXPECT_EQ(Call(service, "GET", "/v1/nominations/" + id, {}, Token("admin")).status, 404);
  // Their only nomination gone, the person's records leave the people topic: a tombstone.
  const std::string person_id = created["person_id"];
  EventReader people(bootstrap_, "jilaf.invitations.people");
  people.ReadUntil(HasType(person_id, "jilaf.invitations.person.erased"), seconds(60));
  ASSERT_FALSE(people.TypesFor(person_id).empty());
  EXPECT_EQ(people.TypesFor(person_id).back(), "jilaf.invitations.person.erased");
  if (file) {
    const auto after = database_bytes();
    EXPECT_EQ(after.find(sealed.substr(3, 40)), std::string::npos)
        << "the passport ciphertext is still in the database file";
    EXPECT_EQ(after.find(passport), std::string::npos);
  }

  Stop(service);
}

TEST_F(InvitationsE2e, BadInputGetsFieldPreciseProblemsOnEveryEndpoint) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 5, {{"VN", 1}});
  const std::string nomination = NominateFull(service, programme, "Input", "VN")["id"];
  const auto etag = std::string(
      Call(service, "GET", "/v1/programmes/" + programme, {}, staff_token_).Header("etag"));
  struct Case {
    std::string method, path, body;
    int status;
    std::string field;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  const std::string n = "/v1/nominations/" + nomination;
  const std::string p = "/v1/programmes/" + programme;
  const std::vector<Case> cases = {
      {"POST", "/v1/programmes", R"({"fiscal_year": "2026"})", 422, "/fiscal_year", {}},
      {"POST",
       "/v1/programmes",
       R"({"fiscal_year": 2026, "title": {"ja": "x", "en": "y"}, "track": "developing",
           "start_date": "2026-02-30", "end_date": "2026-03-01", "seats": 3})",
       422,
       "/start_date",
       {}},
      {"POST",
       "/v1/programmes",
       R"({"fiscal_year": 2026, "title": {"ja": "x", "en": "y"}, "track": "developing",
           "start_date": "2026-06-01", "end_date": "2026-07-01", "seats": 3,
           "country_quotas": {"XK": 1}})",
       422,
       "/country_quotas",
       {}},
      {"PATCH", p, R"({"seats": "many"})", 422, "/seats", {{"If-Match", etag}}},
      {"PATCH", p, R"({"fiscal_year": 2027})", 422, "/fiscal_year", {{"If-Match", etag}}},
      {"PATCH", p, R"({"seats": 4})", 428, "", {}},
      {"PATCH", p, R"({"seats": 4})", 412, "", {{"If-Match", "\"v99\""}}},
      {"POST", p + "/transitions", R"({"to": 3})", 422, "/to", {{"If-Match", etag}}},
      {"POST", p + "/transitions", R"({"to": "running"})", 409, "", {{"If-Match", etag}}},
      {"POST",
       p + "/nominations",
       R"({"candidate": {"family_name": "A", "given_name": "B", "nationality": "QQ",
           "email": "a@example.org", "union": "U", "position": "P"},
           "nominating_organisation": {"name": "N", "country": "VN"}})",
       422,
       "/candidate/nationality",
       {}},
      {"POST",
       p + "/nominations",
       R"({"candidate": {"family_name": ")" + std::string(101, 'x') +
           R"(", "given_name": "B", "nationality": "VN", "email": "a@example.org",
           "union": "U", "position": "P", "date_of_birth": "1990-13-01"},
           "nominating_organisation": {"name": "N", "country": "VN", "extra": 1}})",
       422,
       "/candidate/date_of_birth",
       {}},
      {"POST",
       n + "/transitions",
       R"({"to": "selected", "why": 1})",
       422,
       "/why",
       {{"If-Match", "\"v1\""}}},
      {"POST", n + "/transitions", R"({"to": "selected"})", 409, "", {{"If-Match", "\"v1\""}}},
      {"POST", n + "/transitions", R"({"to": "screened"})", 428, "", {}},
      {"PUT", n + "/logistics", R"({"hotel": {"name": "H"}})", 422, "/hotel/city", {}},
      {"PUT",
       n + "/logistics",
       R"({"arrival": {"flight": "X1", "airport": "NRT", "at": "2026-06-01 25:00"}})",
       422,
       "/arrival/at",
       {}},
      {"POST",
       p + "/itinerary",
       R"({"starts_at": "tomorrow", "organisation": "RENGO"})",
       422,
       "/starts_at",
       {}},
      {"POST", "/v1/followups/none/report", R"({"summary": ""})", 422, "/summary", {}},
      {"POST", "/v1/admin/followup-scans", R"({"as_of": "2026-02-30"})", 422, "/as_of", {}},
      {"GET", "/v1/reports/fiscal-years/twenty", "", 400, "", {}},
      {"GET", p + "/nominations?status=lost", "", 400, "", {}},
      {"GET", n + "/documents/visa-form", "", 400, "", {}},  // kind is a closed list
  };
  for (const auto& c : cases) {
    const std::string token =
        c.path.find("/admin/") != std::string::npos ? Token("admin") : staff_token_;
    const auto result = Call(service, c.method, c.path, c.body, token, c.headers);
    EXPECT_EQ(result.status, c.status) << c.method << " " << c.path << " " << c.body << "\n"
                                       << result.body;
    EXPECT_EQ(result.Header("content-type"), "application/problem+json") << c.path;
    if (!c.field.empty()) {
      std::set<std::string> fields;
      const auto problem = nlohmann::json::parse(result.body, nullptr, false);
      for (const auto& item : problem.value("errors", nlohmann::json::array())) {
        fields.insert(item.value("field", ""));
      }
      EXPECT_EQ(fields.count(c.field), 1u) << c.path << ": " << result.body;
    }
  }
  // Roles: viewers read but never write.
  EXPECT_EQ(Move(service, nomination, "screened", Token("viewer")).status, 403);
  EXPECT_EQ(Call(service, "GET", n + "/logistics", {}, Token("viewer")).status, 403);
  EXPECT_EQ(Call(service, "GET", "/openapi.json").status, 200);
}

TEST_F(InvitationsE2e, CorrectionsRunTheCreateRulesAgainAndAnnounceOnlyWhatChanged) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 5, {{"VN", 3}});
  const std::string lan = NominateFull(service, programme, "Nguyen", "VN", "B1234567")["id"];
  const std::string other = NominateFull(service, programme, "Tran", "VN")["id"];
  const std::string n = "/v1/nominations/" + lan;
  EXPECT_EQ(Call(service, "PATCH", n, R"({"candidate": {"union": "VGCL"}})", staff_token_).status,
            428);
  // A correction of the name, the passport and the e-mail: validated, re-encrypted, announced.
  const nlohmann::json patch = {
      {"candidate",
       {{"family_name", "Nguyễn"}, {"passport_number", "C7654321"}, {"email", "new@example.org"}}}};
  const auto corrected = WithEtag(service, "PATCH", lan, "", patch, staff_token_);
  ASSERT_EQ(corrected.status, 200) << corrected.body;
  const auto body = nlohmann::json::parse(corrected.body);
  EXPECT_EQ(body["candidate"]["family_name"], "Nguyễn");
  EXPECT_EQ(body["candidate"]["passport_number"], "*****321");
  EXPECT_EQ(body["candidate"]["union"], "National Centre");  // untouched members stay
  EXPECT_EQ(body["version"], 2);
  const auto admin = Call(service, "GET", n, {}, Token("admin"));
  EXPECT_EQ(nlohmann::json::parse(admin.body)["candidate"]["passport_number"], "C7654321");
  // Bad input changes nothing: a passport of the wrong shape (422 naming it), an unknown member,
  // and the same person twice in one year (the duplicate check runs again).
  const auto bad = WithEtag(service, "PATCH", lan, "",
                            {{"candidate", {{"passport_number", "bad"}}}}, staff_token_);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("/candidate/passport_number"), std::string::npos) << bad.body;
  EXPECT_EQ(bad.body.find("bad\""), std::string::npos) << bad.body;
  EXPECT_EQ(WithEtag(service, "PATCH", lan, "", {{"status", "completed"}}, staff_token_).status,
            422);
  const auto twin = WithEtag(service, "PATCH", other, "",
                             {{"candidate", {{"family_name", "NGUYEN"}}}}, staff_token_);
  EXPECT_EQ(twin.status, 409) << twin.body;
  EXPECT_NE(twin.body.find("duplicate-nomination"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Call(service, "GET", n, {}, staff_token_).body)["version"], 2);
  // The search index follows the correction.
  const auto found = Call(service, "GET", "/v1/nominations?q=new%20example", {}, staff_token_);
  EXPECT_NE(found.body.find(lan), std::string::npos) << found.body;

  // A visit of the itinerary: the create's rule (ends_at not before starts_at) holds.
  const auto visit = Call(service, "POST", "/v1/programmes/" + programme + "/itinerary",
                          R"({"starts_at": "2026-06-02T10:00", "ends_at": "2026-06-02T12:00",
                              "organisation": "RENGO", "city": "Tokyo", "topic": "Dialogue"})",
                          staff_token_);
  ASSERT_EQ(visit.status, 201) << visit.body;
  const std::string visit_path =
      "/v1/itinerary/" + nlohmann::json::parse(visit.body)["id"].get<std::string>();
  auto correct_visit = [&](const std::string& body) {
    const auto current = Call(service, "GET", visit_path, {}, staff_token_);
    return Call(service, "PATCH", visit_path, body, staff_token_,
                {{"If-Match", std::string(current.Header("etag"))}});
  };
  const auto early = correct_visit(R"({"ends_at": "2026-06-02T09:00"})");
  EXPECT_EQ(early.status, 422) << early.body;
  EXPECT_NE(early.body.find("/ends_at"), std::string::npos);
  const auto retitled = correct_visit(R"({"topic": "Minimum wages"})");
  ASSERT_EQ(retitled.status, 200) << retitled.body;
  EXPECT_EQ(nlohmann::json::parse(retitled.body)["topic"], "Minimum wages");
  EXPECT_EQ(nlohmann::json::parse(retitled.body)["version"], 2);

  EventReader reader(bootstrap_, "jilaf.invitations.events");
  const auto& events = reader.ReadUntil(
      [&](const auto& all) {
        return HasType(lan, "jilaf.invitations.nomination.updated")(all) &&
               HasType(other, "jilaf.invitations.nomination.submitted")(all) &&
               HasType(programme, "jilaf.invitations.itinerary_item.updated")(all);
      },
      seconds(60));
  for (const auto& event : events) {
    if (event.key == programme && event.type == "jilaf.invitations.itinerary_item.updated") {
      EXPECT_EQ(event.data["changed"], nlohmann::json({"topic"}));
    }
  }
  int updated = 0;
  for (const auto& event : events) {
    if (event.key != lan || event.type != "jilaf.invitations.nomination.updated") continue;
    ++updated;
    EXPECT_EQ(event.data["changed"], nlohmann::json({"candidate.email", "candidate.family_name",
                                                     "candidate.passport_number"}));
    EXPECT_EQ(event.value.find("C7654321"), std::string::npos);
    EXPECT_EQ(event.value.find("B1234567"), std::string::npos);
  }
  EXPECT_EQ(updated, 1);
  EXPECT_EQ(reader.TypesFor(other),
            std::vector<std::string>{"jilaf.invitations.nomination.submitted"});
}

TEST_F(InvitationsE2e, AdminsReverseStaffMistakesWithAReasonAnEventAndAHistoryEntry) {
  auto& service = StartInvitations();
  const auto programme = CreateProgramme(service, 5, {{"VN", 3}});
  const std::string a = NominateFull(service, programme, "Rejected", "VN")["id"];
  const std::string b = NominateFull(service, programme, "Withdrawn", "VN")["id"];
  const std::string c = NominateFull(service, programme, "Absent", "VN")["id"];
  const nlohmann::json why = {{"reason", "moved by mistake"}};
  ASSERT_EQ(Move(service, a, "rejected").status, 200);
  ASSERT_EQ(Move(service, b, "screened").status, 200);
  ASSERT_EQ(Move(service, b, "withdrawn").status, 200);
  for (const auto& to : {"screened", "selected", "invited", "visa_applied", "visa_granted",
                         "travel_booked", "no_show"}) {
    ASSERT_EQ(Move(service, c, to).status, 200) << to;
  }
  // Admin only, with a reason.
  EXPECT_EQ(WithEtag(service, "POST", a, "/reversals", why, staff_token_).status, 403);
  const auto no_reason =
      WithEtag(service, "POST", a, "/reversals", nlohmann::json::object(), Token("admin"));
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_NE(no_reason.body.find("/reason"), std::string::npos);
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {a, {"rejected", "screened"}},
      {b, {"withdrawn", "screened"}},
      {c, {"no_show", "travel_booked"}}};
  for (const auto& [id, move] : expected) {
    const auto reversed = WithEtag(service, "POST", id, "/reversals", why, Token("admin"));
    ASSERT_EQ(reversed.status, 200) << reversed.body;
    const auto doc = nlohmann::json::parse(reversed.body);
    EXPECT_EQ(doc["status"], move.second);
    const auto& entry = doc["status_history"].back();
    EXPECT_EQ(entry["from"], move.first);
    EXPECT_EQ(entry["to"], move.second);
    EXPECT_EQ(entry["reason"], "moved by mistake");
    EXPECT_EQ(entry["by"], "e2e-admin");
    EXPECT_EQ(entry["reversal"], true);
  }
  // A state without a reversal: 409 naming the reversible ones.
  const auto none = WithEtag(service, "POST", a, "/reversals", why, Token("admin"));
  EXPECT_EQ(none.status, 409);
  EXPECT_NE(none.body.find("invalid-transition"), std::string::npos);
  EXPECT_NE(none.body.find("reversible_states"), std::string::npos);

  // The topic holds other tests' events too (some deliberately malformed): only ours count.
  const auto ours = [&](const TopicEvent& event) {
    return expected.count(event.key) > 0 && event.data.is_object() &&
           event.data.value("reversal", false);
  };
  EventReader reader(bootstrap_, "jilaf.invitations.events");
  const auto& events = reader.ReadUntil(
      [&](const auto& all) { return std::count_if(all.begin(), all.end(), ours) == 3; },
      seconds(60));
  EXPECT_EQ(std::count_if(events.begin(), events.end(), ours), 3);
  for (const auto& event : events) {
    if (!ours(event)) continue;
    const auto& move = expected.at(event.key);
    EXPECT_EQ(event.type, "jilaf.invitations.nomination." + move.second);
    EXPECT_EQ(event.data["previous_status"], move.first);
    EXPECT_EQ(event.data["reason"], "moved by mistake");
  }
}

TEST_F(InvitationsE2e, RefusesToStartWithoutAFieldKeyOutsideDevelopment) {
  const std::string base = std::string(JILAF_INVITATIONS_BIN) + " --jwt-public-key " + dir_ +
                           "/jwt-public.pem --db " + dir_ +
                           "/nokey.db --http-port 0 --admin-port 0";
  std::string output;
  EXPECT_EQ(testing::RunCommand(base, &output), 2);
  EXPECT_NE(output.find("--field-key-file"), std::string::npos) << output;
  testing::WriteFile(dir_ + "/bad-key.hex", "not a key\n");
  EXPECT_EQ(testing::RunCommand(base + " --field-key-file " + dir_ + "/bad-key.hex", &output), 2);
  EXPECT_NE(output.find("64 hexadecimal digits"), std::string::npos) << output;
}

// A store setting that cannot work stops the service at start with one line naming it (exit 2):
// a server that does not answer, an unreadable password file, and (with the test server) a
// wrong password.
TEST_F(InvitationsE2e, RefusesToStartOnADatabaseItCannotReach) {
  const std::string key_file = dir_ + "/field-key.hex";
  testing::WriteFile(key_file, std::string(64, 'a') + "\n");
  const std::string base = std::string(JILAF_INVITATIONS_BIN) + " --jwt-public-key " + dir_ +
                           "/jwt-public.pem --field-key-file " + key_file +
                           " --http-port 0 --admin-port 0 --store postgres";
  // The refusal is one line of its own ("jilaf-invitations: <setting>...: why"), whatever
  // the log said before it.
  const auto one_line_naming = [](const std::string& output, const std::string& setting) {
    const auto at = output.find("jilaf-invitations: " + setting);
    ASSERT_NE(at, std::string::npos) << output;
    EXPECT_EQ(output.find('\n', at), output.size() - 1) << output;
  };
  std::string output;
  EXPECT_EQ(testing::RunCommand(base, &output), 2);
  one_line_naming(output, "--database-url");
  EXPECT_EQ(
      testing::RunCommand(base + " --database-url postgresql://jilaf@127.0.0.1:1/none", &output),
      2);
  one_line_naming(output, "--database-url");
  EXPECT_EQ(testing::RunCommand(base +
                                    " --database-url postgresql://jilaf@127.0.0.1:1/none"
                                    " --database-password-file " +
                                    dir_ + "/no-such-file",
                                &output),
            2);
  one_line_naming(output, "--database-password-file");
  EXPECT_EQ(testing::RunCommand(base + " --store mysql", &output), 2);
  one_line_naming(output, "--store");
  if (!OnPostgres()) return;  // the server of the `postgres` registration, for a wrong password
  testing::WriteFile(dir_ + "/wrong-password", "not-the-password\n");
  EXPECT_EQ(testing::RunCommand(base + " --database-url " + testing::TestDatabase::ServerUrl() +
                                    " --database-password-file " + dir_ + "/wrong-password",
                                &output),
            2);
  one_line_naming(output, "--database-url");
  EXPECT_NE(output.find("password authentication failed"), std::string::npos) << output;
}

}  // namespace
}  // namespace jilaf::e2e
