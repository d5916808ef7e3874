#include "tools/analytics/reports.hpp"

#include <map>
#include <set>
#include <stdexcept>

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

std::string TextOr(const json& value, const std::string& fallback) {
  return value.is_string() ? value.get<std::string>() : fallback;
}

// --- invitations: the same figures as services/invitations BuildFiscalYearReport ------------

bool HoldsSeat(const std::string& status) {
  static const std::set<std::string> kSeated = {"selected",     "invited",       "visa_applied",
                                                "visa_granted", "travel_booked", "arrived",
                                                "completed"};
  return kSeated.contains(status);
}

struct Counts {
  std::int64_t nominated = 0, selected = 0, completed = 0;
  [[nodiscard]] json Json() const {
    return {{"nominated", nominated},
            {"selected", selected},
            {"completed", completed},
            {"completion_rate",
             selected == 0 ? 0.0 : static_cast<double>(completed) / static_cast<double>(selected)}};
  }
};

json Invitations(store::Db& db, std::int64_t fy) {
  const auto programmes = ById(db, "invitations.programme");
  Counts total;
  std::map<std::string, Counts> by_country, by_region, by_track, by_gender, by_programme;
  for (const auto& row : Rows(db, "invitations.nomination", fy)) {
    const auto programme = programmes.find(row.parent);
    if (programme == programmes.end()) continue;  // the service joins on its programme
    const std::string status = row.doc["status"];
    const bool selected = HoldsSeat(status);
    const bool completed = status == "completed";
    for (Counts* counts :
         {&total, &by_country[row.doc["nationality"].get<std::string>()],
          &by_region[TextOr(programme->second["region"], "unspecified")],
          &by_track[programme->second["track"].get<std::string>()],
          &by_gender[TextOr(row.doc["gender"], "unspecified")], &by_programme[row.parent]}) {
      ++counts->nominated;
      if (selected) ++counts->selected;
      if (completed) ++counts->completed;
    }
  }
  auto group = [](const std::map<std::string, Counts>& groups) {
    json out = json::object();
    for (const auto& [key, counts] : groups) out[key] = counts.Json();
    return out;
  };
  json report = total.Json();
  report["fiscal_year"] = fy;
  report["countries"] = by_country.size();
  report["by_country"] = group(by_country);
  report["by_region"] = group(by_region);
  report["by_track"] = group(by_track);
  report["by_gender"] = group(by_gender);
  report["by_programme"] = group(by_programme);
  return report;
}

// --- projects: the same figures as services/projects fiscal_report.cpp ----------------------

void Add(json& group, const std::string& key, std::int64_t projects, std::int64_t committed,
         std::int64_t disbursed) {
  auto& row = group[key];
  if (row.is_null()) row = {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}};
  row["projects"] = row["projects"].get<std::int64_t>() + projects;
  row["committed_jpy"] = row["committed_jpy"].get<std::int64_t>() + committed;
  row["disbursed_jpy"] = row["disbursed_jpy"].get<std::int64_t>() + disbursed;
}

void AddEverywhere(json& report, const json& project, std::int64_t projects, std::int64_t committed,
                   std::int64_t disbursed) {
  Add(report["by_area"], project["area"], projects, committed, disbursed);
  Add(report["by_country"], project["country"], projects, committed, disbursed);
  Add(report["by_support_type"], project["support_type"], projects, committed, disbursed);
  Add(report, "totals", projects, committed, disbursed);
}

json Projects(store::Db& db, std::int64_t fy) {
  const std::string first = std::to_string(fy) + "-04-01";
  const std::string last = std::to_string(fy + 1) + "-03-31";
  json report = {
      {"fiscal_year", fy},
      {"from", first},
      {"to", last},
      {"definitions",
       {{"projects", "approved (or later) projects whose period starts in the fiscal year"},
        {"committed_jpy", "approved budgets (JPY) of those projects, as amended"},
        {"disbursed_jpy",
         "paid tranches (JPY at their fixed rate) with a value date in the "
         "fiscal year, whatever year their project started"}}},
      {"totals", {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}}},
      {"by_area", json::object()},
      {"by_country", json::object()},
      {"by_support_type", json::object()}};
  static const std::set<std::string> kCounted = {"approved", "active", "suspended", "completed",
                                                 "closed"};
  for (const auto& row : Rows(db, "projects.project", fy)) {
    if (!kCounted.contains(row.doc["status"].get<std::string>())) continue;
    AddEverywhere(report, row.doc, 1, row.doc["committed_jpy"].get<std::int64_t>(), 0);
  }
  const auto projects = ById(db, "projects.project");
  auto paid = db.Prepare(
      "SELECT parent, json_extract(doc, '$.amount_jpy') FROM entities"
      " WHERE kind = 'projects.tranche' AND json_extract(doc, '$.status') = 'paid'"
      " AND json_extract(doc, '$.value_date') BETWEEN ? AND ?");
  paid.Bind(1, first).Bind(2, last);
  while (paid.Step()) {
    const auto project = projects.find(paid.Text(0));
    if (project == projects.end()) continue;  // the service joins on its project
    AddEverywhere(report, project->second, 0, 0, paid.Int(1));
  }
  return report;
}

