// Boost's assertion handler for the fuzz build (BOOST_ENABLE_ASSERT_HANDLER, fuzz/CMakeLists.txt):
// every failed BOOST_ASSERT aborts, as <cassert> would, except one known false alarm.
//
// Beast 1.81's request parser asserts `n >= 5` when a chunked body's last chunk ("0\r\n") is cut
// before its final CRLF, as a client may send it. With the assertion compiled out (the release
// build) the same input gives need_more and then "partial message", with no memory error under
// ASan and UBSan (checked with the reproducer fuzz/corpus/http_request/chunked_last_chunk_cut),
// so the assertion, not the parser, is wrong there.
#include <boost/assert.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strstr(file, "boost/beast/http/impl/basic_parser.ipp") != nullptr &&
      std::strcmp(expr, "n >= 5") == 0) {
    return;
  }
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
