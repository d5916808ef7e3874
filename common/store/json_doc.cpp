#include "common/store/json_doc.hpp"

namespace jilaf::store {

std::optional<nlohmann::json> LoadJsonDoc(Db& db, std::string_view sql, const std::string& key) {
  auto stmt = db.Prepare(sql);
  stmt.Bind(1, key);
  if (!stmt.Step()) return std::nullopt;
  return nlohmann::json::parse(stmt.Text(0));
}

}  // namespace jilaf::store
