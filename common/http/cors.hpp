#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.hpp"

namespace jilaf::http {

/// Cross-origin access for browser portals: which origins may call the API, and for how long a
/// browser may cache a preflight answer. Empty means no origin is allowed (the default).
struct CorsOptions {
  /// Serialised origins (`https://portal.example.org`, `http://127.0.0.1:5173`), normalised by
  /// ParseAllowedOrigins: lower case, no default port, no path.
  std::vector<std::string> allowed_origins;
  std::int64_t max_age_seconds = 600;
};

/// Reads a comma-separated list of origins into `out`, normalised. Returns a message naming the
/// first entry that is not an http(s) origin (a path, a wildcard, `null`, user info...), or
/// nullopt. An empty list is valid and allows nothing.
[[nodiscard]] std::optional<std::string> ParseAllowedOrigins(std::string_view list,
                                                             std::vector<std::string>& out);

/// The CORS answers of the API port (Fetch standard, "CORS protocol"). Origins are matched
/// exactly against the allow-list; there is never a wildcard, and no
/// `Access-Control-Allow-Credentials`, because callers authenticate with a bearer token, not a
/// cookie. An origin not on the list gets no CORS header at all, so the browser withholds the
/// response from the page, while the request itself is answered as if no Origin had been sent.
class CorsPolicy {
 public:
  explicit CorsPolicy(CorsOptions options);

  /// True for an `OPTIONS` with `Origin` and `Access-Control-Request-Method`: a browser asking
  /// before a non-simple request. It is answered without routing, token or store.
  [[nodiscard]] static bool IsPreflight(const Request& request);
  /// The answer to a preflight: 204, with the allowed methods, headers and max age when the
  /// origin is allowed, with only `Vary` otherwise.
  [[nodiscard]] Response Preflight(const Request& request) const;
  /// Adds `Vary: Origin` (when any origin is allowed) and, for an allowed origin, the
  /// `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers` of an actual response.
  void Decorate(const Request& request, Response& response) const;
  /// True if `origin` (as sent in the `Origin` header) is on the allow-list.
  [[nodiscard]] bool Allows(std::string_view origin) const;

 private:
  CorsOptions options_;
};

}  // namespace jilaf::http
