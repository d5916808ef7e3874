#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/iso3166.hpp"
#include "services/missions/contract.hpp"
#include "services/missions/records.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

const std::vector<std::string_view> kRoles = {"head", "member", "interpreter", "staff"};
const std::vector<std::string_view> kMeetingKinds = {"union", "employer", "government", "ILO",
                                                     "other"};

nlohmann::json ReadMeeting(http::ObjectReader& in) {
  nlohmann::json meeting = {{"id", util::NewTimeOrderedUuid()}};
  meeting["date"] = in.RequiredDate("date");
  meeting["counterpart"] = in.RequiredString("counterpart", 1, 300);
  meeting["kind"] = in.RequiredEnum("kind", kMeetingKinds);
  if (auto notes = in.OptionalString("notes", 4000)) meeting["notes"] = *notes;
  return meeting;
}

nlohmann::json ReadCountries(http::ObjectReader& in) {
  const auto countries = in.StringArray("countries", true, 20, 2);
  // Checked just below: each an assigned code, at least one.
  in.Describe("countries", {{"type", "array"},
                            {"minItems", 1},
                            {"maxItems", 20},
                            {"items", {{"$ref", "#/components/schemas/CountryCode"}}}});
  for (const auto& c : countries) {
    if (!util::IsIso3166Alpha2(c)) {
      in.AddError("countries", "'" + c + "' is not an ISO 3166-1 alpha-2 code");
    }
  }
  if (in.Raw("countries") != nullptr && countries.empty() && in.ok()) {
    in.AddError("countries", "needs at least one country");
  }
  return countries;
}

nlohmann::json ReadDelegate(http::ObjectReader& member) {
  return {{"name", member.RequiredString("name", 1, 200)},
          {"organisation", member.RequiredString("organisation", 1, 300)},
          {"role", member.RequiredEnum("role", kRoles)}};
}

// A meeting's body (POST /v1/missions/{id}/meetings).
nlohmann::json ReadMeetingBody(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto meeting = ReadMeeting(in);
  in.Finish();
  return meeting;
}

nlohmann::json ReadReport(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json report;
  report["title"] = ReadBilingual(in, "title", true, 300);
  report["summary"] = ReadBilingual(in, "summary", true, 4000);
  report["findings"] = ReadBilingual(in, "findings", true, 16000);
  in.Finish();
  return report;
}

// Writes the draft into the mission; true when the mission had no report before.
bool WriteReport(nlohmann::json& doc, nlohmann::json report) {
  RequireStatus(doc, {"in_progress", "completed"},
                "a findings report is written while the mission is in_progress or completed; "
                "this one is ");
  const bool created = !doc["report"].is_object();
  if (!created && doc["report"]["status"] != "draft") {
    throw http::ApiError::Conflict("the report is " + doc["report"]["status"].get<std::string>() +
                                   "; only a draft can be edited (move it back to draft)");
  }
  report["status"] = "draft";
  report["updated_at"] = util::NowRfc3339();
  doc["report"] = std::move(report);
  return created;
}

aggregate::EventFacts ReportEvent(const nlohmann::json& doc, const std::string& what,
                                  const nlohmann::json& previous) {
  const std::string id = doc["id"];
  const auto& report = doc["report"];
  return {"report",
          what,
          id,
          "missions/" + id + "/report",
          {{"mission_id", id},
           {"status", report["status"]},
           {"previous_status", previous},
           {"title", report["title"]},
           {"fiscal_year", doc["fiscal_year"]}}};
}

// Moves the report to `to` (recorded in the mission's status history); returns where it was.
std::string MoveReport(nlohmann::json& doc, const aggregate::TransitionInput& input,
                       const std::string& by) {
  if (!doc["report"].is_object()) {
    throw http::ApiError::Conflict("this mission has no findings report yet; PUT it first");
  }
  auto& report = doc["report"];
  const std::string from = report["status"];
  ReportStates().Check(from, input.to);
  report["status"] = input.to;
  report["updated_at"] = util::NowRfc3339();
  if (input.to == "published") report["published_at"] = report["updated_at"];
  aggregate::RecordTransition(doc, "status_history", "report:" + from, "report:" + input.to, by,
                              input.reason);
  return from;
}

