#pragma once

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

/// A small blocking HTTP/1.1 client for tests, on Beast. One keep-alive connection, reopened
/// when the server closes it.
class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port);
  ~HttpClient();

  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

  /// Sends raw bytes on a fresh connection and returns whatever the server answers before it
  /// closes (or `timeout_ms` passes).
  std::string Raw(const std::string& bytes, int timeout_ms = 5000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jilaf::testing
