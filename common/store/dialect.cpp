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

std::string Contains(const Db& db, std::string_view column) {
  return std::string(db.Dialect("instr(", "strpos(")) + std::string(column) + ", ?) > 0";
}

}  // namespace jilaf::store
