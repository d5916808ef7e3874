#include "common/http/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/http/problem.hpp"

namespace jilaf::http {

std::string_view CostClassName(CostClass cost) {
  switch (cost) {
    case CostClass::kRead:
      return "read";
    case CostClass::kWrite:
      return "write";
    case CostClass::kExpensive:
      return "expensive";
  }
  return "read";
}

CostClass CostClassOf(const Router::Route& route) {
  if (route.cost == Router::Cost::kExpensive) return CostClass::kExpensive;
  if (route.method == Method::kGet || route.method == Method::kHead) return CostClass::kRead;
  return CostClass::kWrite;
}

RateLimiter::RateLimiter(RateLimitOptions options, metrics::Metrics* metrics)
    : options_(options), metrics_(metrics) {}

double RateLimiter::Take(std::string_view key, std::int64_t per_second, std::int64_t burst,
                         Clock::time_point now) {
  if (per_second <= 0) return 0;
  const double capacity = static_cast<double>(std::max<std::int64_t>(burst, 1));
  const double rate = static_cast<double>(per_second);
  auto& shard = shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= options_.max_buckets_per_shard) {
      // Full buckets carry no state worth keeping: a new bucket starts full anyway. If every
      // bucket is busy (a flood of distinct keys), start over rather than grow without bound.
      std::erase_if(shard.buckets, [&](const auto& entry) {
        const auto& bucket = entry.second;
        const double refill = std::chrono::duration<double>(now - bucket.updated).count() * rate;
        return bucket.tokens + refill >= capacity;
      });
      if (shard.buckets.size() >= options_.max_buckets_per_shard) shard.buckets.clear();
    }
    it = shard.buckets.emplace(std::string(key), Bucket{capacity, now}).first;
  }
  auto& bucket = it->second;
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - bucket.updated).count());
  bucket.tokens = std::min(capacity, bucket.tokens + elapsed * rate);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return (1.0 - bucket.tokens) / rate;
}

void RateLimiter::Refuse(std::string_view scope, std::string_view cost, double wait,
                         const std::string& detail) {
  if (metrics_ != nullptr) {
    metrics_->http_rate_limited.Add({{"scope", std::string(scope)}, {"class", std::string(cost)}})
        .Increment();
  }
  const auto seconds = static_cast<std::int64_t>(std::max(1.0, std::ceil(wait)));
  throw ApiError(429, "too-many-requests", "Too Many Requests", detail)
      .With("retry_after_seconds", seconds)
      .WithHeader("Retry-After", std::to_string(seconds));
}

void RateLimiter::CheckAddress(const Request& request) {
  if (options_.address_per_second <= 0) return;
  const std::string key = "a|" + request.remote_address;
  if (const double wait =
          Take(key, options_.address_per_second, options_.address_burst, Clock::now());
      wait > 0) {
    Refuse("address", "any", wait,
           "too many requests from this address (limit " +
               std::to_string(options_.address_per_second) + "/s); retry later");
  }
}

void RateLimiter::CheckPreflight(const Request& request) {
  if (options_.preflight_per_second <= 0) return;
  const std::string key = "o|" + request.remote_address;
  if (const double wait =
          Take(key, options_.preflight_per_second, options_.preflight_burst, Clock::now());
      wait > 0) {
    Refuse("preflight", "any", wait,
           "too many CORS preflights from this address (limit " +
               std::to_string(options_.preflight_per_second) + "/s); retry later");
  }
}

void RateLimiter::CheckPrincipal(const Request& request, const Router::Route& route) {
  if (!request.principal.authenticated) return;
  const CostClass cost = CostClassOf(route);
  std::int64_t rate = options_.read_per_second;
  std::int64_t burst = options_.read_burst;
  if (cost == CostClass::kWrite) {
    rate = options_.write_per_second;
    burst = options_.write_burst;
  } else if (cost == CostClass::kExpensive) {
    rate = options_.expensive_per_second;
    burst = options_.expensive_burst;
  }
  if (rate <= 0) return;
  // A token without `sub` is limited with the others from its address.
  const std::string& who =
      request.principal.subject.empty() ? request.remote_address : request.principal.subject;
  std::string key = "p|";
  key += CostClassName(cost);
  key += '|';
  key += who;
  if (const double wait = Take(key, rate, burst, Clock::now()); wait > 0) {
    Refuse("principal", CostClassName(cost), wait,
           "too many " + std::string(CostClassName(cost)) + " requests for this caller (limit " +
               std::to_string(rate) + "/s); retry later");
  }
}

}  // namespace jilaf::http
