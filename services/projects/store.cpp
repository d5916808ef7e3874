#include "services/projects/store.hpp"

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"

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
        " updated_at TEXT NOT NULL);"},
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
            "CREATE INDEX indicators_project ON indicators(project_id);"}}};
}

std::optional<nlohmann::json> Find(store::Db& db, const std::string& table, const std::string& id) {
  return store::LoadJsonDoc(db, "SELECT doc FROM " + table + " WHERE id = ?", id);
}

nlohmann::json Require(store::Db& db, const std::string& table, const std::string& id,
                       const std::string& what) {
  auto doc = Find(db, table, id);
  if (!doc) throw http::ApiError::NotFound("no " + what + " with id " + id);
  return std::move(*doc);
}

std::vector<nlohmann::json> ForProject(store::Db& db, const std::string& table,
                                       const std::string& project_id) {
  auto stmt = db.Prepare("SELECT doc FROM " + table + " WHERE project_id = ? ORDER BY seq");
  stmt.Bind(1, project_id);
  std::vector<nlohmann::json> out;
  while (stmt.Step()) out.push_back(nlohmann::json::parse(stmt.Text(0)));
  return out;
}

void Insert(store::Db& tx, const std::string& table, const nlohmann::json& doc) {
  auto stmt = tx.Prepare("INSERT INTO " + table +
                         "(id, version, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
  stmt.Bind(1, doc["id"].get<std::string>())
      .Bind(2, doc["version"].get<std::int64_t>())
      .Bind(3, doc.dump())
      .Bind(4, doc["created_at"].get<std::string>())
      .Bind(5, doc["updated_at"].get<std::string>());
  stmt.Run();
}

void Save(store::Db& tx, const std::string& table, const nlohmann::json& doc) {
  auto stmt =
      tx.Prepare("UPDATE " + table + " SET version = ?, doc = ?, updated_at = ? WHERE id = ?");
  stmt.Bind(1, doc["version"].get<std::int64_t>())
      .Bind(2, doc.dump())
      .Bind(3, doc["updated_at"].get<std::string>())
      .Bind(4, doc["id"].get<std::string>());
  stmt.Run();
}

void Remove(store::Db& tx, const std::string& table, const std::string& id) {
  auto stmt = tx.Prepare("DELETE FROM " + table + " WHERE id = ?");
  stmt.Bind(1, id);
  stmt.Run();
}

void Stamp(nlohmann::json& doc, const http::Request& request) {
  const std::string now = events::NowRfc3339();
  doc["id"] = events::NewTimeOrderedUuid();
  doc["version"] = 1;
  doc["created_at"] = now;
  doc["updated_at"] = now;
  doc["created_by"] = request.principal.subject;
}

void Touch(nlohmann::json& doc) {
  doc["version"] = doc["version"].get<std::int64_t>() + 1;
  doc["updated_at"] = events::NowRfc3339();
}

void Emit(store::Db& tx, const http::Request& request, const std::string& aggregate,
          const std::string& what, const std::string& key, const std::string& subject,
          nlohmann::json data) {
  events::AppendToOutbox(
      tx, kEventsTopic,
      events::MakeEvent(kEventSource, "jilaf.projects." + aggregate + "." + what, key, subject,
                        "/schemas/projects/" + aggregate + "." + what + "/v1.json", std::move(data),
                        std::string(request.Header("traceparent"))));
}

http::Response DocResponse(const nlohmann::json& doc, int status) {
  auto response = http::Response::Json(status, doc);
  response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
  return response;
}

http::Response Created(const nlohmann::json& doc, const std::string& location) {
  auto response = DocResponse(doc, 201);
  response.SetHeader("Location", location);
  return response;
}

http::Response ListPage(store::Store& store, const http::Request& request, const std::string& table,
                        const std::string& project_id) {
  const auto page = http::ParsePage(request);
  return store.Read([&](store::Db& db) {
    if (!project_id.empty()) Require(db, "projects", project_id, "project");
    auto stmt = db.Prepare("SELECT seq, doc FROM " + table +
                           " WHERE seq > ?1 AND (?2 IS NULL OR project_id = ?2)"
                           " ORDER BY seq LIMIT ?3");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, project_id.empty() ? std::optional<std::string>() : project_id)
        .Bind(3, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

}  // namespace jilaf::projects
