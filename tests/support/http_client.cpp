#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>

namespace jilaf::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string HttpResult::Header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;

  void Connect() {
    stream.emplace(ioc);
    tcp::resolver resolver(ioc);
    stream->connect(resolver.resolve(host, std::to_string(port)));
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::Request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0;; ++attempt) {
    try {
      if (!impl_->stream) impl_->Connect();
      bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), target, 11};
      request.set(bhttp::field::host, impl_->host);
      request.method_string(method);
      for (const auto& [name, value] : headers) request.set(name, value);
      if (!body.empty() && request.find(bhttp::field::content_type) == request.end()) {
        request.set(bhttp::field::content_type, "application/json");
      }
      request.body() = body;
      request.prepare_payload();
      impl_->stream->expires_after(std::chrono::seconds(30));
      bhttp::write(*impl_->stream, request);
      beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (method == "HEAD") parser.skip(true);
      bhttp::read(*impl_->stream, buffer, parser);
      auto& response = parser.get();
      HttpResult result;
      result.status = static_cast<int>(response.result_int());
      for (const auto& field : response) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers[name] = std::string(field.value());
      }
      result.body = response.body();
      if (!response.keep_alive()) impl_->stream.reset();
      return result;
    } catch (const std::exception&) {
      impl_->stream.reset();
      if (attempt >= 1) throw;  // one retry covers a keep-alive connection the server closed
    }
  }
}

std::chrono::milliseconds RetryAfterDelay(const std::string& value) {
  int seconds = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, seconds);
  if (ec != std::errc() || ptr != end || seconds < 0) return std::chrono::seconds(1);
  return std::chrono::seconds(std::min(seconds, 30));
}

HttpResult HttpClient::RequestHonouringRetryAfter(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, RetryPolicy policy) {
  std::chrono::milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    auto result = Request(method, target, body, headers);
    if ((result.status != 429 && result.status != 503) || attempt >= policy.attempts) {
      return result;
    }
    const auto delay =
        std::max(RetryAfterDelay(result.Header("retry-after")), std::chrono::milliseconds(50));
    if (waited + delay > policy.budget) return result;
    std::this_thread::sleep_for(delay);
    waited += delay;
  }
}

std::string HttpClient::Raw(const std::string& bytes, int timeout_ms) {
  beast::tcp_stream stream(impl_->ioc);
  tcp::resolver resolver(impl_->ioc);
  stream.connect(resolver.resolve(impl_->host, std::to_string(impl_->port)));
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  beast::error_code ec;
  asio::write(stream.socket(), asio::buffer(bytes), ec);
  std::string out;
  char chunk[4096];
  for (;;) {
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    const auto n = stream.read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

}  // namespace jilaf::testing
