#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

// Persistence of the projects service. Every aggregate is a row holding its JSON document;
// the columns used for filtering are generated from the document by SQLite, so one Insert/Save
// pair serves every table and the filters can never disagree with the document.
namespace jilaf::projects {

/// The topic this service publishes to.
inline constexpr const char* kEventsTopic = "jilaf.projects.events";
/// CloudEvents `source` of this service's events.
inline constexpr const char* kEventSource = "/jilaf/projects";

/// Tables of the projects service.
store::MigrationSet Migrations();

/// The row of `table` with this id, or nullopt.
std::optional<nlohmann::json> Find(store::Db& db, const std::string& table, const std::string& id);
/// The row, or 404 naming `what`.
nlohmann::json Require(store::Db& db, const std::string& table, const std::string& id,
                       const std::string& what);
/// Every row of `table` with this project_id, oldest first.
std::vector<nlohmann::json> ForProject(store::Db& db, const std::string& table,
                                       const std::string& project_id);
/// Inserts a new document (it has `id`, `version`, `created_at`, `updated_at`).
void Insert(store::Db& tx, const std::string& table, const nlohmann::json& doc);
/// Replaces the stored document of doc["id"].
void Save(store::Db& tx, const std::string& table, const nlohmann::json& doc);
/// Deletes a row.
void Remove(store::Db& tx, const std::string& table, const std::string& id);

/// Stamps a new document: id, version 1, created/updated times, who created it.
void Stamp(nlohmann::json& doc, const http::Request& request);
/// Bumps the version and update time of a changed document.
void Touch(nlohmann::json& doc);

/// Appends `jilaf.projects.<aggregate>.<what>` to the outbox (same transaction), keyed by `key`
/// (the project id for everything that belongs to a project, so its events stay in order).
void Emit(store::Db& tx, const http::Request& request, const std::string& aggregate,
          const std::string& what, const std::string& key, const std::string& subject,
          nlohmann::json data);

/// 200 (or `status`) with the document and its ETag.
http::Response DocResponse(const nlohmann::json& doc, int status = 200);
/// 201 with the document, its ETag and Location.
http::Response Created(const nlohmann::json& doc, const std::string& location);

/// One page of `table`'s documents with `project_id` (all rows when empty), oldest first.
http::Response ListPage(store::Store& store, const http::Request& request, const std::string& table,
                        const std::string& project_id);

}  // namespace jilaf::projects
