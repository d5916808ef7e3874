// One history per person, end to end: invitations assigns the person id, missions links the
// alumnus, and the person read model (missions) is fed from both topics by the real broker; a
// second missions service on an empty database rebuilds the same history from the topics alone.
#include <set>

#include "common/events/cloud_event.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class PeopleE2e : public E2eTest {
 protected:
  json Send(const RunningService& service, const std::string& method, const std::string& path,
            const json& body, int expected,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto result = Call(service, method, path, body.dump(), staff_token_, std::move(headers));
    EXPECT_EQ(result.status, expected) << method << " " << path << ": " << result.body;
    return json::parse(result.body, nullptr, false);
  }

  // Sends `body` with the record's current ETag.
  json Change(const RunningService& service, const std::string& method, const std::string& path,
              const std::string& record, const json& body) {
    const auto current = Call(service, "GET", record, {}, staff_token_);
    return Send(service, method, path, body, 200, {{"If-Match", current.Header("etag")}});
  }

  // The person's history once it holds every `whats` (null on timeout).
  json WaitForHistory(const RunningService& missions, const std::string& person_id,
                      const std::vector<std::string>& whats) {
    json person;
    testing::WaitUntil(
        [&] {
          const auto result = Call(missions, "GET", "/v1/people/" + person_id, {}, Token("viewer"));
          if (result.status != 200) return false;
          person = json::parse(result.body);
          for (const auto& what : whats) {
            bool seen = false;
            for (const auto& item : person["history"]) seen = seen || item["what"] == what;
            if (!seen) return false;
          }
          return true;
        },
        std::chrono::seconds(90));
    return person;
  }
};

const std::vector<std::string> kJourney = {"screened",     "selected",     "invited",
                                           "visa_applied", "visa_granted", "travel_booked",
                                           "arrived",      "completed"};

