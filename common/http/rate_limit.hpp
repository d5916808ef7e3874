#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/metrics/metrics.hpp"

namespace jilaf::http {

/// What a request costs its caller: reads, writes, and expensive operations (routes marked with
/// Router::Expensive(): reports, exports, scans) each have their own budget per principal.
enum class CostClass { kRead, kWrite, kExpensive };
std::string_view CostClassName(CostClass cost);
/// Expensive if the route says so; otherwise GET and HEAD read and every other method writes.
CostClass CostClassOf(const Router::Route& route);

/// Token-bucket rates and bursts; a rate of 0 switches that bucket off. Each is a flag (see
/// docs/operations.md).
struct RateLimitOptions {
  /// Every request from one client address, authenticated or not, before routing.
  std::int64_t address_per_second = 1000;
  std::int64_t address_burst = 2000;
  /// CORS preflights from one client address, on top of the address budget: browsers cache
  /// preflight answers (Access-Control-Max-Age), so a portal needs few.
  std::int64_t preflight_per_second = 20;
  std::int64_t preflight_burst = 100;
  /// Per principal (`sub`), by cost class of the route.
  std::int64_t read_per_second = 200;
  std::int64_t read_burst = 400;
  std::int64_t write_per_second = 100;
  std::int64_t write_burst = 500;
  std::int64_t expensive_per_second = 2;
  std::int64_t expensive_burst = 20;
  /// Buckets kept per shard (16 shards); past it, idle (full) buckets are dropped first.
  std::size_t max_buckets_per_shard = 8192;
};

/// Rate limits per client address and per principal and cost class, as token buckets. A refused
/// request gets 429 problem+json with `Retry-After` and is counted in
/// jilaf_http_rate_limited_total{scope, class}. Thread-safe; buckets live in memory, per process.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(RateLimitOptions options, metrics::Metrics* metrics);

  /// Throws ApiError 429 if the request's client address is out of tokens.
  void CheckAddress(const Request& request);
  /// Throws ApiError 429 if the request's client address is out of preflight tokens.
  void CheckPreflight(const Request& request);
  /// Throws ApiError 429 if the authenticated principal is out of tokens for the route's class.
  /// Public routes (no principal) are bounded by the address limit only.
  void CheckPrincipal(const Request& request, const Router::Route& route);

  /// Takes one token from the bucket `key` of the given rate and burst. Returns 0 if granted,
  /// else the seconds until a token will be there.
  [[nodiscard]] double Take(std::string_view key, std::int64_t per_second, std::int64_t burst,
                            Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  void Refuse(std::string_view scope, std::string_view cost, double wait,
              const std::string& detail);

  RateLimitOptions options_;
  metrics::Metrics* metrics_;
  std::array<Shard, 16> shards_;
};

}  // namespace jilaf::http
