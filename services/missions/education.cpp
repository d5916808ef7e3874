#include "services/missions/education.hpp"

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/missions/alumni.hpp"
#include "services/missions/records.hpp"
#include "services/missions/rules.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

nlohmann::json ReadProgramme(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  const auto location = in.RequiredEnum("location", {"japan", "abroad"});
  doc["location"] = location;
  const auto country = in.OptionalString("country", 2);
  if (country && !IsCountryCode(*country)) {
    in.AddError("country", "must be an ISO 3166-1 alpha-2 code");
  } else if (location == "abroad" && !country) {
    in.AddError("country", "is required for a programme held abroad");
  } else if (location == "japan" && country && *country != "JP") {
    in.AddError("country", "must be JP (or absent) for a programme held in Japan");
  }
  doc["country"] = location == "japan" ? "JP" : country.value_or("");
  if (auto venue = in.OptionalString("venue", 300)) doc["venue"] = *venue;
  const auto start = in.RequiredDate("start_date");
  const auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start) {
    in.AddError("end_date", "must not be before start_date");
  }
  doc["start_date"] = start;
  doc["end_date"] = end;
  doc["attendance_threshold_percent"] =
      in.OptionalInt("attendance_threshold_percent", 1, 100).value_or(80);
  doc["courses"] = ReadArray(in, "courses", true, 50, [&](http::ObjectReader& course) {
    nlohmann::json out = {{"id", events::NewTimeOrderedUuid()},
                          {"title", course.RequiredString("title", 1, 300)}};
    out["sessions"] = ReadArray(course, "sessions", true, 100, [&](http::ObjectReader& session) {
      const auto date = session.RequiredDate("date");
      if (!date.empty() && !start.empty() && !end.empty() && (date < start || date > end)) {
        session.AddError("date", "must fall between start_date and end_date");
      }
      nlohmann::json s = {{"id", events::NewTimeOrderedUuid()}, {"date", date}};
      if (auto topic = session.OptionalString("topic", 300)) s["topic"] = *topic;
      return s;
    });
    return out;
  });
  in.Finish();
  if (SessionCount(doc) == 0) {
    throw http::ApiError::Validation({{"/courses", "needs at least one session"}});
  }
  doc["status"] = "planned";
  doc["fiscal_year"] = FiscalYearOf(start);
  doc["participants"] = nlohmann::json::array();
  doc["attendance"] = nlohmann::json::object();
  doc["history"] = nlohmann::json::array();
  return doc;
}

nlohmann::json* FindParticipant(nlohmann::json& doc, const std::string& id) {
  for (auto& participant : doc["participants"]) {
    if (participant["id"] == id) return &participant;
  }
  return nullptr;
}

// On completion: every participant meeting the threshold completes and gets a certificate.
void CompleteParticipants(store::Db& tx, const http::Request& request, nlohmann::json& doc) {
  const int total = SessionCount(doc);
  const int threshold = doc["attendance_threshold_percent"].get<int>();
  const std::string id = doc["id"];
  const std::string date = doc["end_date"];
  for (auto& participant : doc["participants"]) {
    const int attended = AttendedCount(doc, participant["id"]);
    participant["sessions_attended"] = attended;
    if (!MeetsThreshold(attended, total, threshold)) {
      participant["status"] = "not_completed";
      continue;
    }
    participant["status"] = "completed";
    const std::string code = NewVerificationCode();
    participant["certificate_code"] = code;
    const nlohmann::json certificate = {
        {"name", participant["name"]}, {"programme", doc["title"]}, {"date", date}};
    auto insert = tx.Prepare(
        "INSERT INTO certificates(code, programme_id, participant_id, fiscal_year, doc,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)");
    insert.Bind(1, code)
        .Bind(2, id)
        .Bind(3, participant["id"].get<std::string>())
        .Bind(4, doc["fiscal_year"].get<std::int64_t>())
        .Bind(5, certificate.dump())
        .Bind(6, events::NowRfc3339());
    insert.Run();
    const std::string participant_id = participant["id"];
    nlohmann::json facts = {{"programme_id", id},
                            {"participant_id", participant_id},
                            {"alumnus_id", participant.value("alumnus_id", nlohmann::json())},
                            {"country", participant["country"]},
                            {"fiscal_year", doc["fiscal_year"]},
                            {"sessions_attended", attended},
                            {"sessions_total", total}};
    Emit(tx, request, "participant", "completed", id, "education-programmes/" + id, facts);
    // The code itself stays out of the event: anyone reading the topic could forge nothing
    // with it, but it is the holder's to share.
    facts["certificate_date"] = date;
    Emit(tx, request, "certificate", "issued", id, "education-programmes/" + id, std::move(facts));
  }
}

}  // namespace

nlohmann::json ProgrammeFacts(const nlohmann::json& doc) {
  return {{"programme_id", doc["id"]},         {"title", doc["title"]},
          {"location", doc["location"]},       {"country", doc["country"]},
          {"fiscal_year", doc["fiscal_year"]}, {"start_date", doc["start_date"]},
          {"end_date", doc["end_date"]},       {"status", doc["status"]}};
}

