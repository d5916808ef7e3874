#pragma once

// Beast types: include only from common/http (server.cpp and request_parse.cpp) and fuzz/.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/message.hpp"
#include "common/http/problem.hpp"

namespace jilaf::http {

/// The project's Request from a parsed Beast message: lower-case header names, the decoded path
/// and query. Throws ApiError (400) for a target that is not in origin form.
Request ToRequest(boost::beast::http::request<boost::beast::http::string_body>& in,
                  const std::string& remote);

/// What the server makes of one request's bytes, without a socket: the same parser, limits and
/// conversion as HttpServer's session, so a fuzzer or a test reaches them directly.
struct ParsedRequest {
  std::optional<Request> request;  // set when the bytes form a complete, acceptable request
  std::optional<ApiError> error;   // the 400/413/431 the server would answer
  bool incomplete = false;         // more bytes needed (the server would wait, then time out)
  std::size_t consumed = 0;        // bytes of the input that belong to this request
};

ParsedRequest ParseRequestBytes(std::string_view bytes, std::size_t header_limit,
                                std::size_t body_limit);

}  // namespace jilaf::http
