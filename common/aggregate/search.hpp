#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aggregate/doc_table.hpp"
#include "common/http/message.hpp"
#include "common/http/resource.hpp"
#include "common/store/store.hpp"

// Search with the same conventions on every list route: `q=` (folded words, any order, a prefix
// of a Latin word or a run of Japanese characters anywhere in a name), the list's own filters,
// newest first, paged by keyset with tokens bound to the query. Declared per table
// (TableSpec::search) and per route (the filter names it accepts); written here once.
namespace jilaf::aggregate {

/// The longest `q` accepted, in characters (code points), as the OpenAPI documents count it.
inline constexpr std::size_t kMaxQueryCharacters = 200;

/// What a list route read from its query string.
struct ListQuery {
  std::string q;           // empty: a plain list in insertion order
  http::PageRequest list;  // without q
  SearchPage page;         // with q
};

/// Reads `q`, `page_size` and `page_token` and refuses every query parameter that is neither one
/// of those, `format` (CSV) nor one of `filters`: 400 naming the parameter. A `q` that is too
/// long, holds control characters or no word at all, and a page token of another query (other
/// words or filters), are 400 naming `q` or `page_token`.
ListQuery ReadListQuery(const http::Request& request, const std::vector<std::string>& filters);

/// The folded words of the document's `paths` (see TableSpec::search), as the index holds them.
[[nodiscard]] std::string SearchText(const nlohmann::json& doc,
                                     const std::vector<std::string>& paths);
/// The full-text expression for `q`: every word must match, a Latin word as a prefix, a run of
/// Japanese characters as a phrase of its characters. Empty when `q` has no word.
[[nodiscard]] std::string MatchExpression(std::string_view q);
/// The token that resumes `search` with the matches older than `before` (a seq).
[[nodiscard]] std::string SearchPageToken(const SearchPage& search, std::int64_t before);

/// Renders one stored document for the caller (masking), inside the read.
using Render = std::function<nlohmann::json(store::Db&, nlohmann::json doc)>;

/// GET a collection that can be searched: reads the query (ReadListQuery, accepting the names of
/// `filters`), then with `q` DocTable::Search, without it DocTable::List, either way filtered by
/// `filters`. For records every reader sees whole; masked views use FindIn.
http::Response Find(store::Store& store, const http::Request& request, const DocTable& table,
                    const Filters& filters);

/// The page body of a read query inside a read the caller already holds, each item passed
/// through `render` when given.
nlohmann::json FindIn(store::Db& db, const ListQuery& query, const DocTable& table,
                      const Filters& filters, const Render& render = {});

/// Indexes, in one write, whatever documents of `tables` their search index lacks (rows written
/// before a table became searchable). Run once at start, after the migrations.
void IndexForSearch(store::Store& store, const std::vector<const DocTable*>& tables);

/// The names of `filters`, for ReadListQuery.
[[nodiscard]] std::vector<std::string> FilterNames(const Filters& filters);

}  // namespace jilaf::aggregate
