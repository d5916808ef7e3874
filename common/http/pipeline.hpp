#pragma once

#include <memory>
#include <string>

#include "common/auth/jwt.hpp"
#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/metrics/metrics.hpp"

namespace jilaf::http {

class CorsPolicy;
class TokenCache;
class MetricCache;
class RateLimiter;

/// The security headers of every response, unless the handler chose its own value:
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `Cache-Control: no-store`
/// (responses carry personal data unless a handler says otherwise) and a
/// `Content-Security-Policy` that allows nothing for data, and for HTML pages (letters,
/// confirmation pages) only their inline styles, inline images and forms back to this origin.
void ApplySecurityHeaders(Response& response);

/// Everything between the server and a handler, in one place: request id (accepted from
/// `X-Request-Id` or generated, echoed back), routing (404, 405 with `Allow`), authentication
/// and the route's access check (401 / 403), CORS preflights and headers, error mapping to
/// problem+json, metrics by route template, and the JSON-lines access log.
class Pipeline {
 public:
  /// `verifier` may be null only for a router whose routes are all public (the admin port).
  Pipeline(Router router, std::shared_ptr<const auth::JwtVerifier> verifier,
           metrics::Metrics* metrics, std::string server_name);

  Response Handle(Request& request);
  /// True when the request's route runs on the io thread (Router::Execution::kIoThread). The
  /// route found is kept in the request, so Handle does not look it up again.
  [[nodiscard]] bool RunsInline(Request& request) const;
  /// Logs and counts a response the server produced itself.
  void Observe(const Request& request, const Response& response);

  [[nodiscard]] const Router& router() const { return router_; }
  /// Applies rate limits (common/http/rate_limit.hpp): per address before routing, per principal
  /// after authentication. Without one, nothing is limited.
  void SetRateLimiter(std::shared_ptr<RateLimiter> limiter) { rate_limiter_ = std::move(limiter); }
  /// Answers CORS preflights and adds CORS headers to every response (common/http/cors.hpp).
  /// Without a policy, an OPTIONS is routed like any other method (and gets 405).
  void SetCors(std::shared_ptr<const CorsPolicy> cors) { cors_ = std::move(cors); }

 private:
  Response Dispatch(Request& request);
  // Looks the route up once per request: sets request.route, params and matched when found.
  void Resolve(Request& request, Router::Match& match) const;
  void Authenticate(Request& request, auth::Access access) const;

  Router router_;
  std::shared_ptr<const auth::JwtVerifier> verifier_;
  metrics::Metrics* metrics_;
  std::string server_name_;
  // Tokens already verified, kept until their `exp` (bounded): shared by copies of the pipeline.
  std::shared_ptr<TokenCache> token_cache_;
  std::shared_ptr<MetricCache> metric_cache_;
  std::shared_ptr<RateLimiter> rate_limiter_;
  std::shared_ptr<const CorsPolicy> cors_;
};

}  // namespace jilaf::http
