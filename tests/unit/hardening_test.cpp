#include "common/http/hardening.hpp"

#include <gtest/gtest.h>

namespace jilaf::http {
namespace {

std::optional<HeaderRefusal> Screen(const std::string& fields, std::size_t max_fields = 100,
                                    const std::string& version = "HTTP/1.1") {
  return ScreenHeaderBlock("POST /v1/x " + version + "\r\nHost: h\r\n" + fields + "\r\n",
                           HeaderRules{max_fields});
}

TEST(HeaderBlockEnd, FindsTheBlankLineAcrossIncrementalScans) {
  const std::string request = "GET / HTTP/1.1\r\nHost: h\r\n\r\nbody";
  EXPECT_EQ(FindHeaderBlockEnd(request.substr(0, 20), 0).end, 0u);
  // Resuming at any earlier offset finds the same end.
  for (std::size_t from = 0; from < 27; ++from) {
    EXPECT_EQ(FindHeaderBlockEnd(request, from).end, 27u) << from;
  }
  EXPECT_TRUE(FindHeaderBlockEnd("GET / HTTP/1.1\nHost: h\n\n", 0).bare_line_feed);
}

TEST(HeaderScreen, AcceptsOrdinaryRequests) {
  EXPECT_FALSE(Screen("Content-Type: application/json\r\nContent-Length: 12\r\n"));
  EXPECT_FALSE(Screen("Transfer-Encoding: Chunked\r\n"));
  EXPECT_FALSE(Screen("X-Empty:\r\nX-Tab:\ta\tb\r\nX-Utf8: caf\xc3\xa9\r\n"));
  EXPECT_FALSE(Screen("Content-Length: 0\r\n", 100, "HTTP/1.0"));
}

TEST(HeaderScreen, RefusesAmbiguousFramingWith400) {
  for (const std::string fields :
       {"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n",
        "Content-Length: 1\r\nContent-Length: 1\r\n", "Content-Length: 1, 1\r\n",
        "Content-Length: -1\r\n", "Content-Length:\r\n", "Content-Length: 99999999999999999999\r\n",
        "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "X-A: a\r\n b\r\n",
        "X A: a\r\n", "X-A : a\r\n", ": a\r\n", "X-A\r\n", "X-A: a\rb\r\n", "Host: second\r\n"}) {
    const auto refusal = Screen(fields);
    ASSERT_TRUE(refusal) << fields;
    EXPECT_EQ(refusal->status, 400) << fields;
    EXPECT_FALSE(refusal->detail.empty());
  }
  EXPECT_TRUE(Screen("Transfer-Encoding: chunked\r\n", 100, "HTTP/1.0"));
}

TEST(HeaderScreen, CountsFieldsAndAnswers431) {
  std::string fields;
  for (int i = 0; i < 9; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_FALSE(Screen(fields, 10));  // Host + 9
  fields += "X-Last: v\r\n";
  const auto refusal = Screen(fields, 10);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 431);
  EXPECT_EQ(refusal->detail, "more than 10 header fields");
}

}  // namespace
}  // namespace jilaf::http
