#include "services/projects/tables.hpp"

namespace jilaf::projects {
namespace {

// Shared columns of the tables added in version 2 (partners, from version 1, has the same).
std::string Table(const std::string& name, const std::string& generated) {
  return "CREATE TABLE " + name +
         " ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " version INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL,"
         " updated_at TEXT NOT NULL," +
         generated + ");";
}

std::string Generated(const std::string& column, const std::string& type, const std::string& path) {
  return " " + column + " " + type + " GENERATED ALWAYS AS (json_extract(doc, '$." + path +
         "')) VIRTUAL";
}

// Rewrites the stored status-history entries `{from, to, at, by, comment}` to the one shape
// `{from, to, at, by, reason?}`: a non-empty comment becomes the reason, an empty one goes.
std::string ReasonInHistory(const std::string& table) {
  const std::string comment = "json_extract(value, '$.comment')";
  return "UPDATE " + table +
         " SET doc = json_set(doc, '$.status_history', json((SELECT json_group_array(json(CASE"
         " WHEN " +
         comment + " IS NULL OR " + comment +
         " = '' THEN json_remove(value, '$.comment')"
         " ELSE json_remove(json_set(value, '$.reason', " +
         comment +
         "), '$.comment') END))"
         " FROM json_each(doc, '$.status_history'))))"
         " WHERE EXISTS (SELECT 1 FROM json_each(doc, '$.status_history')"
         " WHERE json_type(value, '$.comment') IS NOT NULL);";
}

// PostgreSQL has no database older than its engine: version 1 creates every table as its
// DocTable spec declares it (what versions 1 to 4 build on SQLite), and versions 2 to 4 have
// nothing left to do there (kDone). Steps after 4 need their PostgreSQL text beside SQLite's.
constexpr const char* kDone = "SELECT 1";

std::string PostgresSchema() {
  const auto& t = Tables();
  std::string sql;
  for (const auto* table : {&t.partners, &t.projects, &t.reviews, &t.amendments, &t.tranches,
                            &t.reports, &t.dispatches, &t.indicators}) {
    sql += table->CreateSql(store::Engine::kPostgres);
  }
  return sql;
}

}  // namespace

store::MigrationSet Migrations() {
  const std::string project_id = Generated("project_id", "TEXT", "project_id");
  const std::string status = Generated("status", "TEXT", "status");
  return {
      "projects",
      {{1, "partners",
        "CREATE TABLE partners ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " id TEXT NOT NULL UNIQUE,"
        " version INTEGER NOT NULL,"
        " doc TEXT NOT NULL,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL);",
        PostgresSchema()},
       {2, "projects, reviews, amendments, tranches, reports, dispatches, indicators",
        "ALTER TABLE partners ADD COLUMN" + Generated("country", "TEXT", "country") + ";" +
            Table("projects", Generated("partner_id", "TEXT", "partner_id") + "," + status + "," +
                                  Generated("fiscal_year", "INTEGER", "fiscal_year") + "," +
                                  Generated("country", "TEXT", "country") + "," +
                                  Generated("area", "TEXT", "area")) +
            "CREATE INDEX projects_filter ON projects(fiscal_year, country, area, status);"
            "CREATE INDEX projects_partner ON projects(partner_id);" +
            Table("reviews", project_id) + Table("amendments", project_id) +
            Table("tranches", project_id + "," + status) + Table("reports", project_id) +
            Table("dispatches", project_id + "," + Generated("expert_id", "TEXT", "expert.id")) +
            Table("indicators", project_id) +
            "CREATE INDEX reviews_project ON reviews(project_id);"
            "CREATE INDEX amendments_project ON amendments(project_id);"
            "CREATE INDEX tranches_project ON tranches(project_id);"
            "CREATE INDEX reports_project ON reports(project_id);"
            "CREATE INDEX dispatches_project ON dispatches(project_id);"
            "CREATE INDEX dispatches_expert ON dispatches(expert_id);"
            "CREATE INDEX indicators_project ON indicators(project_id);",
        kDone},
       {3, "status history entries: comment -> reason",
        ReasonInHistory("projects") + ReasonInHistory("tranches") + ReasonInHistory("reports") +
            ReasonInHistory("dispatches"),
        kDone},
       // Filled by IndexForSearch at start (the words are folded in C++).
       {4, "search: the full-text indexes of partners and projects",
        Tables().partners.SearchSql() + Tables().projects.SearchSql(), kDone}}};
}

namespace {

using aggregate::Column;
using aggregate::TableSpec;

Column GeneratedColumn(std::string name, std::string path = {},
                       Column::Type type = Column::Type::kText) {
  if (path.empty()) path = name;
  return {std::move(name), std::move(path), type, true};
}

TableSpec ChildSpec(std::string name, std::string what, std::vector<Column> more = {}) {
  std::vector<Column> columns = {GeneratedColumn("project_id")};
  for (auto& column : more) columns.push_back(std::move(column));
  std::string collection = "/v1/" + name;
  return {std::move(name), std::move(what), std::move(collection), std::move(columns), {}};
}

}  // namespace

ProjectTables::ProjectTables()
    : events("projects"),
      partners({"partners",
                "partner",
                "/v1/partners",
                {GeneratedColumn("country")},
                {},
                true,
                {"name", "acronym"}}),
      projects({"projects",
                "project",
                "/v1/projects",
                {GeneratedColumn("partner_id"), GeneratedColumn("status"),
                 GeneratedColumn("fiscal_year", "fiscal_year", Column::Type::kInteger),
                 GeneratedColumn("country"), GeneratedColumn("area")},
                {},
                true,
                {"title", "description"},
                {},
                // A project is found by its partner's name and acronym too.
                [this](store::Db& tx, const nlohmann::json& doc) {
                  const auto partner = partners.Find(tx, doc.value("partner_id", std::string()));
                  return partner ? partner->value("name", std::string()) + " " +
                                       partner->value("acronym", std::string())
                                 : std::string();
                }}),
      reviews(ChildSpec("reviews", "review")),
      amendments(ChildSpec("amendments", "amendment")),
      tranches(ChildSpec("tranches", "tranche", {GeneratedColumn("status")})),
      reports(ChildSpec("reports", "report")),
      dispatches(ChildSpec("dispatches", "dispatch", {GeneratedColumn("expert_id", "expert.id")})),
      indicators(ChildSpec("indicators", "indicator")),
      partner{partners, events, "partner", true},
      project{projects, events, "project", true},
      review{reviews, events, "review", true},
      amendment{amendments, events, "amendment", true},
      tranche{tranches, events, "tranche", true},
      report{reports, events, "report", true},
      dispatch{dispatches, events, "dispatch", true},
      indicator{indicators, events, "indicator", true} {}

const ProjectTables& Tables() {
  static const ProjectTables tables;
  return tables;
}

aggregate::EventFacts Facts(const aggregate::Kind& kind, std::string what,
                            const nlohmann::json& doc, nlohmann::json data) {
  std::string key = doc.value("project_id", doc.at("id").get<std::string>());
  std::string subject = kind.table.spec().name + "/" + doc.at("id").get<std::string>();
  return {kind.aggregate, std::move(what), std::move(key), std::move(subject), std::move(data)};
}

nlohmann::json Payload(const nlohmann::json& doc, const char* id_name,
                       std::initializer_list<const char*> keys) {
  auto data = aggregate::Pick(doc, keys);
  data[id_name] = doc.at("id");
  return data;
}

aggregate::Announce Announce(const aggregate::Kind& kind, std::string what, DataOf data) {
  return [&kind, what = std::move(what), data = std::move(data)](aggregate::Change& change,
                                                                 const nlohmann::json& doc) {
    change.Emit(Facts(kind, what, doc, data(change.tx, doc)));
  };
}

aggregate::Lifecycle Moves(const aggregate::Kind& kind, const domain::StateMachine& machine,
                           DataOf data, std::optional<std::string> comment) {
  return {machine, "status_history",
          [&kind, data = std::move(data), comment = std::move(comment)](
              aggregate::Change& change, const nlohmann::json& doc, const std::string& from) {
            auto payload = data(change.tx, doc);
            payload["from"] = from;
            if (comment) payload["comment"] = *comment;
            return Facts(kind, doc.at("status").get<std::string>(), doc, std::move(payload));
          }};
}

nlohmann::json ProjectOf(store::Db& db, const nlohmann::json& child) {
  return Tables().projects.Get(db, child.at("project_id").get<std::string>());
}

std::vector<rules::TrancheMoney> TrancheMoneyOf(store::Db& db, const std::string& project_id) {
  std::vector<rules::TrancheMoney> out;
  for (const auto& t : Tables().tranches.Where(db, {{"project_id", project_id}})) {
    out.push_back({t["id"], t["status"], t["amount_jpy"]});
  }
  return out;
}

std::vector<rules::ReportDue> ReportsDue(const std::vector<nlohmann::json>& reports) {
  std::vector<rules::ReportDue> out;
  for (const auto& r : reports) {
    std::optional<std::string> notified;
    if (r.contains("overdue_notified_for")) notified = r["overdue_notified_for"];
    out.push_back({r["id"], r["kind"], r["due_date"], r["status"], notified});
  }
  return out;
}

}  // namespace jilaf::projects