// What the notifications service needs of a publication for the website feed and periodical.
void AddPublication(aggregate::EventFacts& event, const nlohmann::json& doc) {
  const auto& report = doc["report"];
  event.data["summary"] = report["summary"];
  event.data["countries"] = doc["countries"];
  event.data["mission_title"] = doc["title"];
  event.data["published_at"] = report["published_at"];
}

}  // namespace

nlohmann::json ReadMission(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  doc["countries"] = ReadCountries(in);
  ReadPeriod(in, doc);
  doc["objectives"] = in.StringArray("objectives", true, 30, 1000);
  doc["delegation"] = ReadArray(in, "delegation", false, 50, ReadDelegate);
  doc["meetings"] = ReadArray(in, "meetings", false, 200, ReadMeeting);
  in.Finish();
  doc["report"] = nullptr;
  return doc;
}

void RequirePublishedReport(aggregate::Change&, nlohmann::json& doc, const std::string& to) {
  if (to == "reported" && (!doc["report"].is_object() || doc["report"]["status"] != "published")) {
    throw http::ApiError::Conflict(
        "a mission becomes reported only once its findings report is published");
  }
}

nlohmann::json MissionFacts(const nlohmann::json& doc) {
  return {{"mission_id", doc["id"]},         {"title", doc["title"]},
          {"countries", doc["countries"]},   {"fiscal_year", doc["fiscal_year"]},
          {"start_date", doc["start_date"]}, {"end_date", doc["end_date"]},
          {"status", doc["status"]}};
}

nlohmann::json MissionCreated(const nlohmann::json& doc) {
  auto data = MissionFacts(doc);
  data["delegation_size"] = doc["delegation"].size();
  return data;
}

nlohmann::json MissionSnapshot(const nlohmann::json& doc) {
  auto data = MissionCreated(doc);
  data["meetings"] = doc["meetings"].size();
  data["report_status"] = doc["report"].is_object() ? doc["report"]["status"] : nlohmann::json();
  return data;
}

http::Response AddMeeting(const http::Request& request, store::Store& store) {
  const auto meeting = ReadMeetingBody(http::ParseJsonBody(request));
  return aggregate::Modify(
      store, request, Mission().kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        RequireStatus(doc, {"planned", "in_progress"},
                      "meetings can be added only to a planned or in_progress mission; this one "
                      "is ");
        doc["meetings"].push_back(meeting);
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        change.Emit(Fact(Mission(), doc, "mission", "meeting_added",
                         {{"mission_id", doc["id"]},
                          {"meeting_id", meeting["id"]},
                          {"date", meeting["date"]},
                          {"counterpart", meeting["counterpart"]},
                          {"kind", meeting["kind"]}}));
      });
}

http::Response PutReport(const http::Request& request, store::Store& store) {
  auto report = ReadReport(http::ParseJsonBody(request));
  bool created = false;
  return aggregate::Modify(
      store, request, Mission().kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) { created = WriteReport(doc, report); },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        if (created) change.Emit(ReportEvent(doc, "draft", nullptr));
      });
}

http::Response TransitionReport(const http::Request& request, store::Store& store) {
  const auto input = ReadTransitionBody(http::ParseJsonBody(request), ReportStates());
  std::string from;
  return aggregate::Modify(
      store, request, Mission().kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        from = MoveReport(doc, input, request.principal.subject);
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        auto event = ReportEvent(doc, input.to, from);
        if (input.to == "published") AddPublication(event, doc);
        change.Emit(std::move(event));
      });
}

void AddResearchMissionBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/MeetingInput",
                 [](const nlohmann::json& body) { (void)ReadMeetingBody(body); }});
  out.push_back({"/components/schemas/ReportInput",
                 [](const nlohmann::json& body) { (void)ReadReport(body); }});
  out.push_back(
      {"/components/schemas/MissionReportTransitionInput",
       [](const nlohmann::json& body) { (void)ReadTransitionBody(body, ReportStates()); }});
}

}  // namespace jilaf::missions