TEST_F(PeopleE2e, APersonsHistoryAcrossServicesIsRebuiltTheSameFromTheTopics) {
  auto& invitations = StartInvitations({"--followup-scan-ms", "86400000"});
  auto& missions = StartMissions();
  const std::string email = "person-" + events::NewUuid().substr(0, 8) + "@example.org";
  const json programme = Send(invitations, "POST", "/v1/programmes",
                              {{"fiscal_year", 2026},
                               {"title", {{"ja", "青年指導者招へい"}, {"en", "Young Leaders"}}},
                               {"track", "developing"},
                               {"start_date", "2026-06-01"},
                               {"end_date", "2026-06-20"},
                               {"seats", 5},
                               {"status", "open"}},
                              201);
  const json nominated = Send(
      invitations, "POST", "/v1/programmes/" + programme["id"].get<std::string>() + "/nominations",
      {{"candidate",
        {{"family_name", "Sok"},
         {"given_name", "Dara"},
         {"nationality", "KH"},
         {"email", email},
         {"union", "CLC"},
         {"position", "Youth officer"},
         {"date_of_birth", "1991-02-03"}}},
       {"nominating_organisation", {{"name", "CLC"}, {"country", "KH"}}}},
      201);
  const std::string nomination = nominated["id"];
  const std::string person_id = nominated["person_id"];
  EXPECT_EQ(person_id, nomination);  // a first nomination names the person
  const std::string record = "/v1/nominations/" + nomination;
  for (const auto& to : kJourney) {
    Change(invitations, "POST", record + "/transitions", record, {{"to", to}});
  }
  const auto followups = Send(invitations, "GET", record + "/followups", json(), 200);
  Send(invitations, "POST",
       "/v1/followups/" + followups["items"][0]["id"].get<std::string>() + "/report",
       {{"summary", "Started a youth committee."}}, 201);

  // The alumnus links the seminar registration and the course to the person.
  std::string alumnus_id;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto page =
            Call(missions, "GET", "/v1/alumni?country=KH&page_size=200", {}, staff_token_);
        if (page.status != 200) return false;
        const auto body = json::parse(page.body);
        for (const auto& item : body["items"]) {
          if (item["nomination_id"] == nomination) alumnus_id = item["id"];
        }
        return !alumnus_id.empty();
      },
      seconds(90)));
  const json seminar =
      Send(missions, "POST", "/v1/seminars",
           {{"title", {{"ja", "セミナー"}, {"en", "Seminar"}}},
            {"venue", {{"name", "Hall"}, {"city", "Phnom Penh"}, {"country", "KH"}}},
            {"start_date", "2026-10-05"},
            {"end_date", "2026-10-06"},
            {"capacity", 10}},
           201);
  const std::string seminar_path = "/v1/seminars/" + seminar["id"].get<std::string>();
  Send(missions, "POST", "/v1/alumni/invitations",
       {{"target", {{"kind", "seminar"}, {"id", seminar["id"]}}}, {"alumni_ids", {alumnus_id}}},
       201, {{"Idempotency-Key", "invite-" + alumnus_id}});
  Change(missions, "POST", seminar_path + "/transitions", seminar_path,
         {{"to", "registration_open"}});
  const json registration = Send(missions, "POST", seminar_path + "/registrations",
                                 {{"name", "Sok Dara"}, {"email", email}, {"country", "KH"}}, 201);
  EXPECT_EQ(registration["person_id"], person_id);
  const json course =
      Send(missions, "POST", "/v1/education-programmes",
           {{"title", {{"ja", "講座"}, {"en", "Course"}}},
            {"location", "japan"},
            {"start_date", "2026-11-01"},
            {"end_date", "2026-11-02"},
            {"courses", {{{"title", "Bargaining"}, {"sessions", {{{"date", "2026-11-01"}}}}}}}},
           201);
  const std::string course_path = "/v1/education-programmes/" + course["id"].get<std::string>();
  const json participant = Send(missions, "POST", course_path + "/participants",
                                {{"name", "Sok Dara"}, {"email", email}, {"country", "KH"}}, 201);
  Change(missions, "POST", course_path + "/transitions", course_path, {{"to", "in_progress"}});
  const std::string session = course["courses"][0]["sessions"][0]["id"];
  Change(missions, "PUT", course_path + "/sessions/" + session + "/attendance", course_path,
         {{"present", {participant["id"]}}});
  Change(missions, "POST", course_path + "/transitions", course_path, {{"to", "completed"}});

  const std::vector<std::string> whats = {
      "nomination.submitted",    "nomination.completed", "followup.submitted", "alumnus.invited",
      "registration.registered", "participant.enrolled", "certificate.issued"};
  const json person = WaitForHistory(missions, person_id, whats);
  ASSERT_FALSE(person.is_null());
  EXPECT_EQ(person["family_name"], "Sok");
  EXPECT_EQ(person["nationality"], "KH");
  const auto& history = person["history"];
  EXPECT_EQ(history[0]["what"], "nomination.submitted");
  EXPECT_EQ(history[0]["link"], record);
  EXPECT_EQ(history[0]["service"], "invitations");
  for (std::size_t i = 1; i < history.size(); ++i) {
    EXPECT_LE(history[i - 1]["at"], history[i]["at"]) << i;
  }
  bool linked = false;
  for (const auto& item : history) {
    linked = linked || (item["what"] == "registration.registered" && item["link"] == seminar_path);
  }
  EXPECT_TRUE(linked) << history.dump();
  // Found by name, in any order and case.
  const auto found = Call(missions, "GET", "/v1/people?q=dara%20SOK", {}, Token("viewer"));
  EXPECT_NE(found.body.find(person_id), std::string::npos) << found.body;

  // A second read model on an empty database, reading the topics from the earliest offset.
  missions_group_ += "-replay";
  auto& replay = StartMissions(dir_ + "/missions-replay.db");
  const json rebuilt = WaitForHistory(replay, person_id, whats);
  ASSERT_FALSE(rebuilt.is_null());
  // The same answer, once both read models have applied every event about the person.
  auto answer = [&](const RunningService& service) {
    auto doc = json::parse(Call(service, "GET", "/v1/people/" + person_id, {}, staff_token_).body);
    for (const char* key : {"version", "created_at", "updated_at"}) doc.erase(key);
    return doc;
  };
  EXPECT_TRUE(testing::WaitUntil([&] { return answer(replay) == answer(missions); }, seconds(60)))
      << answer(replay).dump() << "\n"
      << answer(missions).dump();
  EXPECT_GE(answer(replay)["history"].size(), kJourney.size() + 6);
}

