#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/iso3166.hpp"
#include "services/missions/contract.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/records.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/rules.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

void ReadPlace(http::ObjectReader& in, nlohmann::json& doc) {
  const auto location = in.RequiredEnum("location", {"japan", "abroad"});
  doc["location"] = location;
  const auto country = in.OptionalString("country", 2);
  in.Describe("country", {{"$ref", "#/components/schemas/CountryCode"}});  // checked just below
  if (country && !util::IsIso3166Alpha2(*country)) {
    in.AddError("country", "must be an ISO 3166-1 alpha-2 code");
  } else if (location == "abroad" && !country) {
    in.AddError("country", "is required for a programme held abroad");
  } else if (location == "japan" && country && *country != "JP") {
    in.AddError("country", "must be JP (or absent) for a programme held in Japan");
  }
  doc["country"] = location == "japan" ? "JP" : country.value_or("");
  if (auto venue = in.OptionalString("venue", 300)) doc["venue"] = *venue;
}

nlohmann::json ReadCourses(http::ObjectReader& in, const std::string& start,
                           const std::string& end) {
  return ReadArray(in, "courses", true, 50, [&](http::ObjectReader& course) {
    nlohmann::json out = {{"id", util::NewTimeOrderedUuid()},
                          {"title", course.RequiredString("title", 1, 300)}};
    out["sessions"] = ReadArray(course, "sessions", true, 100, [&](http::ObjectReader& session) {
      const auto date = session.RequiredDate("date");
      if (!date.empty() && !start.empty() && !end.empty() && (date < start || date > end)) {
        session.AddError("date", "must fall between start_date and end_date");
      }
      nlohmann::json s = {{"id", util::NewTimeOrderedUuid()}, {"date", date}};
      if (auto topic = session.OptionalString("topic", 300)) s["topic"] = *topic;
      return s;
    });
    // ReadProgramme requires a session; the document asks one of every course (stricter).
    course.Refine("sessions", {{"minItems", 1}});
    return out;
  });
}

// What every event about a participant says of them.
nlohmann::json ParticipantFacts(const nlohmann::json& doc, const nlohmann::json& participant) {
  nlohmann::json facts = {{"programme_id", doc["id"]},
                          {"participant_id", participant["id"]},
                          {"alumnus_id", participant.value("alumnus_id", nlohmann::json())},
                          {"country", participant["country"]},
                          {"fiscal_year", doc["fiscal_year"]}};
  if (participant.contains("person_id")) facts["person_id"] = participant["person_id"];
  return facts;
}

bool IsParticipant(const nlohmann::json& doc, const std::string& id) {
  for (const auto& participant : doc["participants"]) {
    if (participant["id"] == id) return true;
  }
  return false;
}

// A participant meeting the threshold completes and gets a certificate; the code itself stays
// out of the events (it is the holder's to share).
void CompleteParticipant(aggregate::Change& change, const nlohmann::json& doc,
                         nlohmann::json& participant, int total) {
  const int attended = AttendedCount(doc, participant["id"]);
  participant["sessions_attended"] = attended;
  if (!MeetsThreshold(attended, total, doc["attendance_threshold_percent"].get<int>())) {
    participant["status"] = "not_completed";
    return;
  }
  participant["status"] = "completed";
  const std::string code = NewVerificationCode();
  participant["certificate_code"] = code;
  InsertCertificate(
      change.tx, code, doc["id"], participant["id"], doc["fiscal_year"],
      {{"name", participant["name"]}, {"programme", doc["title"]}, {"date", doc["end_date"]}});
  auto facts = ParticipantFacts(doc, participant);
  facts["sessions_attended"] = attended;
  facts["sessions_total"] = total;
  change.Emit(Fact(Education(), doc, "participant", "completed", facts));
  facts["certificate_date"] = doc["end_date"];
  change.Emit(Fact(Education(), doc, "certificate", "issued", std::move(facts)));
}

// Enrols `participant` in the programme `doc`, linking them to their alumni history.
void Admit(store::Db& tx, nlohmann::json& doc, nlohmann::json& participant) {
  RequireStatus(doc, {"planned", "in_progress"},
                "participants can be enrolled only while the programme is planned or "
                "in_progress; it is ");
  // One person, one e-mail address: the domain part and, in practice, the local part ignore case.
  const std::string email = Lower(participant["email"].get<std::string>());
  for (const auto& other : doc["participants"]) {
    if (Lower(other["email"].get<std::string>()) == email) {
      throw http::ApiError::Conflict("a participant with this email is already enrolled")
          .With("participant_id", other["id"]);
    }
  }
  participant["status"] = "enrolled";
  participant["enrolled_at"] = util::NowRfc3339();
  LinkAlumnus(tx, "education_programme", doc, participant);
  doc["participants"].push_back(participant);
}

void RecordPresent(nlohmann::json& doc, const std::string& session_id,
                   const std::vector<std::string>& present) {
  bool known_session = false;
  for (const auto& course : doc["courses"]) {
    for (const auto& session : course["sessions"]) known_session |= session["id"] == session_id;
  }
  if (!known_session) throw http::ApiError::NotFound("no session with id " + session_id);
  RequireStatus(doc, {"in_progress"},
                "attendance is recorded while the programme is in_progress; it is ");
  std::vector<http::FieldError> errors;
  for (std::size_t i = 0; i < present.size(); ++i) {
    if (!IsParticipant(doc, present[i])) {
      errors.push_back({"/present/" + std::to_string(i), "no participant with this id"});
    }
  }
  if (!errors.empty()) throw http::ApiError::Validation(std::move(errors));
  doc["attendance"][session_id] = present;
}

