#include "common/aggregate/search.hpp"

#include <algorithm>

#include "common/auth/jwt.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/digest.hpp"
#include "common/util/fold.hpp"

namespace jilaf::aggregate {
namespace {

// "k:" since searches page by keyset (newest first); an older "f:" token held an offset and is
// refused as not belonging to the search.
constexpr std::string_view kTokenPrefix = "k:";

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// Every string under `node`, in document order.
void CollectText(const nlohmann::json& node, std::string& out) {
  if (node.is_string()) {
    out += node.get<std::string>();
    out += ' ';
  } else if (node.is_structured()) {
    for (const auto& child : node) CollectText(child, out);
  }
}

// Follows "a.b[].c" from `node`; an array step visits every element.
void CollectPath(const nlohmann::json& node, std::string_view path, std::string& out) {
  if (path.empty()) return CollectText(node, out);
  const auto dot = path.find('.');
  std::string_view step = path.substr(0, dot);
  const std::string_view rest = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  const bool each = step.ends_with("[]");
  if (each) step.remove_suffix(2);
  if (!node.is_object()) return;
  const auto it = node.find(std::string(step));
  if (it == node.end()) return;
  if (!each) return CollectPath(*it, rest, out);
  if (!it->is_array()) return;
  for (const auto& element : *it) CollectPath(element, rest, out);
}

// Binds page tokens to the words and filters: a token replayed with another query is refused.
std::string Fingerprint(const http::Request& request) {
  std::vector<std::pair<std::string, std::string>> parts;
  for (const auto& [name, value] : request.query) {
    if (name != "page_token" && name != "page_size" && name != "format") {
      parts.emplace_back(name, value);
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string text;
  for (const auto& [name, value] : parts) text += name + "=" + value + "\n";
  return util::Sha256Hex(text).substr(0, 16);
}

std::int64_t ReadSearchToken(const std::string& token, const std::string& fingerprint) {
  std::string decoded;
  const std::string expected = std::string(kTokenPrefix) + fingerprint + ":";
  if (!auth::Base64UrlDecode(token, decoded) || !decoded.starts_with(expected)) {
    throw http::ApiError::BadRequest(
        "page_token does not belong to this search (other words or filters); start again "
        "without it")
        .With("field", "page_token");
  }
  const std::string before = decoded.substr(expected.size());
  if (before.empty() || before.size() > 18 || before == "0" ||
      !std::all_of(before.begin(), before.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw http::ApiError::BadRequest("page_token is not a token this API issued")
        .With("field", "page_token");
  }
  return std::stoll(before);
}

void RequireKnownParameters(const http::Request& request, const std::vector<std::string>& filters) {
  for (const auto& [name, value] : request.query) {
    (void)value;
    // An empty segment ("?a=1&") names no parameter.
    if (name.empty() || name == "q" || name == "page_size" || name == "page_token" ||
        name == "format")
      continue;
    if (std::find(filters.begin(), filters.end(), name) != filters.end()) continue;
    std::string known = "q, page_size, page_token, format";
    for (const auto& filter : filters) known += ", " + filter;
    throw http::ApiError::BadRequest("unknown query parameter " + name + "; this list accepts " +
                                     known)
        .With("field", name);
  }
}

}  // namespace

ListQuery ReadListQuery(const http::Request& request, const std::vector<std::string>& filters) {
  RequireKnownParameters(request, filters);
  ListQuery query;
  const auto q = request.Query("q");
  if (!q) {
    query.list = http::ParsePage(request);
    return query;
  }
  if (http::CharacterCount(*q) > kMaxQueryCharacters || HasControl(*q)) {
    throw http::ApiError::BadRequest("q must be at most " + std::to_string(kMaxQueryCharacters) +
                                     " characters of text without control characters")
        .With("field", "q");
  }
  query.page.match = MatchExpression(*q);
  if (query.page.match.empty()) {
    throw http::ApiError::BadRequest("q holds no word to search for").With("field", "q");
  }
  query.q = *q;
  query.page.fingerprint = Fingerprint(request);
  query.page.page_size = http::QueryInt(request, "page_size", 1, 200).value_or(50);
  if (const auto token = request.Query("page_token"); token && !token->empty()) {
    query.page.before = ReadSearchToken(*token, query.page.fingerprint);
  }
  return query;
}

std::string SearchText(const nlohmann::json& doc, const std::vector<std::string>& paths) {
  std::string raw;
  for (const auto& path : paths) CollectPath(doc, path, raw);
  std::string text;
  for (const auto& word : util::SearchWords(raw)) {
    for (const auto& term : word) text += (text.empty() ? "" : " ") + term;
  }
  return text;
}

std::string MatchExpression(std::string_view q) {
  std::string expression;
  for (const auto& word : util::SearchWords(q)) {
    std::string phrase;
    for (const auto& term : word) phrase += (phrase.empty() ? "" : " ") + term;
    // Terms hold letters and digits only (SearchWords breaks at ASCII punctuation), so quoting
    // needs no escape; a Latin word matches as a prefix, a run of characters as a phrase.
    expression += (expression.empty() ? "" : " AND ") + ("\"" + phrase + "\"");
    if (word.size() == 1 && word.front().size() > 1) expression += "*";
  }
  return expression;
}

std::string SearchPageToken(const SearchPage& search, std::int64_t before) {
  return auth::Base64UrlEncode(std::string(kTokenPrefix) + search.fingerprint + ":" +
                               std::to_string(before));
}

http::Response Find(store::Store& store, const http::Request& request, const DocTable& table,
                    const Filters& filters) {
  const auto query = ReadListQuery(request, FilterNames(filters));
  return store.Read(
      [&](store::Db& db) { return http::Response::Json(200, FindIn(db, query, table, filters)); });
}

nlohmann::json FindIn(store::Db& db, const ListQuery& query, const DocTable& table,
                      const Filters& filters, const Render& render) {
  auto body =
      query.q.empty() ? table.List(db, query.list, filters) : table.Search(db, query.page, filters);
  if (!render) return body;
  for (auto& item : body["items"]) item = render(db, std::move(item));
  return body;
}

void IndexForSearch(store::Store& store, const std::vector<const DocTable*>& tables) {
  store.Write([&](store::Db& tx) {
    for (const auto* table : tables) (void)table->IndexMissing(tx);
  });
}

std::vector<std::string> FilterNames(const Filters& filters) {
  std::vector<std::string> names;
  for (const auto& [name, value] : filters) names.push_back(name);
  return names;
}

}  // namespace jilaf::aggregate
