// Security against the real invitations binary (issue 9, parts 5, 7, 8): rate-limit flags reach
// the limiter and its metric, request smuggling is refused, forged tokens are 401.
#include "common/auth/jwt.hpp"
#include "tests/component/raw_socket.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using SecurityE2eTest = E2eTest;

TEST_F(SecurityE2eTest, RateLimitsPerPrincipalAndClassAre429WithRetryAfterAndCounted) {
  auto& service =
      StartInvitations({"--rate-limit-write-rps", "1", "--rate-limit-write-burst", "2",
                        "--rate-limit-expensive-rps", "1", "--rate-limit-expensive-burst", "1"});
  const auto staff = Token("staff");
  // Sends `send` until the first 429 and checks that the accepted ones before it stay within the
  // bucket: the burst, plus what refilled (1/s) while the loop ran. Bounded by the time taken, not
  // by a guess at the machine's speed.
  const auto until_refused = [](int burst, int accepted_status, const auto& send) {
    const auto start = std::chrono::steady_clock::now();
    int accepted = 0;
    testing::HttpResult answer;
    for (int i = 0; i < 1000; ++i) {
      answer = send();
      if (answer.status != accepted_status) break;
      ++accepted;
    }
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    EXPECT_GE(accepted, burst);
    EXPECT_LE(accepted, burst + static_cast<int>(elapsed.count()));
    return answer;
  };
  // Invalid bodies still cost a write: the limit is applied before the handler runs.
  const auto refused = until_refused(2, 422, [&] {
    return CallOnce(service, "POST", "/v1/programmes", "{}", staff,
                    {{"Content-Type", "application/json"}});
  });
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(refused.Header("retry-after"), "1");
  const auto problem = nlohmann::json::parse(refused.body);
  EXPECT_EQ(problem["type"], "/problems/too-many-requests");
  EXPECT_EQ(problem["retry_after_seconds"], 1);
  // Reads are another budget, and another principal has budgets of its own.
  EXPECT_EQ(CallOnce(service, "GET", "/v1/programmes", {}, staff).status, 200);
  EXPECT_EQ(CallOnce(service, "POST", "/v1/programmes", "{}", Token("admin"),
                     {{"Content-Type", "application/json"}})
                .status,
            422);
  // The fiscal-year report is declared expensive: one per second here.
  const auto viewer = Token("viewer");
  EXPECT_EQ(
      until_refused(
          1, 200,
          [&] { return CallOnce(service, "GET", "/v1/reports/fiscal-years/2026", {}, viewer); })
          .status,
      429);
  EXPECT_EQ(Metric(service, R"(jilaf_http_rate_limited_total{class="write",scope="principal"})"),
            1);
  EXPECT_EQ(
      Metric(service, R"(jilaf_http_rate_limited_total{class="expensive",scope="principal"})"), 1);
  // The bucket refills: a write is accepted again after Retry-After.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return CallOnce(service, "POST", "/v1/programmes", "{}", staff,
                        {{"Content-Type", "application/json"}})
                   .status == 422;
      },
      std::chrono::seconds(5)));
}

TEST_F(SecurityE2eTest, SmugglingAttemptsAndForgedTokensAreRefusedByTheRealBinary) {
  auto& service = StartInvitations();
  {
    testing::RawSocket socket(static_cast<std::uint16_t>(service.http_port));
    ASSERT_TRUE(
        socket.Send("POST /v1/programmes HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/programmes "
                    "HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    const auto raw = socket.ReadUntilClose(std::chrono::seconds(10), closed);
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw;
    EXPECT_EQ(raw.find("HTTP/1.1", 1), std::string::npos) << "the smuggled request was answered";
    EXPECT_TRUE(closed);
  }
  const auto valid = Token("staff");
  const std::string rest = valid.substr(valid.find('.'));
  for (const std::string header :
       {R"({"alg":"RS256","kid":"../../etc/passwd"})", R"({"alg":"none"})", R"({"alg":"HS256"})",
        R"({"alg":"RS256","crit":["exp"]})"}) {
    const auto result =
        Call(service, "GET", "/v1/programmes", {}, auth::Base64UrlEncode(header) + rest);
    EXPECT_EQ(result.status, 401) << header;
    EXPECT_EQ(result.Header("content-type"), "application/problem+json");
  }
  EXPECT_EQ(Call(service, "GET", "/v1/programmes", {}, valid).status, 200);
}

}  // namespace
}  // namespace jilaf::e2e