nlohmann::json ProgrammeFacts(const nlohmann::json& doc) {
  return {{"programme_id", doc["id"]},         {"title", doc["title"]},
          {"location", doc["location"]},       {"country", doc["country"]},
          {"fiscal_year", doc["fiscal_year"]}, {"start_date", doc["start_date"]},
          {"end_date", doc["end_date"]},       {"status", doc["status"]}};
}

// The participants present at a session: their ids.
std::vector<std::string> ReadAttendance(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto present = in.StringArray("present", true, 1000, 64);
  in.Finish();
  return present;
}

}  // namespace

void AddEducationBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/AttendanceInput",
                 [](const nlohmann::json& body) { (void)ReadAttendance(body); }});
  out.push_back({"/components/schemas/PersonInput",
                 [](const nlohmann::json& body) { (void)ReadPerson(body); }});
}

nlohmann::json CoursesAsInput(const nlohmann::json& doc) {
  nlohmann::json courses = nlohmann::json::array();
  for (const auto& course : doc["courses"]) {
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& session : course["sessions"]) {
      sessions.push_back(aggregate::Pick(session, {"date", "topic"}));
    }
    courses.push_back({{"title", course["title"]}, {"sessions", std::move(sessions)}});
  }
  return {{"courses", std::move(courses)}};
}

nlohmann::json ReadProgramme(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  ReadPlace(in, doc);
  const auto [start, end] = ReadPeriod(in, doc);
  doc["attendance_threshold_percent"] =
      in.OptionalInt("attendance_threshold_percent", 1, 100).value_or(80);
  doc["courses"] = ReadCourses(in, start, end);
  in.Refine("courses", {{"minItems", 1}});  // SessionCount below
  in.Finish();
  if (SessionCount(doc) == 0) {
    throw http::ApiError::Validation({{"/courses", "needs at least one session"}});
  }
  doc["participants"] = nlohmann::json::array();
  doc["attendance"] = nlohmann::json::object();
  return doc;
}

void CompleteParticipants(aggregate::Change& change, nlohmann::json& doc, const std::string& to) {
  if (to != "completed") return;
  const int total = SessionCount(doc);
  auto participants = doc["participants"];
  for (auto& participant : participants) CompleteParticipant(change, doc, participant, total);
  doc["participants"] = std::move(participants);
}

nlohmann::json ProgrammeCreated(const nlohmann::json& doc) {
  auto data = ProgrammeFacts(doc);
  data["sessions_total"] = SessionCount(doc);
  data["courses"] = doc["courses"].size();  // for the yearly report
  data["attendance_threshold_percent"] = doc["attendance_threshold_percent"];
  return data;
}

nlohmann::json ProgrammeMoved(const nlohmann::json& doc) {
  auto data = ProgrammeFacts(doc);
  if (doc["status"] == "completed") {
    int completed = 0;
    for (const auto& p : doc["participants"]) completed += p["status"] == "completed" ? 1 : 0;
    data["participants"] = doc["participants"].size();
    data["completed"] = completed;
  }
  return data;
}

nlohmann::json ProgrammeSnapshot(const nlohmann::json& doc) {
  nlohmann::json participants = nlohmann::json::array();
  for (const auto& p : doc["participants"]) {
    participants.push_back({{"participant_id", p["id"]},
                            {"status", p["status"]},
                            {"alumnus_id", p.value("alumnus_id", nlohmann::json())},
                            {"country", p["country"]}});
  }
  auto data = ProgrammeFacts(doc);
  data["courses"] = doc["courses"].size();
  data["sessions_total"] = SessionCount(doc);
  data["participants"] = std::move(participants);
  return data;
}

http::Response EnrolParticipant(const http::Request& request, store::Store& store) {
  auto participant = ReadPerson(http::ParseJsonBody(request));
  return Join(
      request, store, Education(), "participants", participant,
      [&](aggregate::Change& change, nlohmann::json& doc) { Admit(change.tx, doc, participant); },
      [&](const nlohmann::json& doc) {
        return Fact(Education(), doc, "participant", "enrolled",
                    ParticipantFacts(doc, participant));
      });
}

http::Response RecordAttendance(const http::Request& request, store::Store& store) {
  const auto present = ReadAttendance(http::ParseJsonBody(request));
  const std::string& session_id = request.Param("session_id");
  return aggregate::Modify(
      store, request, Education().kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) { RecordPresent(doc, session_id, present); },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        change.Emit(Fact(Education(), doc, "attendance", "recorded",
                         {{"programme_id", doc["id"]},
                          {"session_id", session_id},
                          {"present", present.size()},
                          {"participants", doc["participants"].size()},
                          {"fiscal_year", doc["fiscal_year"]}}));
      });
}

http::Response VerifyCertificate(const http::Request& request, store::Store& store) {
  const auto& code = request.Param("code");
  auto doc = store.Read([&](store::Db& db) { return FindCertificate(db, code); });
  if (!doc) throw http::ApiError::NotFound("no certificate with this code");
  return http::Response::Json(200, *doc);
}

}  // namespace jilaf::missions
