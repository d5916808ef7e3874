#include "common/store/json_doc.hpp"

namespace jilaf::store {

std::optional<nlohmann::json> LoadJsonDoc(Db& db, std::string_view sql, const std::string& key) {
  auto stmt = db.Prepare(sql);
  stmt.Bind(1, key);
  if (!stmt.Step()) return std::nullopt;
  return nlohmann::json::parse(stmt.Text(0));
}

std::optional<StoredDoc> LoadStoredDoc(Db& db, std::string_view sql, const std::string& key) {
  auto stmt = db.Prepare(sql);
  stmt.Bind(1, key);
  if (!stmt.Step()) return std::nullopt;
  return StoredDoc{stmt.Text(0), stmt.Int(1)};
}

}  // namespace jilaf::store
