#include "services/missions/snapshots.hpp"

#include "common/events/snapshot.hpp"
#include "services/missions/education.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/research_missions.hpp"
#include "services/missions/seminars.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

using nlohmann::json;

json OrNull(const json& doc, const char* key) {
  const auto it = doc.find(key);
  return it == doc.end() ? json() : *it;
}

json MissionSnapshot(const json& doc) {
  const json& report = doc["report"];
  json data = MissionFacts(doc);
  data["delegation_size"] = doc["delegation"].size();
  data["meetings"] = doc["meetings"].size();
  data["report_status"] = report.is_object() ? report["status"] : json();
  return data;
}

json SeminarSnapshot(const json& doc) {
  json registrations = json::array();
  for (const auto& r : doc["registrations"]) {
    registrations.push_back({{"registration_id", r["id"]},
                             {"status", r["status"]},
                             {"alumnus_id", OrNull(r, "alumnus_id")},
                             {"country", r["country"]}});
  }
  json data = SeminarFacts(doc);
  data["registrations"] = std::move(registrations);
  return data;
}

json EducationSnapshot(const json& doc) {
  json participants = json::array();
  for (const auto& p : doc["participants"]) {
    participants.push_back({{"participant_id", p["id"]},
                            {"status", p["status"]},
                            {"alumnus_id", OrNull(p, "alumnus_id")},
                            {"country", p["country"]}});
  }
  int sessions = 0;
  for (const auto& course : doc["courses"]) sessions += static_cast<int>(course["sessions"].size());
  json data = ProgrammeFacts(doc);
  data["courses"] = doc["courses"].size();
  data["sessions_total"] = sessions;
  data["participants"] = std::move(participants);
  return data;
}

json AlumnusSnapshot(store::Db& db, const json& doc) {
  json engagements = json::array();
  for (const auto& e : Engagements(db, doc["id"])) {
    engagements.push_back({{"target_kind", e["kind"]},
                           {"target_id", e["target_id"]},
                           {"fiscal_year", e["fiscal_year"]},
                           {"invited", !e["invited_at"].is_null()},
                           {"registered", !e["registered_at"].is_null()}});
  }
  return {{"alumnus_id", doc["id"]},
          {"nomination_id", doc["nomination_id"]},
          {"programme_id", doc["programme_id"]},
          {"fiscal_year", doc["fiscal_year"]},
          {"country", doc["country"]},
          {"engagements", std::move(engagements)}};
}

events::SnapshotSource Source(const Aggregate& of, json (*snapshot)(const json&)) {
  return {of.kind.aggregate, SnapshotPage(of.kind.table.spec().name),
          [&of, snapshot](store::Db&, const json& doc) {
            const std::string id = doc["id"];
            return events::SnapshotItem{id, of.subject + "/" + id, snapshot(doc)};
          }};
}

}  // namespace

http::Response PublishSnapshots(const http::Request& request, store::Store& store) {
  const events::SnapshotOptions options{"missions", Events().source(), Events().topic(), 200,
                                        std::string(request.Header("traceparent"))};
  // Keys as in the change events: registrations travel with their seminar, participants with
  // their programme, engagements with their alumnus.
  const std::vector<events::SnapshotSource> sources = {
      Source(Mission(), MissionSnapshot),
      Source(Seminar(), SeminarSnapshot),
      Source(Education(), EducationSnapshot),
      {"alumnus", SnapshotPage(AlumniTable().spec().name), [](store::Db& db, const json& doc) {
         const std::string id = doc["id"];
         return events::SnapshotItem{id, "alumni/" + id, AlumnusSnapshot(db, doc)};
       }}};
  const auto counts = events::PublishSnapshots(store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

}  // namespace jilaf::missions
