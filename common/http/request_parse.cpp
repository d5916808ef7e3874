#include "common/http/request_parse.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/url/parse.hpp>

#include <cctype>
#include <chrono>

namespace jilaf::http {

namespace bhttp = boost::beast::http;

Request ToRequest(bhttp::request<bhttp::string_body>& in, const std::string& remote) {
  Request out;
  out.method_text = std::string(in.method_string());
  out.method = ParseMethod(out.method_text);
  out.target = std::string(in.target());
  out.remote_address = remote;
  out.received_at = std::chrono::steady_clock::now();
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  auto parsed = boost::urls::parse_origin_form(out.target);
  if (!parsed) throw ApiError::BadRequest("malformed request target");
  out.path = std::string(parsed->path());
  for (const auto& param : parsed->params()) {
    out.query[std::string(param.key)] = std::string(param.value);
  }
  return out;
}

ParsedRequest ParseRequestBytes(std::string_view bytes, std::size_t header_limit,
                                std::size_t body_limit) {
  ParsedRequest result;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  parser.body_limit(body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    const auto rest = bytes.substr(result.consumed);
    const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    result.consumed += used;
    if (ec == bhttp::error::need_more) {
      if (used > 0 && result.consumed < bytes.size()) {
        ec = {};
        continue;
      }
      // Every byte is in: an unterminated header or body is incomplete, not malformed (the
      // server would wait for more, then time out).
      parser.put_eof(ec);
      if (ec) {
        result.incomplete = true;
        return result;
      }
      break;
    }
    if (ec) break;
    if (used == 0) {
      result.incomplete = true;
      return result;
    }
  }
  if (ec == bhttp::error::header_limit) {
    result.error = ApiError::HeadersTooLarge("request headers exceed " +
                                             std::to_string(header_limit) + " bytes");
    return result;
  }
  if (ec == bhttp::error::body_limit) {
    result.error =
        ApiError::PayloadTooLarge("request body exceeds " + std::to_string(body_limit) + " bytes");
    return result;
  }
  if (ec) {
    result.error = ApiError::BadRequest("malformed HTTP request: " + ec.message());
    return result;
  }
  try {
    result.request.emplace(ToRequest(parser.get(), "fuzz"));
  } catch (const ApiError& error) {
    result.error = error;
  }
  return result;
}

}  // namespace jilaf::http