// --- missions: the same figures as services/missions reports.cpp ----------------------------

json MissionsPart(store::Db& db, std::int64_t fy) {
  json by_country = json::object();
  json by_status = json::object();
  int published = 0;
  const auto missions = Rows(db, "missions.mission", fy);
  for (const auto& m : missions) {
    const std::string status = m.doc["status"];
    by_status[status] = by_status.value(status, 0) + 1;
    if (status == "cancelled") continue;
    for (const auto& c : m.doc["countries"]) {
      by_country[c.get<std::string>()] = by_country.value(c.get<std::string>(), 0) + 1;
    }
    if (m.doc.value("report_status", json()) == "published") ++published;
  }
  return {{"total", missions.size()},
          {"by_status", by_status},
          {"by_country", by_country},
          {"reports_published", published}};
}

// Children (registrations, participants) of the year's parents, grouped by parent.
std::map<std::string, std::vector<json>> Children(store::Db& db, const char* kind,
                                                  std::int64_t fy) {
  std::map<std::string, std::vector<json>> out;
  for (auto& row : Rows(db, kind, fy)) out[row.parent].push_back(std::move(row.doc));
  return out;
}

json SeminarsPart(store::Db& db, std::int64_t fy) {
  int held = 0, registered = 0, waitlisted = 0, alumni = 0;
  const auto seminars = Rows(db, "missions.seminar", fy);
  auto registrations = Children(db, "missions.registration", fy);
  for (const auto& s : seminars) {
    const std::string status = s.doc["status"];
    if (status == "held" || status == "reported") ++held;
    for (const auto& r : registrations[s.id]) {
      if (r["status"] == "registered") {
        ++registered;
        if (!r["alumnus_id"].is_null()) ++alumni;
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

std::int64_t CountRows(store::Db& db, const char* kind, std::int64_t fy) {
  auto stmt = db.Prepare("SELECT count(*) FROM entities WHERE kind = ? AND fiscal_year = ?");
  stmt.Bind(1, kind).Bind(2, fy);
  return stmt.Step() ? stmt.Int(0) : 0;
}

json EducationPart(store::Db& db, std::int64_t fy) {
  int held = 0, courses = 0, participants = 0, completed = 0, alumni = 0;
  json by_location = {{"japan", 0}, {"abroad", 0}};
  const auto programmes = Rows(db, "missions.education_programme", fy);
  auto enrolled = Children(db, "missions.participant", fy);
  for (const auto& p : programmes) {
    if (p.doc["status"] == "cancelled") continue;
    const std::string location = p.doc["location"];
    by_location[location] = by_location[location].get<int>() + 1;
    courses += p.doc.value("courses", 0);
    if (p.doc["status"] == "completed") ++held;
    for (const auto& participant : enrolled[p.id]) {
      ++participants;
      if (participant["status"] == "completed") ++completed;
      if (!participant["alumnus_id"].is_null()) ++alumni;
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
      {"certificates", CountRows(db, "missions.certificate", fy)},
      {"alumni_participants", alumni}};
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
          {"period",
           {{"from", std::to_string(fy) + "-04-01"}, {"to", std::to_string(fy + 1) + "-03-31"}}},
          {"missions", MissionsPart(db, fy)},
          {"seminars", SeminarsPart(db, fy)},
          {"education", EducationPart(db, fy)},
          {"alumni", AlumniPart(db, fy)}};
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
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
  out += service + "," + CsvField(pointer) + "," + CsvField(value.dump()) + "\n";
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
