#include "tools/analytics/reports.hpp"

#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/http/csv.hpp"
#include "services/invitations/domain.hpp"
#include "services/missions/reports.hpp"
#include "services/projects/fiscal_report.hpp"

namespace jilaf::analytics {
namespace {

using nlohmann::json;

struct Row {
  std::string id;
  std::string parent;
  json doc;
};

std::vector<Row> Rows(store::Db& db, const char* kind, std::int64_t fiscal_year) {
  auto stmt = db.Prepare(
      "SELECT id, coalesce(parent, ''), doc FROM entities WHERE kind = ? AND fiscal_year = ?"
      " ORDER BY id");
  stmt.Bind(1, kind).Bind(2, fiscal_year);
  std::vector<Row> rows;
  while (stmt.Step()) rows.push_back({stmt.Text(0), stmt.Text(1), json::parse(stmt.Text(2))});
  return rows;
}

std::map<std::string, json> ById(store::Db& db, const char* kind) {
  auto stmt = db.Prepare("SELECT id, doc FROM entities WHERE kind = ?");
  stmt.Bind(1, kind);
  std::map<std::string, json> out;
  while (stmt.Step()) out.emplace(stmt.Text(0), json::parse(stmt.Text(1)));
  return out;
}

std::optional<std::string> TextOrNull(const json& value) {
  return value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
}

// --- invitations: the service's own BuildFiscalYearReport, fed from the events --------------

json Invitations(store::Db& db, std::int64_t fy) {
  const auto programmes = ById(db, "invitations.programme");
  std::vector<invitations::ReportRow> rows;
  for (const auto& row : Rows(db, "invitations.nomination", fy)) {
    const auto programme = programmes.find(row.parent);
    if (programme == programmes.end()) continue;  // the service joins on its programme
    rows.push_back({row.parent, row.doc["nationality"].get<std::string>(),
                    TextOrNull(programme->second["region"]),
                    programme->second["track"].get<std::string>(), TextOrNull(row.doc["gender"]),
                    row.doc["status"].get<std::string>()});
  }
  return invitations::BuildFiscalYearReport(fy, rows);
}

// --- projects: the service's own FiscalYearReportBuilder, fed from the events -------------

json Projects(store::Db& db, std::int64_t fy) {
  projects::FiscalYearReportBuilder report(static_cast<int>(fy));
  for (const auto& row : Rows(db, "projects.project", fy)) {
    if (!projects::CountedInFiscalReport(row.doc["status"].get<std::string>())) continue;
    report.AddProject(row.doc, row.doc["committed_jpy"].get<std::int64_t>());
  }
  const auto all_projects = ById(db, "projects.project");
  auto paid = db.Prepare(
      "SELECT parent, json_extract(doc, '$.amount_jpy') FROM entities"
      " WHERE kind = 'projects.tranche' AND json_extract(doc, '$.status') = 'paid'"
      " AND json_extract(doc, '$.value_date') BETWEEN ? AND ?");
  paid.Bind(1, report.from()).Bind(2, report.to());
  while (paid.Step()) {
    const auto project = all_projects.find(paid.Text(0));
    if (project == all_projects.end()) continue;  // the service joins on its project
    report.AddPaidTranche(project->second, paid.Int(1));
  }
  return report.Take();
}

// --- missions: the service's own tallies, fed from the events --------------------------------

json MissionsPart(store::Db& db, std::int64_t fy) {
  missions::MissionsTally tally;
  for (const auto& m : Rows(db, "missions.mission", fy)) {
    tally.AddMission(m.doc["status"], m.doc["countries"],
                     m.doc.value("report_status", json()) == "published");
  }
  return tally.Json();
}

// Children (registrations, participants) of the year's parents, grouped by parent.
std::map<std::string, std::vector<json>> Children(store::Db& db, const char* kind,
                                                  std::int64_t fy) {
  std::map<std::string, std::vector<json>> out;
  for (auto& row : Rows(db, kind, fy)) out[row.parent].push_back(std::move(row.doc));
  return out;
}

json SeminarsPart(store::Db& db, std::int64_t fy) {
  missions::SeminarsTally tally;
  auto registrations = Children(db, "missions.registration", fy);
  for (const auto& s : Rows(db, "missions.seminar", fy)) {
    tally.AddSeminar(s.doc["status"]);
    for (const auto& r : registrations[s.id]) {
      tally.AddRegistration(r["status"], !r["alumnus_id"].is_null());
    }
  }
  return tally.Json();
}

std::int64_t CountRows(store::Db& db, const char* kind, std::int64_t fy) {
  auto stmt = db.Prepare("SELECT count(*) FROM entities WHERE kind = ? AND fiscal_year = ?");
  stmt.Bind(1, kind).Bind(2, fy);
  return stmt.Step() ? stmt.Int(0) : 0;
}

json EducationPart(store::Db& db, std::int64_t fy) {
  missions::EducationTally tally;
  auto enrolled = Children(db, "missions.participant", fy);
  for (const auto& p : Rows(db, "missions.education_programme", fy)) {
    if (!tally.AddProgramme(p.doc["status"], p.doc["location"], p.doc.value("courses", 0))) {
      continue;
    }
    for (const auto& participant : enrolled[p.id]) {
      tally.AddParticipant(participant["status"], !participant["alumnus_id"].is_null());
    }
  }
  return tally.Json(CountRows(db, "missions.certificate", fy));
}

json AlumniPart(store::Db& db, std::int64_t fy) {
  auto distinct = [&db, fy](const char* sql) {
    auto stmt = db.Prepare(sql);
    stmt.Bind(1, fy);
    return stmt.Step() ? stmt.Int(0) : 0;
  };
  // An alumnus takes part while a registration (not cancelled) or an enrolment names them.
  const auto participating = distinct(
      "SELECT count(DISTINCT json_extract(r.doc, '$.alumnus_id')) FROM entities r"
      " JOIN entities s ON s.id = r.parent AND s.kind = CASE r.kind"
      "  WHEN 'missions.registration' THEN 'missions.seminar'"
      "  ELSE 'missions.education_programme' END"
      " WHERE r.kind IN ('missions.registration', 'missions.participant')"
      " AND s.fiscal_year = ?1 AND json_extract(r.doc, '$.alumnus_id') IS NOT NULL"
      " AND json_extract(r.doc, '$.status') <> 'cancelled'");
  return {{"new_alumni", CountRows(db, "invitations.alumnus", fy)},
          {"invited", distinct("SELECT count(DISTINCT json_extract(doc, '$.alumnus_id'))"
                               " FROM entities WHERE kind = 'missions.invitation'"
                               " AND fiscal_year = ?1")},
          {"participating", participating}};
}

json Missions(store::Db& db, std::int64_t fy) {
  return {{"fiscal_year", fy},
          {"period", missions::FiscalYearPeriod(fy)},
          {"missions", MissionsPart(db, fy)},
          {"seminars", SeminarsPart(db, fy)},
          {"education", EducationPart(db, fy)},
          {"alumni", AlumniPart(db, fy)}};
}

void Flatten(const std::string& service, const std::string& pointer, const json& value,
             std::string& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      // JSON pointer escaping: ~ as ~0, / as ~1.
      std::string escaped;
      for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      Flatten(service, pointer + "/" + escaped, child, out);
    }
    return;
  }
  out += service + "," + http::CsvQuote(pointer) + "," + http::CsvQuote(value.dump()) + "\n";
}

}  // namespace

const std::vector<std::string>& ReportServices() {
  static const std::vector<std::string> kServices = {"invitations", "projects", "missions"};
  return kServices;
}

json BuildReport(store::Db& db, const std::string& service, std::int64_t fiscal_year) {
  if (service == "invitations") return Invitations(db, fiscal_year);
  if (service == "projects") return Projects(db, fiscal_year);
  if (service == "missions") return Missions(db, fiscal_year);
  throw std::invalid_argument("unknown service '" + service + "'");
}

std::string CsvHeader() { return "service,figure,value\n"; }

std::string CsvRows(const std::string& service, const json& report) {
  std::string out;
  Flatten(service, "", report, out);
  return out;
}

std::vector<std::int64_t> FiscalYears(store::Db& db) {
  auto stmt = db.Prepare(
      "SELECT DISTINCT fiscal_year FROM entities WHERE fiscal_year IS NOT NULL ORDER BY 1");
  std::vector<std::int64_t> out;
  while (stmt.Step()) out.push_back(stmt.Int(0));
  return out;
}

}  // namespace jilaf::analytics
