#pragma once
// The socket side of common/http/hardening.hpp, for common/http/server.cpp only (it pulls in
// Beast): read a request's whole header block before Beast parses it, and screen it raw.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <optional>
#include <string_view>

#include "common/http/hardening.hpp"
#include "common/http/problem.hpp"

namespace jilaf::http {

/// What the server does with a connection after ReadAndScreenHeader.
struct ScreenedHeader {
  bool proceed = true;            // parse the request as usual
  std::optional<ApiError> error;  // when !proceed: answer this, then close (else just close)
};

/// Screens the header block if `buffer` already holds all of it (the usual case: a request's
/// header arrives in one segment), without suspending; nullopt when more bytes are needed.
/// `scanned` is where the search for the blank line resumes.
inline std::optional<ScreenedHeader> ScreenBufferedHeader(const boost::beast::flat_buffer& buffer,
                                                          std::size_t scanned,
                                                          const HeaderRules& rules) {
  const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
  const auto scan = FindHeaderBlockEnd(bytes, scanned);
  if (scan.bare_line_feed) {
    return ScreenedHeader{
        false, ApiError::BadRequest("malformed HTTP request: line feed without carriage return")};
  }
  if (scan.end == 0) return std::nullopt;
  if (auto refusal = ScreenHeaderBlock(bytes.substr(0, scan.end), rules)) {
    if (refusal->status == 431)
      return ScreenedHeader{false, ApiError::HeadersTooLarge(refusal->detail)};
    return ScreenedHeader{false,
                          ApiError::BadRequest("malformed HTTP request: " + refusal->detail)};
  }
  return ScreenedHeader{};
}

/// Reads into `buffer` until it holds the blank line ending the next header block, under the
/// stream's current deadline, then screens the block. Stops reading at `header_limit` bytes and
/// proceeds, so that the parser reports the oversized header as it always has (431).
inline boost::asio::awaitable<ScreenedHeader> ReadAndScreenHeader(boost::beast::tcp_stream& stream,
                                                                  boost::beast::flat_buffer& buffer,
                                                                  std::size_t header_limit,
                                                                  const HeaderRules& rules) {
  std::size_t scanned = 0;
  for (;;) {
    if (auto screened = ScreenBufferedHeader(buffer, scanned, rules)) co_return *screened;
    if (buffer.size() > header_limit) co_return ScreenedHeader{};
    scanned = buffer.size();
    auto [ec, n] = co_await stream.async_read_some(
        buffer.prepare(8192), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return ScreenedHeader{false, std::nullopt};
    buffer.commit(n);
  }
}

}  // namespace jilaf::http
