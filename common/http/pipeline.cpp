#include "common/http/pipeline.hpp"

#include <strings.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/events/cloud_event.hpp"
#include "common/http/problem.hpp"
#include "common/log/log.hpp"

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

}  // namespace

Pipeline::Pipeline(Router router, std::shared_ptr<const auth::JwtVerifier> verifier,
                   metrics::Metrics* metrics, std::string server_name)
    : router_(std::move(router)),
      verifier_(std::move(verifier)),
      metrics_(metrics),
      server_name_(std::move(server_name)) {}

void Pipeline::Authenticate(Request& request, auth::Access access) const {
  if (access == auth::Access::kPublic) return;
  const std::string_view header = request.Header("authorization");
  if (header.empty()) throw ApiError::Unauthorized("missing bearer token");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || strncasecmp(header.data(), "bearer ", 7) != 0) {
    throw ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'");
  }
  if (!verifier_) throw ApiError::Unauthorized("this server accepts no tokens");
  auto result = verifier_->Verify(header.substr(kBearer.size()));
  if (!result.ok) {
    // The reason is logged, not sent: it would help an attacker tune forged tokens.
    throw ApiError::Unauthorized("invalid or expired token").Internal(result.error);
  }
  request.principal = std::move(result.principal);
  if (!request.principal.Allows(access)) {
    throw ApiError::Forbidden("your role does not allow this operation");
  }
}

Response Pipeline::Dispatch(Request& request) {
  const auto match = router_.Find(request.method, request.path);
  if (match.kind == Router::Match::Kind::kNotFound) {
    throw ApiError::NotFound("no resource at " + request.path);
  }
  if (match.kind == Router::Match::Kind::kMethodNotAllowed) {
    throw ApiError::MethodNotAllowed(match.allow);
  }
  request.route = match.route->pattern;
  request.params = match.params;
  Authenticate(request, match.route->access);
  return match.route->handler(request);
}

Response Pipeline::Handle(Request& request) {
  const std::string_view incoming = request.Header("x-request-id");
  request.request_id = IsAcceptableRequestId(incoming) ? std::string(incoming) : events::NewUuid();
  if (metrics_ != nullptr) metrics_->http_in_flight.Increment();
  Response response;
  try {
    response = Dispatch(request);
  } catch (...) {
    response = ResponseForException(std::current_exception(), request);
  }
  if (metrics_ != nullptr) metrics_->http_in_flight.Decrement();
  response.SetHeader("X-Request-Id", request.request_id);
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
    metrics_->http_requests
        .Add({{"route", route}, {"method", method}, {"status", std::to_string(response.status)}})
        .Increment();
    metrics_->http_request_duration
        .Add({{"route", route}, {"method", method}}, metrics::Metrics::LatencyBuckets())
        .Observe(seconds);
  }
  nlohmann::json line = {{"ts", events::NowRfc3339()},
                         {"level", "info"},
                         {"msg", "access"},
                         {"server", server_name_},
                         {"request_id", request.request_id},
                         {"method", request.method_text.empty() ? method : request.method_text},
                         {"path", request.path},
                         {"route", route},
                         {"status", response.status},
                         {"duration_ms", seconds * 1e3},
                         {"bytes_in", request.body.size()},
                         {"bytes_out", response.body.size()},
                         {"remote", request.remote_address}};
  if (!request.principal.subject.empty()) line["sub"] = request.principal.subject;
  if (const auto trace = request.Header("traceparent"); !trace.empty()) line["traceparent"] = trace;
  log::WriteRaw(line);
}

}  // namespace jilaf::http
