#include "services/missions/reports.hpp"

#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"

namespace jilaf::missions {
namespace {

std::vector<nlohmann::json> Docs(store::Db& db, const char* table, std::int64_t fy) {
  auto stmt =
      db.Prepare(std::string("SELECT doc FROM ") + table + " WHERE fiscal_year = ? ORDER BY seq");
  stmt.Bind(1, fy);
  std::vector<nlohmann::json> out;
  while (stmt.Step()) out.push_back(nlohmann::json::parse(stmt.Text(0)));
  return out;
}

std::int64_t Count(store::Db& db, const std::string& sql, std::int64_t fy) {
  auto stmt = db.Prepare(sql);
  stmt.Bind(1, fy);
  return stmt.Step() ? stmt.Int(0) : 0;
}

nlohmann::json MissionsPart(store::Db& db, std::int64_t fy) {
  nlohmann::json by_country = nlohmann::json::object();
  nlohmann::json by_status = nlohmann::json::object();
  int published = 0;
  const auto missions = Docs(db, "missions", fy);
  for (const auto& m : missions) {
    by_status[m["status"].get<std::string>()] =
        by_status.value(m["status"].get<std::string>(), 0) + 1;
    if (m["status"] == "cancelled") continue;
    for (const auto& c : m["countries"]) {
      by_country[c.get<std::string>()] = by_country.value(c.get<std::string>(), 0) + 1;
    }
    if (m["report"].is_object() && m["report"]["status"] == "published") ++published;
  }
  return {{"total", missions.size()},
          {"by_status", by_status},
          {"by_country", by_country},
          {"reports_published", published}};
}

nlohmann::json SeminarsPart(store::Db& db, std::int64_t fy) {
  int held = 0;
  int registered = 0;
  int waitlisted = 0;
  int alumni = 0;
  const auto seminars = Docs(db, "seminars", fy);
  for (const auto& s : seminars) {
    if (s["status"] == "held" || s["status"] == "reported") ++held;
    for (const auto& r : s["registrations"]) {
      if (r["status"] == "registered") {
        ++registered;
        if (r.contains("alumnus_id")) ++alumni;
      } else if (r["status"] == "waitlisted") {
        ++waitlisted;
      }
    }
  }
  return {{"total", seminars.size()},
          {"held", held},
          {"participants", registered},
          {"waitlisted", waitlisted},
          {"alumni_participants", alumni}};
}

nlohmann::json EducationPart(store::Db& db, std::int64_t fy) {
  int held = 0;
  int courses = 0;
  int participants = 0;
  int completed = 0;
  int alumni = 0;
  nlohmann::json by_location = {{"japan", 0}, {"abroad", 0}};
  const auto programmes = Docs(db, "education_programmes", fy);
  for (const auto& p : programmes) {
    if (p["status"] == "cancelled") continue;
    by_location[p["location"].get<std::string>()] =
        by_location[p["location"].get<std::string>()].get<int>() + 1;
    courses += static_cast<int>(p["courses"].size());
    if (p["status"] == "completed") ++held;
    for (const auto& participant : p["participants"]) {
      ++participants;
      if (participant["status"] == "completed") ++completed;
      if (participant.contains("alumnus_id")) ++alumni;
    }
  }
  return {
      {"programmes", programmes.size()},
      {"by_location", by_location},
      {"courses", courses},
      {"held", held},
      {"participants", participants},
      {"completions", completed},
      {"completion_rate", participants == 0 ? 0.0 : static_cast<double>(completed) / participants},
      {"certificates", Count(db, "SELECT count(*) FROM certificates WHERE fiscal_year = ?", fy)},
      {"alumni_participants", alumni}};
}

nlohmann::json AlumniPart(store::Db& db, std::int64_t fy) {
  return {{"new_alumni", Count(db, "SELECT count(*) FROM alumni WHERE fiscal_year = ?", fy)},
          {"invited", Count(db,
                            "SELECT count(DISTINCT alumnus_id) FROM alumni_engagements"
                            " WHERE fiscal_year = ? AND invited_at IS NOT NULL",
                            fy)},
          {"participating", Count(db,
                                  "SELECT count(DISTINCT alumnus_id) FROM alumni_engagements"
                                  " WHERE fiscal_year = ? AND registered_at IS NOT NULL",
                                  fy)}};
}

}  // namespace

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
    nlohmann::json body = {
        {"fiscal_year", fy},
        {"period",
         {{"from", std::to_string(fy) + "-04-01"}, {"to", std::to_string(fy + 1) + "-03-31"}}},
        {"missions", MissionsPart(db, fy)},
        {"seminars", SeminarsPart(db, fy)},
        {"education", EducationPart(db, fy)},
        {"alumni", AlumniPart(db, fy)}};
    return http::Response::Json(200, body);
  });
}

}  // namespace jilaf::missions
