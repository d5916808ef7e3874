#pragma once

#include <string>
#include <string_view>

#include "common/store/sqlite.hpp"

// SQL fragments whose text differs between the engines, for the statements a service writes
// itself (queries.cpp); the document tables keep theirs in common/aggregate/doc_table.cpp.
namespace jilaf::store {

/// "candidate.email" -> "{candidate,email}": a path for PostgreSQL's #> and #>> operators.
std::string PgJsonPath(std::string_view path);

/// The text of member `path` ("candidate.email") of the JSON text in `column`, or NULL:
/// json_extract on SQLite, #>> on a jsonb cast on PostgreSQL. Numbers come back as text on
/// PostgreSQL; compare them through JsonInteger.
std::string JsonText(Engine engine, std::string_view column, std::string_view path);
inline std::string JsonText(const Db& db, std::string_view column, std::string_view path) {
  return JsonText(db.engine(), column, path);
}

/// Member `path` as a 64-bit integer (a boolean as 1 or 0), or NULL.
std::string JsonInteger(Engine engine, std::string_view column, std::string_view path);
inline std::string JsonInteger(const Db& db, std::string_view column, std::string_view path) {
  return JsonInteger(db.engine(), column, path);
}

/// `column` (JSON text) with member `name` (top level) set to the bound parameter `?`, a string.
std::string WithJsonString(const Db& db, std::string_view column, std::string_view name);
/// `column` with member `name` set to the bound parameter `?`, a JSON text.
std::string WithJsonValue(const Db& db, std::string_view column, std::string_view name);

/// SQLite DDL (CREATE TABLE, ALTER TABLE ADD COLUMN, CREATE INDEX) in PostgreSQL's types: an
/// `INTEGER PRIMARY KEY AUTOINCREMENT` becomes a BIGINT identity, any other INTEGER a BIGINT
/// (SQLite's integers are 64-bit), and WITHOUT ROWID goes. For steps whose only differences are
/// those; anything else (json functions, generated columns) needs its own PostgreSQL text.
std::string PostgresTypes(std::string ddl);

/// A sub-select of the strings of the JSON array bound at `placeholder` ("?" or "?3"), for
/// `x IN (...)`.
std::string JsonArrayStrings(const Db& db, std::string_view placeholder);

/// Put in front of a statement whose best plan depends on the values bound to it. PostgreSQL then
/// plans it at every run (libpq's unnamed statement) instead of preparing it once per connection:
/// after five runs a prepared statement may keep a generic plan made without the values, and one
/// made while its table was still empty (before autovacuum's first ANALYZE) can be a sequential
/// scan that the table's growth makes slower write after write (docs/benchmarks.md, "PostgreSQL
/// beside SQLite"). SQLite reads it as a comment.
inline constexpr std::string_view kPlanPerRun = "/* plan per run */ ";

/// A condition true when the text in `column` contains the bound parameter `?`.
std::string Contains(const Db& db, std::string_view column);

}  // namespace jilaf::store
