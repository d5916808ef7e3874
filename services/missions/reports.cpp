#include "services/missions/reports.hpp"

#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

std::vector<nlohmann::json> Docs(store::Db& db, const Aggregate& of, std::int64_t fy) {
  return of.kind.table.Where(db, {{"fiscal_year", fy}});
}

nlohmann::json MissionsPart(store::Db& db, std::int64_t fy) {
  MissionsTally tally;
  for (const auto& m : Docs(db, Mission(), fy)) {
    tally.AddMission(m["status"], m["countries"],
                     m["report"].is_object() && m["report"]["status"] == "published");
  }
  return tally.Json();
}

nlohmann::json SeminarsPart(store::Db& db, std::int64_t fy) {
  SeminarsTally tally;
  for (const auto& s : Docs(db, Seminar(), fy)) {
    tally.AddSeminar(s["status"]);
    for (const auto& r : s["registrations"])
      tally.AddRegistration(r["status"], r.contains("alumnus_id"));
  }
  return tally.Json();
}

nlohmann::json EducationPart(store::Db& db, std::int64_t fy) {
  EducationTally tally;
  for (const auto& p : Docs(db, Education(), fy)) {
    if (!tally.AddProgramme(p["status"], p["location"], static_cast<int>(p["courses"].size()))) {
      continue;
    }
    for (const auto& participant : p["participants"]) {
      tally.AddParticipant(participant["status"], participant.contains("alumnus_id"));
    }
  }
  return tally.Json(CertificatesIssued(db, fy));
}

}  // namespace

nlohmann::json FiscalYearPeriod(std::int64_t fiscal_year) {
  return {{"from", std::to_string(fiscal_year) + "-04-01"},
          {"to", std::to_string(fiscal_year + 1) + "-03-31"}};
}

void MissionsTally::AddMission(const std::string& status, const nlohmann::json& countries,
                               bool report_published) {
  ++total_;
  by_status_[status] = by_status_.value(status, 0) + 1;
  if (status == "cancelled") return;
  for (const auto& c : countries) {
    by_country_[c.get<std::string>()] = by_country_.value(c.get<std::string>(), 0) + 1;
  }
  if (report_published) ++published_;
}

nlohmann::json MissionsTally::Json() const {
  return {{"total", total_},
          {"by_status", by_status_},
          {"by_country", by_country_},
          {"reports_published", published_}};
}

void SeminarsTally::AddSeminar(const std::string& status) {
  ++total_;
  if (status == "held" || status == "reported") ++held_;
}

void SeminarsTally::AddRegistration(const std::string& status, bool alumnus) {
  if (status == "registered") {
    ++registered_;
    if (alumnus) ++alumni_;
  } else if (status == "waitlisted") {
    ++waitlisted_;
  }
}

nlohmann::json SeminarsTally::Json() const {
  return {{"total", total_},
          {"held", held_},
          {"participants", registered_},
          {"waitlisted", waitlisted_},
          {"alumni_participants", alumni_}};
}

bool EducationTally::AddProgramme(const std::string& status, const std::string& location,
                                  int courses) {
  ++programmes_;
  if (status == "cancelled") return false;
  by_location_[location] = by_location_.value(location, 0) + 1;
  courses_ += courses;
  if (status == "completed") ++held_;
  return true;
}

void EducationTally::AddParticipant(const std::string& status, bool alumnus) {
  ++participants_;
  if (status == "completed") ++completed_;
  if (alumnus) ++alumni_;
}

nlohmann::json EducationTally::Json(std::int64_t certificates) const {
  return {{"programmes", programmes_},
          {"by_location", by_location_},
          {"courses", courses_},
          {"held", held_},
          {"participants", participants_},
          {"completions", completed_},
          {"completion_rate",
           participants_ == 0 ? 0.0 : static_cast<double>(completed_) / participants_},
          {"certificates", certificates},
          {"alumni_participants", alumni_}};
}

http::Response FiscalYearReport(const http::Request& request, store::Store& store) {
  const auto& text = request.Param("fy");
  std::int64_t fy = 0;
  bool ok = text.size() == 4;
  for (char c : text) ok = ok && c >= '0' && c <= '9';
  if (ok) fy = std::stoll(text);
  if (!ok || fy < 1989 || fy > 2100) {
    throw http::ApiError::BadRequest("fiscal year must be a year from 1989 to 2100, e.g. 2026");
  }
  return store.Read([&](store::Db& db) {
    nlohmann::json body = {{"fiscal_year", fy},
                           {"period", FiscalYearPeriod(fy)},
                           {"missions", MissionsPart(db, fy)},
                           {"seminars", SeminarsPart(db, fy)},
                           {"education", EducationPart(db, fy)},
                           {"alumni", AlumniParticipation(db, fy)}};
    return http::Response::Json(200, body);
  });
}

}  // namespace jilaf::missions
