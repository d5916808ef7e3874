#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace jilaf::http {

/// Bounds on a request's header block beyond its size in bytes (ServerOptions::header_limit).
struct HeaderRules {
  std::size_t max_fields = 100;
};

/// Why a header block was refused: 400 for framing and syntax, 431 for too many fields.
struct HeaderRefusal {
  int status = 400;
  std::string detail;
};

/// Where the end of a header block is, scanning raw bytes as they arrive.
struct HeaderBlockScan {
  /// Bytes of the block including the blank line; 0 while it is incomplete.
  std::size_t end = 0;
  /// A line feed without its carriage return: refused at once, not waited on.
  bool bare_line_feed = false;
};

/// Scans `bytes` (the start of a request) for the blank line ending its header block, from
/// `from` on (bytes before it were scanned already).
[[nodiscard]] HeaderBlockScan FindHeaderBlockEnd(std::string_view bytes, std::size_t from);

/// Screens a complete raw header block (request line through the blank line) for what the
/// HTTP/1.1 parser of Boost 1.81 lets through but RFC 9112 and request-smuggling defences do not:
/// obsolete line folding, malformed field names or values, more than `rules.max_fields` fields,
/// duplicate or non-numeric Content-Length, Transfer-Encoding other than exactly `chunked` (or
/// repeated, or on HTTP/1.0), Transfer-Encoding together with Content-Length, duplicate Host.
/// Returns the refusal, or nullopt if the block is acceptable.
[[nodiscard]] std::optional<HeaderRefusal> ScreenHeaderBlock(std::string_view block,
                                                             const HeaderRules& rules);

}  // namespace jilaf::http
