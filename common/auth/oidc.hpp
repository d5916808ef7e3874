#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/auth/key_source.hpp"

namespace jilaf::auth {

/// How an OpenID Connect issuer's keys are fetched and kept.
struct OidcOptions {
  /// The issuer URL, exactly as tokens carry it in `iss` (http or https).
  std::string issuer;
  /// No two fetches closer than this: a stream of tokens naming unknown keys causes at most one
  /// refresh per interval. Also the shortest time a JWKS is kept before it is fetched again.
  std::chrono::seconds min_refresh{60};
  /// The longest a JWKS is kept without asking again, whatever its Cache-Control says.
  std::chrono::seconds max_refresh{3600};
  /// Keys stay usable this long after the last successful fetch while the provider cannot be
  /// reached; then tokens of this issuer are refused until it answers again.
  std::chrono::seconds key_max_age{86400};
  /// Connect plus transfer time of one request to the provider.
  std::chrono::milliseconds fetch_timeout{5000};
  /// Larger discovery or JWKS bodies are refused (a provider's is a few KiB).
  std::size_t max_body_bytes = 256 * 1024;
};

/// The keys of an OpenID Connect issuer: discovers `jwks_uri` from
/// `<issuer>/.well-known/openid-configuration`, fetches the JWKS and keeps it, all on a thread of
/// its own. Find reads the current key set under a short lock and never waits for the network;
/// an unknown `kid` wakes the thread for a refresh (at most one per min_refresh). When the provider
/// cannot be reached or answers garbage, the last good keys keep serving until key_max_age.
class OidcKeySource final : public KeySource {
 public:
  /// Starts the refresher thread, which fetches right away. Throws std::invalid_argument on an
  /// issuer that is not an http(s) URL.
  explicit OidcKeySource(OidcOptions options);
  ~OidcKeySource() override;
  OidcKeySource(const OidcKeySource&) = delete;
  OidcKeySource& operator=(const OidcKeySource&) = delete;

  [[nodiscard]] Lookup Find(std::string_view kid) const override;
  [[nodiscard]] KeyState State() const override;
  [[nodiscard]] nlohmann::json Describe() const override;

  /// Blocks until the first fetch has finished (well or not) or `timeout` passes; true when keys
  /// are loaded. For start-up and tests: never call it on a request path.
  bool WaitForFirstFetch(std::chrono::milliseconds timeout) const;
  /// Fetches attempted so far (successful or not).
  [[nodiscard]] std::size_t FetchCount() const;

 private:
  using Clock = std::chrono::steady_clock;
  void Run();
  // One discovery (when needed) and JWKS fetch; returns the time of the next scheduled one.
  Clock::time_point Refresh();

  const OidcOptions options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  mutable bool refresh_requested_ = false;
  bool stopping_ = false;
  std::shared_ptr<const KeySet> keys_;
  std::optional<Clock::time_point> last_success_;
  std::optional<Clock::time_point> last_attempt_;
  std::string last_error_;
  std::string jwks_uri_;
  std::string etag_;
  std::size_t fetches_ = 0;
  mutable std::condition_variable fetched_;
  std::thread thread_;
};

/// The result of one HTTP GET by the provider client.
struct HttpFetch {
  long status = 0;
  std::string body;
  std::string cache_control;
  std::string expires;
  std::string date;
  std::string etag;
  std::string error;  // transport error, empty on an HTTP answer
};

/// GET `url` (http or https only, no redirects) within `timeout`, keeping at most `max_body`
/// bytes (a longer body is an error). Blocking: for the refresher thread only.
HttpFetch HttpGet(const std::string& url, std::chrono::milliseconds timeout, std::size_t max_body,
                  const std::string& if_none_match = {});

/// How long a response may be kept by its Cache-Control (`max-age`; `no-cache`/`no-store`
/// mean zero) or else Expires minus Date; nullopt when it says nothing.
std::optional<std::chrono::seconds> Freshness(const HttpFetch& response);

}  // namespace jilaf::auth
