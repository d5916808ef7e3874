#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/store/sqlite.hpp"

namespace jilaf::store {

/// Runs `sql` (one `?` bound to `key`) and parses the first column of the first row as JSON;
/// nullopt when there is no row.
std::optional<nlohmann::json> LoadJsonDoc(Db& db, std::string_view sql, const std::string& key);

}  // namespace jilaf::store
