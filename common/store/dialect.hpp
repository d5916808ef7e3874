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

/// A condition true when the text in `column` contains the bound parameter `?`.
std::string Contains(const Db& db, std::string_view column);

}  // namespace jilaf::store