TEST_F(PeopleE2e, ACandidateWithoutABirthDateIsOnePersonAcrossNominations) {
  auto& invitations = StartInvitations({"--followup-scan-ms", "86400000"});
  auto& missions = StartMissions();
  const std::string mailbox = "an-" + events::NewUuid().substr(0, 8);
  auto open_programme = [&](int fiscal_year) {
    return Send(invitations, "POST", "/v1/programmes",
                {{"fiscal_year", fiscal_year},
                 {"title", {{"ja", "招へい"}, {"en", "Invitation"}}},
                 {"track", "developing"},
                 {"start_date", std::to_string(fiscal_year) + "-06-01"},
                 {"end_date", std::to_string(fiscal_year) + "-06-20"},
                 {"seats", 5},
                 {"status", "open"}},
                201)["id"]
        .get<std::string>();
  };
  // No date_of_birth: the blind identity cannot be computed, so the person is found by e-mail
  // (any case), nationality and folded name (any order, accents and case).
  auto nominate = [&](const std::string& programme, const std::string& family,
                      const std::string& given, const std::string& email) {
    return Send(invitations, "POST", "/v1/programmes/" + programme + "/nominations",
                {{"candidate",
                  {{"family_name", family},
                   {"given_name", given},
                   {"nationality", "VN"},
                   {"email", email},
                   {"union", "VGCL"},
                   {"position", "Organiser"}}},
                 {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}},
                201);
  };
  const json first = nominate(open_programme(2025), "Nguyễn", "Văn An", mailbox + "@example.org");
  EXPECT_EQ(first["person_id"], first["id"]);  // nobody before: a person of its own
  const std::string person_id = first["person_id"];
  const std::string later_programme = open_programme(2026);
  const json again =
      nominate(later_programme, "NGUYEN", "an van", "AN" + mailbox.substr(2) + "@Example.ORG");
  EXPECT_EQ(again["person_id"], person_id) << again.dump();
  // Another address is not enough to be the same person.
  const json other = nominate(later_programme, "Nguyen", "Van An", mailbox + "@other.example");
  EXPECT_EQ(other["person_id"], other["id"]);

  const std::string record = "/v1/nominations/" + again["id"].get<std::string>();
  Change(invitations, "POST", record + "/transitions", record, {{"to", "screened"}});
  // A correction and a reversal of a staff mistake are part of the person's history too.
  Change(invitations, "PATCH", record, record, {{"candidate", {{"position", "Secretary"}}}});
  Change(invitations, "POST", record + "/transitions", record, {{"to", "rejected"}});
  const auto current = Call(invitations, "GET", record, {}, staff_token_);
  const auto reversed = Call(invitations, "POST", record + "/reversals",
                             json({{"reason", "moved by mistake"}}).dump(), Token("admin"),
                             {{"If-Match", current.Header("etag")}});
  ASSERT_EQ(reversed.status, 200) << reversed.body;
  // Both nominations' events reach the read model (they travel on different partitions).
  const std::set<std::string> both = {first["id"], again["id"]};
  json person;
  std::set<std::string> nominations;
  testing::WaitUntil(
      [&] {
        person = WaitForHistory(missions, person_id,
                                {"nomination.submitted", "nomination.screened",
                                 "nomination.updated", "nomination.rejected"});
        if (!person.is_object()) return false;
        nominations.clear();
        bool reversal = false;
        for (const auto& item : person.value("history", json::array())) {
          if (item["what"] == "nomination.submitted") nominations.insert(item["nomination_id"]);
          reversal =
              reversal || (item["what"] == "nomination.screened" && item.value("reversal", false) &&
                           item.value("reason", "") == "moved by mistake");
        }
        return nominations == both && reversal;
      },
      seconds(90));
  ASSERT_FALSE(person.is_null());
  EXPECT_EQ(nominations, both) << person["history"].dump();
  bool corrected = false;
  for (const auto& item : person["history"]) {
    corrected = corrected || (item["what"] == "nomination.updated" &&
                              item["changed"] == json::array({"candidate.position"}));
  }
  EXPECT_TRUE(corrected) << person["history"].dump();
  EXPECT_EQ(person["history"].back()["what"], "nomination.screened") << "the reversal comes last";
  EXPECT_EQ(person["nationality"], "VN");
}

}  // namespace
}  // namespace jilaf::e2e
