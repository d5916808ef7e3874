#include "common/http/hardening.hpp"

#include <strings.h>

namespace jilaf::http {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool NameIs(std::string_view name, std::string_view expected) {
  return name.size() == expected.size() &&
         strncasecmp(name.data(), expected.data(), expected.size()) == 0;
}

HeaderRefusal Bad(std::string detail) { return HeaderRefusal{400, std::move(detail)}; }

}  // namespace

HeaderBlockScan FindHeaderBlockEnd(std::string_view bytes, std::size_t from) {
  HeaderBlockScan scan;
  for (std::size_t i = from; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    if (i == 0 || bytes[i - 1] != '\r') {
      scan.bare_line_feed = true;
      return scan;
    }
    if (i >= 3 && bytes[i - 2] == '\n' && bytes[i - 3] == '\r') {
      scan.end = i + 1;
      return scan;
    }
  }
  return scan;
}

std::optional<HeaderRefusal> ScreenHeaderBlock(std::string_view block, const HeaderRules& rules) {
  const auto first_end = block.find("\r\n");
  if (first_end == std::string_view::npos) return Bad("request line is not terminated");
  const std::string_view request_line = block.substr(0, first_end);
  const bool http10 =
      request_line.size() >= 8 && request_line.substr(request_line.size() - 8) == "HTTP/1.0";
  std::size_t fields = 0;
  int content_lengths = 0;
  int transfer_encodings = 0;
  int hosts = 0;
  std::size_t at = first_end + 2;
  while (at < block.size()) {
    const auto end = block.find("\r\n", at);
    if (end == std::string_view::npos) return Bad("header block is not terminated");
    const std::string_view line = block.substr(at, end - at);
    at = end + 2;
    if (line.empty()) break;  // the blank line that ends the block
    if (line.front() == ' ' || line.front() == '\t') {
      return Bad("obsolete line folding (a header line starting with whitespace) is not accepted");
    }
    if (++fields > rules.max_fields) {
      return HeaderRefusal{431, "more than " + std::to_string(rules.max_fields) + " header fields"};
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Bad("malformed header line (no field name before ':')");
    }
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      if (!IsTokenChar(c)) return Bad("malformed header field name");
    }
    const std::string_view value = Trim(line.substr(colon + 1));
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Bad("control character in the value of header " + std::string(name));
      }
    }
    if (NameIs(name, "content-length")) {
      if (++content_lengths > 1) return Bad("more than one Content-Length header");
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return Bad("Content-Length must be a single decimal number");
      }
    } else if (NameIs(name, "transfer-encoding")) {
      if (++transfer_encodings > 1) return Bad("more than one Transfer-Encoding header");
      if (!NameIs(value, "chunked")) {
        return Bad("unsupported Transfer-Encoding (only 'chunked' is accepted)");
      }
    } else if (NameIs(name, "host")) {
      if (++hosts > 1) return Bad("more than one Host header");
    }
  }
  if (transfer_encodings > 0 && content_lengths > 0) {
    return Bad("both Content-Length and Transfer-Encoding: the body's length is ambiguous");
  }
  if (transfer_encodings > 0 && http10) {
    return Bad("Transfer-Encoding is not defined for HTTP/1.0");
  }
  return std::nullopt;
}

}  // namespace jilaf::http