http::Response CreateEducationProgramme(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadProgramme(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      InsertRecord(tx, kEducation, doc);
      const std::string id = doc["id"];
      auto data = ProgrammeFacts(doc);
      data["sessions_total"] = SessionCount(doc);
      data["courses"] = doc["courses"].size();  // for the yearly report
      data["attendance_threshold_percent"] = doc["attendance_threshold_percent"];
      Emit(tx, request, "education_programme", "created", id, "education-programmes/" + id,
           std::move(data));
      return RecordResponse(201, kEducation, doc);
    });
  });
}

http::Response ListEducationProgrammes(const http::Request& request, store::Store& store) {
  return ListRecords(request, store, kEducation, EducationStates().States());
}

http::Response GetEducationProgramme(const http::Request& request, store::Store& store) {
  const auto doc =
      store.Read([&](store::Db& db) { return LoadOr404(db, kEducation, request.Param("id")); });
  return RecordResponse(200, kEducation, doc);
}

http::Response EnrolParticipant(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  std::optional<std::string> nomination_id;
  nlohmann::json participant = ReadPerson(in, nomination_id);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto doc = LoadOr404(tx, kEducation, request.Param("id"));
      const std::string status = doc["status"];
      if (status != "planned" && status != "in_progress") {
        throw http::ApiError::Conflict(
            "participants can be enrolled only while the programme "
            "is planned or in_progress; it is " +
            status);
      }
      for (const auto& other : doc["participants"]) {
        if (other["email"] == participant["email"]) {
          throw http::ApiError::Conflict("a participant with this email is already enrolled")
              .With("participant_id", other["id"]);
        }
      }
      const std::string id = doc["id"];
      participant["status"] = "enrolled";
      participant["enrolled_at"] = events::NowRfc3339();
      if (nomination_id) participant["nomination_id"] = *nomination_id;
      const auto alumnus = FindAlumnus(tx, participant["email"], nomination_id);
      if (alumnus) {
        participant["alumnus_id"] = *alumnus;
        LinkRegistration(tx, *alumnus, "education_programme", id, doc["fiscal_year"].get<int>(),
                         participant["id"]);
      }
      doc["participants"].push_back(participant);
      SaveRecord(tx, kEducation, doc);
      Emit(tx, request, "participant", "enrolled", id, "education-programmes/" + id,
           {{"programme_id", id},
            {"participant_id", participant["id"]},
            {"alumnus_id", alumnus ? nlohmann::json(*alumnus) : nlohmann::json()},
            {"country", participant["country"]},
            {"fiscal_year", doc["fiscal_year"]}});
      auto response = http::Response::Json(201, participant);
      response.SetHeader("Location", "/v1/education-programmes/" + id + "/participants/" +
                                         participant["id"].get<std::string>());
      response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
      return response;
    });
  });
}

http::Response RecordAttendance(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const auto present = in.StringArray("present", true, 1000, 64);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kEducation, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string& session_id = request.Param("session_id");
    bool known_session = false;
    for (const auto& course : doc["courses"]) {
      for (const auto& session : course["sessions"]) known_session |= session["id"] == session_id;
    }
    if (!known_session) throw http::ApiError::NotFound("no session with id " + session_id);
    if (doc["status"] != "in_progress") {
      throw http::ApiError::Conflict(
          "attendance is recorded while the programme is in_progress; "
          "it is " +
          doc["status"].get<std::string>());
    }
    std::vector<http::FieldError> errors;
    for (std::size_t i = 0; i < present.size(); ++i) {
      if (FindParticipant(doc, present[i]) == nullptr) {
        errors.push_back({"/present/" + std::to_string(i), "no participant with this id"});
      }
    }
    if (!errors.empty()) throw http::ApiError::Validation(std::move(errors));
    doc["attendance"][session_id] = present;
    SaveRecord(tx, kEducation, doc);
    const std::string id = doc["id"];
    Emit(tx, request, "attendance", "recorded", id, "education-programmes/" + id,
         {{"programme_id", id},
          {"session_id", session_id},
          {"present", present.size()},
          {"participants", doc["participants"].size()},
          {"fiscal_year", doc["fiscal_year"]}});
    return RecordResponse(200, kEducation, doc);
  });
}

http::Response TransitionEducationProgramme(const http::Request& request, store::Store& store) {
  const auto input = ReadTransition(request);
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kEducation, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    EducationStates().Check(from, input.to);
    doc["status"] = input.to;
    RecordHistory(doc, from, input.to, request, input.note);
    if (input.to == "completed") CompleteParticipants(tx, request, doc);
    SaveRecord(tx, kEducation, doc);
    const std::string id = doc["id"];
    auto data = ProgrammeFacts(doc);
    data["previous_status"] = from;
    if (input.to == "completed") {
      int completed = 0;
      for (const auto& p : doc["participants"]) completed += p["status"] == "completed" ? 1 : 0;
      data["participants"] = doc["participants"].size();
      data["completed"] = completed;
    }
    Emit(tx, request, "education_programme", input.to, id, "education-programmes/" + id,
         std::move(data));
    return RecordResponse(200, kEducation, doc);
  });
}

http::Response VerifyCertificate(const http::Request& request, store::Store& store) {
  const auto& code = request.Param("code");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM certificates WHERE code = ?", code);
  });
  if (!doc) throw http::ApiError::NotFound("no certificate with this code");
  return http::Response::Json(200, *doc);
}

}  // namespace jilaf::missions
