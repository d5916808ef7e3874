#include "common/store/dialect.hpp"

namespace jilaf::store {
std::string PgJsonPath(std::string_view path) {
  std::string out = "{" + std::string(path) + "}";
  for (auto& c : out) {
    if (c == '.') c = ',';
  }
  return out;
}

std::string JsonText(Engine engine, std::string_view column, std::string_view path) {
  if (engine == Engine::kPostgres) {
    return "(" + std::string(column) + "::jsonb #>> '" + PgJsonPath(path) + "')";
  }
  return "json_extract(" + std::string(column) + ", '$." + std::string(path) + "')";
}

std::string JsonInteger(Engine engine, std::string_view column, std::string_view path) {
  if (engine == Engine::kSqlite) return JsonText(engine, column, path);
  const std::string node = "(" + std::string(column) + "::jsonb #> '" + PgJsonPath(path) + "')";
  return "(CASE jsonb_typeof(" + node + ") WHEN 'boolean' THEN (" + node +
         "::text)::boolean::int::bigint WHEN 'number' THEN (" + node +
         "::text)::numeric::bigint END)";
}

namespace {

// `column` with member `name` set to `pg_value` (PostgreSQL) or `sqlite_value` (SQLite).
std::string WithJson(const Db& db, std::string_view column, std::string_view name,
                     std::string_view sqlite_value, std::string_view pg_value) {
  const std::string c(column);
  const std::string n(name);
  if (db.engine() == Engine::kPostgres) {
    return "jsonb_set(" + c + "::jsonb, '{" + n + "}', " + std::string(pg_value) + ")::text";
  }
  return "json_set(" + c + ", '$." + n + "', " + std::string(sqlite_value) + ")";
}

}  // namespace

std::string WithJsonString(const Db& db, std::string_view column, std::string_view name) {
  return WithJson(db, column, name, "?", "to_jsonb(?::text)");
}

std::string WithJsonValue(const Db& db, std::string_view column, std::string_view name) {
  return WithJson(db, column, name, "json(?)", "?::jsonb");
}

std::string JsonArrayStrings(const Db& db, std::string_view placeholder) {
  const std::string p(placeholder);
  if (db.engine() == Engine::kPostgres) {
    return "(SELECT jsonb_array_elements_text(CAST(" + p + " AS jsonb)))";
  }
  return "(SELECT value FROM json_each(" + p + "))";
}

std::string Contains(const Db& db, std::string_view column) {
  return std::string(db.Dialect("instr(", "strpos(")) + std::string(column) + ", ?) > 0";
}

}  // namespace jilaf::store
