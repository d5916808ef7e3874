#include "common/http/cors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace jilaf::http {
namespace {

// What a portal's fetch may send beyond the CORS-safelisted headers, and the methods of the API.
constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE";
constexpr std::string_view kAllowHeaders =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id, "
    "traceparent, tracestate";
// Response headers a page may read besides the CORS-safelisted ones (Content-Type...).
constexpr std::string_view kExposeHeaders =
    "ETag, Location, Link, Retry-After, X-Request-Id, Idempotent-Replayed";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

bool IsIpv6Char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'; }

// Normalises one configured origin the way a browser serialises it: lower case, the scheme's
// default port dropped. Returns nullopt for anything that is not scheme://host[:port].
std::optional<std::string> NormaliseOrigin(std::string_view entry) {
  const std::string text = Lower(entry);
  std::string_view rest = text;
  std::string scheme;
  for (const std::string_view candidate : {"https://", "http://"}) {
    if (rest.starts_with(candidate)) {
      scheme = std::string(candidate.substr(0, candidate.size() - 3));
      rest.remove_prefix(candidate.size());
      break;
    }
  }
  if (scheme.empty() || rest.empty()) return std::nullopt;
  std::string_view host;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close < 3) return std::nullopt;
    if (!std::all_of(rest.begin() + 1, rest.begin() + static_cast<std::ptrdiff_t>(close),
                     IsIpv6Char)) {
      return std::nullopt;
    }
    host = rest.substr(0, close + 1);
    rest.remove_prefix(close + 1);
  } else {
    const auto end = std::find_if_not(rest.begin(), rest.end(), IsHostChar);
    host = rest.substr(0, static_cast<std::size_t>(end - rest.begin()));
    rest.remove_prefix(host.size());
    if (host.empty() || host.front() == '.' || host.front() == '-' || host.back() == '.') {
      return std::nullopt;
    }
  }
  std::string out = scheme + "://" + std::string(host);
  if (rest.empty()) return out;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
  rest.remove_prefix(1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
  if (error != std::errc() || end != rest.data() + rest.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

void AddVaryOrigin(Response& response) {
  const std::string_view vary = response.Header("Vary");
  if (vary.empty()) {
    response.SetHeader("Vary", "Origin");
  } else if (Lower(vary).find("origin") == std::string::npos) {
    response.SetHeader("Vary", std::string(vary) + ", Origin");
  }
}

}  // namespace

std::optional<std::string> ParseAllowedOrigins(std::string_view list,
                                               std::vector<std::string>& out) {
  out.clear();
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    auto origin = NormaliseOrigin(entry);
    if (!origin) {
      return "'" + std::string(entry) +
             "' is not an origin: write scheme://host[:port] with http or https, no path, no "
             "wildcard";
    }
    if (std::find(out.begin(), out.end(), *origin) == out.end()) out.push_back(std::move(*origin));
  }
  return std::nullopt;
}

CorsPolicy::CorsPolicy(CorsOptions options) : options_(std::move(options)) {}

bool CorsPolicy::IsPreflight(const Request& request) {
  return request.method == Method::kOptions && request.HasHeader("origin") &&
         request.HasHeader("access-control-request-method");
}

bool CorsPolicy::Allows(std::string_view origin) const {
  // Browsers send the origin already serialised (lower case, no default port): compare exactly,
  // so a hostile value can only ever fail to match.
  if (origin.empty() || origin.size() > 256) return false;
  return std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), origin) !=
         options_.allowed_origins.end();
}

Response CorsPolicy::Preflight(const Request& request) const {
  Response response = Response::Empty(204);
  const std::string_view origin = request.Header("origin");
  AddVaryOrigin(response);
  if (!Allows(origin)) return response;
  response.SetHeader("Access-Control-Allow-Origin", std::string(origin));
  response.SetHeader("Access-Control-Allow-Methods", std::string(kAllowMethods));
  response.SetHeader("Access-Control-Allow-Headers", std::string(kAllowHeaders));
  response.SetHeader("Access-Control-Max-Age", std::to_string(options_.max_age_seconds));
  return response;
}

void CorsPolicy::Decorate(const Request& request, Response& response) const {
  if (options_.allowed_origins.empty()) return;
  // Every answer may differ by Origin, so shared caches must key on it.
  AddVaryOrigin(response);
  const std::string_view origin = request.Header("origin");
  if (!Allows(origin)) return;
  response.SetHeader("Access-Control-Allow-Origin", std::string(origin));
  response.SetHeader("Access-Control-Expose-Headers", std::string(kExposeHeaders));
}

}  // namespace jilaf::http
