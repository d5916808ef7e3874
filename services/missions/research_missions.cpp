#include "services/missions/research_missions.hpp"

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/missions/records.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

const std::vector<std::string_view> kRoles = {"head", "member", "interpreter", "staff"};
const std::vector<std::string_view> kMeetingKinds = {"union", "employer", "government", "ILO",
                                                     "other"};

nlohmann::json ReadMeeting(http::ObjectReader& in) {
  nlohmann::json meeting = {{"id", events::NewTimeOrderedUuid()}};
  meeting["date"] = in.RequiredDate("date");
  meeting["counterpart"] = in.RequiredString("counterpart", 1, 300);
  meeting["kind"] = in.RequiredEnum("kind", kMeetingKinds);
  if (auto notes = in.OptionalString("notes", 4000)) meeting["notes"] = *notes;
  return meeting;
}

nlohmann::json ReadMission(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  const auto countries = in.StringArray("countries", true, 20, 2);
  for (const auto& c : countries) {
    if (!IsCountryCode(c)) {
      in.AddError("countries", "'" + c + "' is not an ISO 3166-1 alpha-2 code");
    }
  }
  if (in.Raw("countries") != nullptr && countries.empty() && in.ok()) {
    in.AddError("countries", "needs at least one country");
  }
  doc["countries"] = countries;
  const auto start = in.RequiredDate("start_date");
  const auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start) {
    in.AddError("end_date", "must not be before start_date");
  }
  doc["start_date"] = start;
  doc["end_date"] = end;
  doc["objectives"] = in.StringArray("objectives", true, 30, 1000);
  doc["delegation"] = ReadArray(in, "delegation", false, 50, [](http::ObjectReader& member) {
    nlohmann::json out = {{"name", member.RequiredString("name", 1, 200)},
                          {"organisation", member.RequiredString("organisation", 1, 300)},
                          {"role", member.RequiredEnum("role", kRoles)}};
    return out;
  });
  doc["meetings"] = ReadArray(in, "meetings", false, 200, ReadMeeting);
  in.Finish();
  doc["status"] = "planned";
  doc["fiscal_year"] = start.empty() ? 0 : FiscalYearOf(start);
  doc["report"] = nullptr;
  doc["history"] = nlohmann::json::array();
  return doc;
}

}  // namespace

nlohmann::json MissionFacts(const nlohmann::json& doc) {
  return {{"mission_id", doc["id"]},         {"title", doc["title"]},
          {"countries", doc["countries"]},   {"fiscal_year", doc["fiscal_year"]},
          {"start_date", doc["start_date"]}, {"end_date", doc["end_date"]},
          {"status", doc["status"]}};
}

http::Response CreateMission(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadMission(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      InsertRecord(tx, kMissions, doc);
      const std::string id = doc["id"];
      auto data = MissionFacts(doc);
      data["delegation_size"] = doc["delegation"].size();
      Emit(tx, request, "mission", "created", id, "missions/" + id, std::move(data));
      return RecordResponse(201, kMissions, doc);
    });
  });
}

http::Response ListMissions(const http::Request& request, store::Store& store) {
  return ListRecords(request, store, kMissions, MissionStates().States());
}

http::Response GetMission(const http::Request& request, store::Store& store) {
  const auto doc =
      store.Read([&](store::Db& db) { return LoadOr404(db, kMissions, request.Param("id")); });
  return RecordResponse(200, kMissions, doc);
}

http::Response AddMeeting(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  auto meeting = ReadMeeting(in);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kMissions, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string status = doc["status"];
    if (status != "planned" && status != "in_progress") {
      throw http::ApiError::Conflict(
          "meetings can be added only to a planned or in_progress "
          "mission; this one is " +
          status);
    }
    doc["meetings"].push_back(meeting);
    SaveRecord(tx, kMissions, doc);
    const std::string id = doc["id"];
    Emit(tx, request, "mission", "meeting_added", id, "missions/" + id,
         {{"mission_id", id},
          {"meeting_id", meeting["id"]},
          {"date", meeting["date"]},
          {"counterpart", meeting["counterpart"]},
          {"kind", meeting["kind"]}});
    return RecordResponse(200, kMissions, doc);
  });
}

http::Response TransitionMission(const http::Request& request, store::Store& store) {
  const auto input = ReadTransition(request);
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kMissions, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    MissionStates().Check(from, input.to);
    if (input.to == "reported" &&
        (!doc["report"].is_object() || doc["report"]["status"] != "published")) {
      throw http::ApiError::Conflict(
          "a mission becomes reported only once its findings report "
          "is published");
    }
    doc["status"] = input.to;
    RecordHistory(doc, from, input.to, request, input.note);
    SaveRecord(tx, kMissions, doc);
    const std::string id = doc["id"];
    auto data = MissionFacts(doc);
    data["previous_status"] = from;
    Emit(tx, request, "mission", input.to, id, "missions/" + id, std::move(data));
    return RecordResponse(200, kMissions, doc);
  });
}

http::Response PutReport(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  nlohmann::json report;
  report["title"] = ReadBilingual(in, "title", true, 300);
  report["summary"] = ReadBilingual(in, "summary", true, 4000);
  report["findings"] = ReadBilingual(in, "findings", true, 16000);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kMissions, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string status = doc["status"];
    if (status != "in_progress" && status != "completed") {
      throw http::ApiError::Conflict(
          "a findings report is written while the mission is "
          "in_progress or completed; this one is " +
          status);
    }
    const bool created = !doc["report"].is_object();
    if (!created && doc["report"]["status"] != "draft") {
      throw http::ApiError::Conflict("the report is " + doc["report"]["status"].get<std::string>() +
                                     "; only a draft can be edited (move it back to draft)");
    }
    report["status"] = "draft";
    report["updated_at"] = events::NowRfc3339();
    doc["report"] = report;
    SaveRecord(tx, kMissions, doc);
    const std::string id = doc["id"];
    if (created) {
      Emit(tx, request, "report", "draft", id, "missions/" + id + "/report",
           {{"mission_id", id},
            {"status", "draft"},
            {"previous_status", nullptr},
            {"title", report["title"]},
            {"fiscal_year", doc["fiscal_year"]}});
    }
    return RecordResponse(200, kMissions, doc);
  });
}

http::Response TransitionReport(const http::Request& request, store::Store& store) {
  const auto input = ReadTransition(request);
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kMissions, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    if (!doc["report"].is_object()) {
      throw http::ApiError::Conflict("this mission has no findings report yet; PUT it first");
    }
    auto& report = doc["report"];
    const std::string from = report["status"];
    ReportStates().Check(from, input.to);
    report["status"] = input.to;
    report["updated_at"] = events::NowRfc3339();
    nlohmann::json data = {{"mission_id", doc["id"]},
                           {"status", input.to},
                           {"previous_status", from},
                           {"title", report["title"]},
                           {"fiscal_year", doc["fiscal_year"]}};
    if (input.to == "published") {
      report["published_at"] = report["updated_at"];
      // What the notifications service needs for the website feed and the periodical.
      data["summary"] = report["summary"];
      data["countries"] = doc["countries"];
      data["mission_title"] = doc["title"];
      data["published_at"] = report["published_at"];
    }
    RecordHistory(doc, "report:" + from, "report:" + input.to, request, input.note);
    SaveRecord(tx, kMissions, doc);
    const std::string id = doc["id"];
    Emit(tx, request, "report", input.to, id, "missions/" + id + "/report", std::move(data));
    return RecordResponse(200, kMissions, doc);
  });
}

}  // namespace jilaf::missions
