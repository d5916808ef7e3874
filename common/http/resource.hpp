#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"

namespace jilaf::http {

/// A page request from `page_size` and `page_token`. Tokens are opaque to clients; inside they
/// carry the sort key of the last item served (keyset pagination, stable under inserts).
struct PageRequest {
  std::int64_t page_size = 50;
  std::optional<std::int64_t> after;  // resume after this sequence number
};

/// Reads `page_size` (1..max, default `default_size`) and `page_token`; 400 naming the bad one.
PageRequest ParsePage(const Request& request, std::int64_t default_size = 50,
                      std::int64_t max_size = 200);
/// The token that resumes after `last_seq`.
std::string MakePageToken(std::int64_t last_seq);

/// Steps a statement selecting `(seq, doc)` rows, bound with a LIMIT of page_size + 1, into a
/// page body: `{"items": [...], "next_page_token": ...}` (the token only when more rows exist).
nlohmann::json CollectPage(store::Stmt& stmt, std::int64_t page_size);
/// The same, with each row rendered by `render` (column 0 must still be the sequence number).
nlohmann::json CollectPage(store::Stmt& stmt, std::int64_t page_size,
                           const std::function<nlohmann::json(store::Stmt&)>& render);

/// A strong ETag for a resource version: "\"v<version>\"".
std::string MakeEtag(std::int64_t version);
/// Enforces `If-Match` on an update: 428 when missing, 412 when it names another version.
void RequireIfMatch(const Request& request, std::int64_t current_version);

/// Reads an optional integer query parameter within bounds (400 naming it otherwise).
std::optional<std::int64_t> QueryInt(const Request& request, const std::string& name,
                                     std::int64_t min, std::int64_t max);

/// Reads an optional country query parameter: an assigned ISO 3166-1 alpha-2 code (400 naming
/// the parameter otherwise).
std::optional<std::string> QueryCountry(const Request& request, const std::string& name);

}  // namespace jilaf::http
