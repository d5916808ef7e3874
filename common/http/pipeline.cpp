#include "common/http/pipeline.hpp"
#include <functional>

#include <strings.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "common/http/cors.hpp"
#include "common/http/problem.hpp"
#include "common/http/rate_limit.hpp"
#include "common/log/log.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"

namespace jilaf::http {
namespace {

// Request ids from clients are echoed into logs and headers: keep them short and printable.
bool IsAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == ':')) {
      return false;
    }
  }
  return true;
}

// Appends `text` as a JSON string. Plain ASCII takes the fast path; anything else goes through
// nlohmann, which replaces invalid UTF-8 (paths come from clients) instead of failing.
void AppendJsonString(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out += nlohmann::json(std::string(text))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

void AppendNumber(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The `exp` claim of a token whose signature was already verified; nullopt if absent.
std::optional<std::int64_t> ExpiryOf(std::string_view token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first == std::string_view::npos ? first : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
  std::string payload;
  if (!auth::Base64UrlDecode(token.substr(first + 1, second - first - 1), payload)) {
    return std::nullopt;
  }
  const auto claims = nlohmann::json::parse(payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return std::nullopt;
  }
  return claims["exp"].get<std::int64_t>();
}

}  // namespace

// Verified tokens by their exact text, until their `exp` (no leeway, so never longer than the
// verifier would accept them). An RS256 check costs tens of microseconds, more than the rest of
// a small read; the cache is bounded and simply emptied when full.
class TokenCache {
 public:
  std::optional<auth::Principal> Find(std::string_view token) {
    const auto now = NowSeconds();
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(token);
    if (it == entries_.end()) return std::nullopt;
    if (now >= it->second.expires) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.principal;
  }

  void Put(std::string_view token, const auth::Principal& principal) {
    const auto expires = ExpiryOf(token);
    if (!expires) return;
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.insert_or_assign(std::string(token), Entry{principal, *expires});
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  struct Entry {
    auth::Principal principal;
    std::int64_t expires;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

// The request counter and duration histogram of each (route, method, status), looked up once:
// prometheus-cpp's Family::Add builds and hashes a label map under a lock on every call.
class MetricCache {
 public:
  struct Series {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
  };

  const Series& Find(metrics::Metrics& metrics, const std::string& route, const std::string& method,
                     int status) {
    std::string key;
    key.reserve(route.size() + method.size() + 5);
    key += route;
    key += ' ';
    key += method;
    key += ' ';
    key += std::to_string(status);
    std::lock_guard lock(mutex_);
    auto it = series_.find(key);
    if (it == series_.end()) {
      Series series{&metrics.http_requests.Add(
                        {{"route", route}, {"method", method}, {"status", std::to_string(status)}}),
                    &metrics.http_request_duration.Add({{"route", route}, {"method", method}},
                                                       metrics::Metrics::LatencyBuckets())};
      it = series_.emplace(std::move(key), series).first;
    }
    return it->second;  // unordered_map never moves its elements
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, Series> series_;
};

Pipeline::Pipeline(Router router, std::shared_ptr<const auth::JwtVerifier> verifier,
                   metrics::Metrics* metrics, std::string server_name)
    : router_(std::move(router)),
      verifier_(std::move(verifier)),
      metrics_(metrics),
      server_name_(std::move(server_name)),
      token_cache_(std::make_shared<TokenCache>()),
      metric_cache_(std::make_shared<MetricCache>()) {}

void Pipeline::Authenticate(Request& request, auth::Access access) const {
  if (access == auth::Access::kPublic) return;
  const std::string_view header = request.Header("authorization");
  if (header.empty()) throw ApiError::Unauthorized("missing bearer token");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || strncasecmp(header.data(), "bearer ", 7) != 0) {
    throw ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'");
  }
  if (!verifier_) throw ApiError::Unauthorized("this server accepts no tokens");
  const std::string_view token = header.substr(kBearer.size());
  if (auto cached = token_cache_->Find(token)) {
    request.principal = std::move(*cached);
  } else {
    auto result = verifier_->Verify(token);
    if (!result.ok) {
      // The reason is logged, not sent: it would help an attacker tune forged tokens.
      throw ApiError::Unauthorized("invalid or expired token").Internal(result.error);
    }
    token_cache_->Put(token, result.principal);
    request.principal = std::move(result.principal);
  }
  if (!request.principal.Allows(access)) {
    throw ApiError::Forbidden("your role does not allow this operation");
  }
}

void Pipeline::Resolve(Request& request, Router::Match& match) const {
  match = router_.Find(request.method, request.path);
  if (match.kind != Router::Match::Kind::kFound) return;
  request.route = match.route->pattern;
  request.params = std::move(match.params);
  request.matched = match.route;
}

bool Pipeline::RunsInline(Request& request) const {
  // A preflight touches neither token nor store: answer it on the io thread.
  if (cors_ && CorsPolicy::IsPreflight(request)) return true;
  Router::Match match;
  Resolve(request, match);
  return request.matched != nullptr && request.matched->execution == Router::Execution::kIoThread;
}

Response Pipeline::Dispatch(Request& request) {
  if (rate_limiter_) rate_limiter_->CheckAddress(request);
  if (cors_ && CorsPolicy::IsPreflight(request)) {
    request.route = "cors-preflight";
    if (rate_limiter_) rate_limiter_->CheckPreflight(request);
    return cors_->Preflight(request);
  }
  const auto& routes = router_.routes();
  // std::less_equal: a total order even for pointers into another router's routes.
  const std::less_equal<const Route*> before;
  const bool ours = request.matched != nullptr && !routes.empty() &&
                    before(&routes.front(), request.matched) &&
                    before(request.matched, &routes.back());
  if (!ours) {  // not resolved by RunsInline (or by another pipeline): look it up now
    request.matched = nullptr;
    Router::Match match;
    Resolve(request, match);
    if (match.kind == Router::Match::Kind::kNotFound) {
      throw ApiError::NotFound("no resource at " + request.path);
    }
    if (match.kind == Router::Match::Kind::kMethodNotAllowed) {
      throw ApiError::MethodNotAllowed(match.allow);
    }
  }
  const Route& route = *request.matched;
  Authenticate(request, route.access);
  if (rate_limiter_) rate_limiter_->CheckPrincipal(request, route);
  CheckParameters(route.parameters, request);
  return route.handler(request);
}

void ApplySecurityHeaders(Response& response) {
  const auto fill = [&response](const char* name, const char* value) {
    if (response.Header(name).empty()) response.SetHeader(name, value);
  };
  fill("X-Content-Type-Options", "nosniff");
  fill("Referrer-Policy", "no-referrer");
  fill("Cache-Control", "no-store");
  const bool html = response.Header("Content-Type").rfind("text/html", 0) == 0;
  fill("Content-Security-Policy",
       html ? "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
              "frame-ancestors 'none'; base-uri 'none'"
            : "default-src 'none'; frame-ancestors 'none'");
}

Response Pipeline::Handle(Request& request) {
  const std::string_view incoming = request.Header("x-request-id");
  request.request_id = IsAcceptableRequestId(incoming) ? std::string(incoming) : util::NewUuid();
  if (metrics_ != nullptr) metrics_->http_in_flight.Increment();
  Response response;
  try {
    response = Dispatch(request);
  } catch (...) {
    response = ResponseForException(std::current_exception(), request);
  }
  if (metrics_ != nullptr) metrics_->http_in_flight.Decrement();
  response.SetHeader("X-Request-Id", request.request_id);
  ApplySecurityHeaders(response);
  // Errors too: a portal must be able to read a 401 or a 429 and its Retry-After.
  if (cors_) cors_->Decorate(request, response);
  Observe(request, response);
  return response;
}

void Pipeline::Observe(const Request& request, const Response& response) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = request.received_at == std::chrono::steady_clock::time_point{}
                             ? 0.0
                             : std::chrono::duration<double>(now - request.received_at).count();
  const std::string route = request.route.empty() ? "unmatched" : request.route;
  const std::string method(MethodName(request.method));
  if (metrics_ != nullptr) {
    const auto& series = metric_cache_->Find(*metrics_, route, method, response.status);
    series.requests->Increment();
    series.duration->Observe(seconds);
  }
  // Built by hand: a JSON object of a dozen members cost more than the rest of a small read.
  std::string line;
  line.reserve(384);
  line += "{\"ts\":";
  AppendJsonString(line, util::NowRfc3339());
  line += ",\"level\":\"info\",\"msg\":\"access\",\"server\":";
  AppendJsonString(line, server_name_);
  line += ",\"request_id\":";
  AppendJsonString(line, request.request_id);
  line += ",\"method\":";
  AppendJsonString(line, request.method_text.empty() ? method : request.method_text);
  line += ",\"path\":";
  AppendJsonString(line, request.path);
  line += ",\"route\":";
  AppendJsonString(line, route);
  line += ",\"status\":";
  AppendNumber(line, static_cast<std::uint64_t>(response.status));
  // Milliseconds with three decimals, from whole microseconds (printf's %f cost more than the
  // rest of the line).
  const auto micros = static_cast<std::uint64_t>(seconds * 1e6 + 0.5);
  line += ",\"duration_ms\":";
  AppendNumber(line, micros / 1000);
  line += '.';
  line += static_cast<char>('0' + micros / 100 % 10);
  line += static_cast<char>('0' + micros / 10 % 10);
  line += static_cast<char>('0' + micros % 10);
  line += ",\"bytes_in\":";
  AppendNumber(line, request.body.size());
  line += ",\"bytes_out\":";
  AppendNumber(line, response.body.size());
  line += ",\"remote\":";
  AppendJsonString(line, request.remote_address);
  if (!request.principal.subject.empty()) {
    line += ",\"sub\":";
    AppendJsonString(line, request.principal.subject);
  }
  if (const auto trace = request.Header("traceparent"); !trace.empty()) {
    line += ",\"traceparent\":";
    AppendJsonString(line, trace);
  }
  line += '}';
  log::WriteLine(std::move(line));
}

}  // namespace jilaf::http
