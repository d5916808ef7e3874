#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jilaf::testing {

/// What a test sees of an HTTP response.
struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  [[nodiscard]] std::string Header(const std::string& lower_name) const;
};

/// How a client waits out 429 and 503: as the API documentation asks, it sleeps for the answer's
/// `Retry-After` and tries again, within these bounds; then it returns the last answer.
struct RetryPolicy {
  int attempts = 20;
  std::chrono::milliseconds budget{60000};  // total time spent waiting
};

/// Seconds to wait from a `Retry-After` value (delta-seconds; anything else counts as 1 s).
std::chrono::milliseconds RetryAfterDelay(const std::string& value);

/// A small blocking HTTP/1.1 client for tests, on Beast. One keep-alive connection, reopened
/// when the server closes it.
class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port);
  ~HttpClient();

  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

  /// Request, but a 429 or 503 is retried after its `Retry-After` within `policy`: what every
  /// client the project ships does. Tests of the limits themselves use Request.
  HttpResult RequestHonouringRetryAfter(
      const std::string& method, const std::string& target, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      RetryPolicy policy = {});

  /// Sends raw bytes on a fresh connection and returns whatever the server answers before it
  /// closes (or `timeout_ms` passes).
  std::string Raw(const std::string& bytes, int timeout_ms = 5000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jilaf::testing
