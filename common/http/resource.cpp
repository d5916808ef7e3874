#include "common/http/resource.hpp"

#include <limits>

#include "common/auth/jwt.hpp"
#include "common/http/problem.hpp"
#include "common/util/iso3166.hpp"

namespace jilaf::http {
namespace {

bool ParseInt(const std::string& text, std::int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    // 19 digits can exceed INT64_MAX (9223372036854775807): refuse instead of overflowing.
    if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

}  // namespace

std::optional<std::int64_t> QueryInt(const Request& request, const std::string& name,
                                     std::int64_t min, std::int64_t max) {
  const auto text = request.Query(name);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  if (!ParseInt(*text, value) || value < min || value > max) {
    throw ApiError::BadRequest("query parameter " + name + " must be an integer between " +
                               std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

std::optional<std::string> QueryCountry(const Request& request, const std::string& name) {
  auto code = request.Query(name);
  if (code && !util::IsIso3166Alpha2(*code)) {
    throw ApiError::BadRequest("query parameter " + name +
                               " is not an assigned ISO 3166-1 alpha-2 country code");
  }
  return code;
}

PageRequest ParsePage(const Request& request, std::int64_t default_size, std::int64_t max_size) {
  PageRequest page;
  page.page_size = QueryInt(request, "page_size", 1, max_size).value_or(default_size);
  if (const auto token = request.Query("page_token"); token && !token->empty()) {
    std::string decoded;
    std::int64_t seq = 0;
    if (!auth::Base64UrlDecode(*token, decoded) || decoded.rfind("s:", 0) != 0 ||
        !ParseInt(decoded.substr(2), seq)) {
      throw ApiError::BadRequest("page_token is not a token this API issued");
    }
    page.after = seq;
  }
  return page;
}

std::string MakePageToken(std::int64_t last_seq) {
  return auth::Base64UrlEncode("s:" + std::to_string(last_seq));
}

nlohmann::json CollectPage(store::Stmt& stmt, std::int64_t page_size) {
  return CollectPage(stmt, page_size,
                     [](store::Stmt& row) { return nlohmann::json::parse(row.Text(1)); });
}

nlohmann::json CollectPage(store::Stmt& stmt, std::int64_t page_size,
                           const std::function<nlohmann::json(store::Stmt&)>& render) {
  nlohmann::json items = nlohmann::json::array();
  std::int64_t last_seq = 0;
  bool more = false;
  while (stmt.Step()) {
    if (static_cast<std::int64_t>(items.size()) == page_size) {
      more = true;
      break;
    }
    last_seq = stmt.Int(0);
    items.push_back(render(stmt));
  }
  nlohmann::json body = {{"items", std::move(items)}};
  if (more) body["next_page_token"] = MakePageToken(last_seq);
  return body;
}

std::string MakeEtag(std::int64_t version) { return "\"v" + std::to_string(version) + "\""; }

void RequireIfMatch(const Request& request, std::int64_t current_version) {
  const std::string_view if_match = request.Header("if-match");
  if (if_match.empty()) {
    throw ApiError::PreconditionRequired(
        "updates need an If-Match header with the ETag from your last read");
  }
  const std::string current = MakeEtag(current_version);
  if (if_match != current && if_match != "W/" + current) {
    throw ApiError::PreconditionFailed("the resource changed since you read it (now " + current +
                                       "); read it again and retry")
        .With("current_etag", current);
  }
}

}  // namespace jilaf::http
