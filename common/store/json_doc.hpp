#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/store/sqlite.hpp"

namespace jilaf::store {

/// Runs `sql` (one `?` bound to `key`) and parses the first column of the first row as JSON;
/// nullopt when there is no row.
std::optional<nlohmann::json> LoadJsonDoc(Db& db, std::string_view sql, const std::string& key);

/// A document as stored: its JSON text, untouched, and its version.
struct StoredDoc {
  std::string json;
  std::int64_t version = 0;
};

/// Runs `sql` (one `?` bound to `key`; selecting the document's text, then its version) and
/// returns the first row as stored, without parsing it: for reads that answer with the document
/// exactly as it was written, parsing and re-serialising it would cost more than the query.
std::optional<StoredDoc> LoadStoredDoc(Db& db, std::string_view sql, const std::string& key);

}  // namespace jilaf::store
