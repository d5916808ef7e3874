// Security of the HTTP front door over real sockets on 127.0.0.1 (issue 9, parts 5 and 8): forged
// and malformed tokens, request smuggling and malformed framing, header and JSON bounds, and slow
// clients that must not starve healthy ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "common/auth/jwt.hpp"
#include "common/http/json_input.hpp"
#include "common/http/pipeline.hpp"
#include "common/http/server.hpp"
#include "tests/component/raw_socket.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"

namespace jilaf::http {
namespace {

using namespace std::chrono_literals;

using testing::kAudience;
using testing::kIssuer;
using testing::Now;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new testing::KeyPair(testing::GenerateRsaKeyPair()); }
  static void TearDownTestSuite() { delete keys_; }

  void Start(ServerOptions options = {}) {
    Router router;
    router.Add(Method::kGet, "/v1/ping", auth::Access::kPublic, [](Request&) {
      return Response::Json(200, {{"pong", true}});
    });
    router.Add(Method::kPost, "/v1/echo", auth::Access::kPublic,
               [](Request& request) { return Response::Json(200, ParseJsonBody(request)); });
    router.Add(Method::kGet, "/v1/secret", auth::Access::kRead, [](Request& request) {
      return Response::Json(200, {{"sub", request.principal.subject}});
    });
    auto verifier = std::make_shared<const auth::JwtVerifier>(
        auth::JwtVerifier::FromPem(keys_->public_pem, kIssuer, kAudience));
    pipeline_ = std::make_shared<Pipeline>(std::move(router), verifier, &metrics_, "test");
    runtime_ = std::make_unique<Runtime>(2, 4);
    server_ = std::make_unique<HttpServer>(
        *runtime_, options, [p = pipeline_](Request& r) { return p->Handle(r); },
        [p = pipeline_](const Request& r, const Response& s) { p->Observe(r, s); },
        [this](int delta) {
          const int now = open_ += delta;
          int peak = peak_open_.load();
          while (now > peak && !peak_open_.compare_exchange_weak(peak, now)) {
          }
        });
    server_->Start();
    runtime_->Start();
  }

  void TearDown() override {
    if (server_) server_->Stop(2000ms);
    if (runtime_) runtime_->Stop();
  }

  testing::HttpClient Client() { return testing::HttpClient("127.0.0.1", server_->port()); }

  // Sends raw bytes on a fresh connection; returns what came back before the server closed.
  std::string Exchange(const std::string& bytes, bool& closed) {
    testing::RawSocket socket(server_->port());
    EXPECT_TRUE(socket.Send(bytes));
    return socket.ReadUntilClose(30s, closed);
  }

  std::string Token(nlohmann::json claims) { return auth::SignJwt(keys_->private_pem, claims); }

  nlohmann::json Claims() {
    return {{"iss", kIssuer},
            {"aud", kAudience},
            {"sub", "officer-7"},
            {"exp", Now() + 600},
            {"roles", {"viewer"}}};
  }

  static testing::KeyPair* keys_;
  metrics::Metrics metrics_;
  std::shared_ptr<Pipeline> pipeline_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> open_{0};
  std::atomic<int> peak_open_{0};
};
testing::KeyPair* SecurityTest::keys_ = nullptr;

// --- Part 5: authentication through a real server -------------------------------------------

TEST_F(SecurityTest, EveryForgedOrMalformedTokenIs401ProblemJsonAndTheServerKeepsServing) {
  Start();
  auto client = Client();
  const auto valid = Token(Claims());
  ASSERT_EQ(client.Request("GET", "/v1/secret", {}, {{"Authorization", "Bearer " + valid}}).status,
            200);
  const std::string payload = auth::Base64UrlEncode(Claims().dump());
  const std::string signature = valid.substr(valid.rfind('.') + 1);
  auto with_header = [&](const std::string& header) {
    return auth::Base64UrlEncode(header) + "." + payload + "." + signature;
  };
  auto claims_without = [&](const std::string& name) {
    auto claims = Claims();
    claims.erase(name);
    return Token(claims);
  };
  auto claims_with = [&](const std::string& name, const nlohmann::json& value) {
    auto claims = Claims();
    claims[name] = value;
    return Token(claims);
  };
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"alg none", with_header(R"({"alg":"none"})").substr(0, valid.rfind('.') + 1)},
      {"alg HS256", with_header(R"({"alg":"HS256"})")},
      {"alg RS512", with_header(R"({"alg":"RS512"})")},
      {"kid path", with_header(R"({"alg":"RS256","kid":"../../etc/passwd"})")},
      {"kid url-encoded path", with_header(R"({"alg":"RS256","kid":"..%2F..%2Fetc%2Fpasswd"})")},
      {"kid unknown", with_header(R"({"alg":"RS256","kid":"2024-rotated"})")},
      {"nbf in the future", claims_with("nbf", Now() + 3600)},
      {"no exp", claims_without("exp")},
      {"exp 1e300", claims_with("exp", 1e300)},
      {"expired", claims_with("exp", Now() - 60)},
      {"oversized payload", claims_with("pad", std::string(9000, 'p'))},
      {"oversized header",
       with_header(R"({"alg":"RS256","x":")" + std::string(9000, 'h') + R"("})")},
      {"two segments", valid.substr(0, valid.rfind('.'))},
      {"bad base64", "e30=.e30=.AAAA"},
      {"header not json", auth::Base64UrlEncode("{") + "." + payload + "." + signature},
      {"no role", claims_with("roles", nlohmann::json::array({"root"}))},
  };
  for (const auto& [name, token] : tokens) {
    const auto result =
        client.Request("GET", "/v1/secret", {}, {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(result.status, 401) << name;
    EXPECT_EQ(result.Header("content-type"), "application/problem+json") << name;
    // The reason is logged, not sent back.
    EXPECT_EQ(nlohmann::json::parse(result.body)["detail"], "invalid or expired token") << name;
  }
  for (const std::string header :
       {"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer    ", "bearer", "Token x", ""}) {
    EXPECT_EQ(client.Request("GET", "/v1/secret", {}, {{"Authorization", header}}).status, 401)
        << header;
  }
  // Still alive and still accepting the real token.
  EXPECT_EQ(client.Request("GET", "/v1/secret", {}, {{"Authorization", "Bearer " + valid}}).status,
            200);
}

TEST_F(SecurityTest, TokenLargerThanTheHeaderLimitIs431NotACrash) {
  ServerOptions options;
  options.header_limit = 4096;
  Start(options);
  const auto result = Client().Request("GET", "/v1/secret", {},
                                       {{"Authorization", "Bearer " + std::string(8192, 'A')}});
  EXPECT_EQ(result.status, 431);
  EXPECT_EQ(Client().Request("GET", "/v1/ping").status, 200);
}

// --- Part 8: framing the parser of Boost 1.81 would accept ----------------------------------

struct Framing {
  const char* name;
  std::string request;
  int status;
};

TEST_F(SecurityTest, AmbiguousOrMalformedFramingIsRefusedAndTheConnectionClosed) {
  Start();
  const std::string post =
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  const std::vector<Framing> cases = {
      {"CL then TE", post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"TE then CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
       400},
      {"duplicate CL, same value", post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"conflicting CL", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ", 400},
      {"CL list", post + "Content-Length: 2, 2\r\n\r\n{}", 400},
      {"CL with sign", post + "Content-Length: +2\r\n\r\n{}", 400},
      {"CL in hex", post + "Content-Length: 0x2\r\n\r\n{}", 400},
      {"TE gzip", post + "Transfer-Encoding: gzip\r\n\r\n{}", 400},
      {"TE gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       400},
      {"TE chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"TE identity", post + "Transfer-Encoding: identity\r\n\r\n", 400},
      {"TE twice",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TE xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
      {"TE on HTTP/1.0",
       "POST /v1/echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"obs-fold", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n", 400},
      {"obs-fold with tab", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n", 400},
      {"space in name", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n", 400},
      {"space before colon", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Name : a\r\n\r\n", 400},
      {"empty name", "GET /v1/ping HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n", 400},
      {"bracket in name", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX[1]: a\r\n\r\n", 400},
      {"control in name", std::string("GET /v1/ping HTTP/1.1\r\nHost: x\r\nX\x01: a\r\n\r\n"), 400},
      {"no colon", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nJustAName\r\n\r\n", 400},
      {"NUL in value", std::string("GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 44),
       400},
      {"bare CR in value", "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
      {"bare LF line ends", "GET /v1/ping HTTP/1.1\nHost: x\n\n", 400},
      {"two Host headers", "GET /v1/ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    bool closed = false;
    const auto raw = Exchange(c.request, closed);
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 " + std::to_string(c.status))) << c.name << "\n" << raw;
    EXPECT_NE(raw.find("application/problem+json"), std::string::npos) << c.name;
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << c.name;
    EXPECT_TRUE(closed) << c.name << ": the server must close the connection";
    // Exactly one response: nothing smuggled behind it was answered.
    EXPECT_EQ(raw.find("HTTP/1.1", 1), std::string::npos) << c.name << "\n" << raw;
  }
  EXPECT_EQ(Client().Request("GET", "/v1/ping").status, 200);
}

TEST_F(SecurityTest, WellFormedChunkedAndSizedBodiesStillWork) {
  Start();
  bool closed = false;
  auto raw = Exchange(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
      closed);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
  EXPECT_NE(raw.find(R"({"a":1})"), std::string::npos) << raw;
  raw = Exchange(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":2}",
      closed);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
  // Two pipelined requests on one connection are both answered.
  raw = Exchange(
      "GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/ping HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n",
      closed);
  EXPECT_NE(raw.find("HTTP/1.1 200", 1), std::string::npos) << raw;
}

TEST_F(SecurityTest, HeaderFieldCountIsBounded) {
  ServerOptions options;
  options.max_header_fields = 20;
  Start(options);
  std::string headers;  // Host + 18 of these + one more = 20 fields
  for (int i = 0; i < 18; ++i) headers += "X-F" + std::to_string(i) + ": v\r\n";
  bool closed = false;
  auto raw = Exchange(
      "GET /v1/ping HTTP/1.1\r\nHost: x\r\n" + headers + "Connection: close\r\n\r\n", closed);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
  raw = Exchange("GET /v1/ping HTTP/1.1\r\nHost: x\r\n" + headers + "X-A: v\r\nX-B: v\r\n\r\n",
                 closed);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 431")) << raw;
  EXPECT_NE(raw.find("more than 20 header fields"), std::string::npos) << raw;
  EXPECT_TRUE(closed);
}

TEST_F(SecurityTest, JsonNestingDepthIsBoundedWith400NamingTheLimit) {
  Start();
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const auto result =
      Client().Request("POST", "/v1/echo", deep, {{"Content-Type", "application/json"}});
  EXPECT_EQ(result.status, 400);
  EXPECT_NE(result.body.find("JSON nesting deeper than 16 levels"), std::string::npos)
      << result.body;
  const std::string objects = [] {
    std::string text;
    for (int i = 0; i < 17; ++i) text += R"({"a":)";
    text += "1";
    for (int i = 0; i < 17; ++i) text += "}";
    return text;
  }();
  EXPECT_EQ(
      Client().Request("POST", "/v1/echo", objects, {{"Content-Type", "application/json"}}).status,
      400);
}

// --- Part 8: slow clients ---------------------------------------------------------------------

// 500 connections that dribble their header or their body a byte at a time stay open until the
// header or body deadline cuts them off, while healthy clients on fresh and keep-alive
// connections are not held behind them: their p99 stays under one second, or under four times
// the p99 of the same healthy load just before (a yardstick for a loaded machine).
TEST_F(SecurityTest, FiveHundredSlowClientsDoNotStarveHealthyOnes) {
  ServerOptions options;
  options.header_timeout = 2000ms;
  options.body_timeout = 2000ms;
  Start(options);
  std::mutex latencies_mutex;
  // Four healthy clients, alternating keep-alive and fresh connections: each makes at least
  // `minimum` requests and goes on until `*stop`, adding its latencies (s) to `*latencies`.
  auto start_healthy = [&](int minimum, const std::atomic<bool>* stop,
                           std::vector<double>* latencies) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t, minimum, stop, latencies] {
        auto keep_alive = Client();
        std::vector<double> mine;
        for (int i = 0; i < minimum || !*stop; ++i) {
          const auto started = std::chrono::steady_clock::now();
          int status = 0;
          if ((i + t) % 2 == 0) {
            status = keep_alive.Request("GET", "/v1/ping").status;
          } else {
            status = Client().Request("GET", "/v1/ping").status;  // a fresh connection each time
          }
          mine.push_back(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
          EXPECT_EQ(status, 200);
        }
        std::lock_guard lock(latencies_mutex);
        latencies->insert(latencies->end(), mine.begin(), mine.end());
      });
    }
    return threads;
  };
  auto p99_of = [](std::vector<double>& latencies) {
    std::sort(latencies.begin(), latencies.end());
    return latencies[latencies.size() * 99 / 100];
  };
  std::vector<double> baseline;
  {
    std::atomic<bool> stop{true};
    for (auto& thread : start_healthy(25, &stop, &baseline)) thread.join();
  }
  const double baseline_p99 = p99_of(baseline);
  ASSERT_TRUE(testing::WaitUntil([&] { return open_.load() == 0; }, 60s))
      << open_.load() << " healthy connections still open";

  // Connect all first: a deadline starts with a request's first byte, so however long a loaded
  // machine takes to connect, every slow client is then held for the whole deadline.
  constexpr int kSlow = 500;
  std::vector<std::unique_ptr<testing::RawSocket>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<testing::RawSocket>(server_->port()));
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return open_.load() >= kSlow; }, 60s))
      << "only " << open_.load() << " connections were open at once";
  const auto opened = std::chrono::steady_clock::now();
  for (int i = 0; i < kSlow; ++i) {
    if (i % 2 == 0) {
      // Slowloris: a header that never ends.
      ASSERT_TRUE(slow[i]->Send("GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    } else {
      // Slow body: the header is complete, the body never is.
      ASSERT_TRUE(
          slow[i]->Send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100000\r\n\r\n["));
    }
  }
  const auto all_sent = std::chrono::steady_clock::now();

  std::atomic<bool> done{false};
  std::vector<double> latencies;
  auto healthy = start_healthy(25, &done, &latencies);
  // Keep dribbling one byte per connection every 100 ms until the server has cut every one off.
  std::vector<bool> cut(kSlow, false);
  int remaining = kSlow;
  std::chrono::steady_clock::duration first_cut{};
  while (remaining > 0 && std::chrono::steady_clock::now() - all_sent < 60s) {
    for (int i = 0; i < kSlow; ++i) {
      if (cut[i]) continue;
      if (slow[i]->PeerClosed() || !slow[i]->Send(i % 2 == 0 ? "a" : "1")) {
        cut[i] = true;
        --remaining;
        if (first_cut == std::chrono::steady_clock::duration{}) {
          first_cut = std::chrono::steady_clock::now() - opened;
        }
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto all_cut = std::chrono::steady_clock::now() - all_sent;
  done = true;
  for (auto& thread : healthy) thread.join();

  EXPECT_EQ(remaining, 0) << "slow connections still open 60 s after their first byte";
  // They were held for about the deadline, not dropped at once and not kept for ever: none is
  // cut before its 2 s deadline has run, and all are cut well before the default deadlines
  // (10 s header, 30 s body) would apply, with ample slack for a loaded machine.
  EXPECT_GE(first_cut, 1500ms);
  EXPECT_LT(all_cut, 4 * options.header_timeout);
  const double p99 = p99_of(latencies);
  std::cout << "healthy requests during the slow-client phase: " << latencies.size() << ", p50 "
            << latencies[latencies.size() / 2] * 1e3 << " ms, p99 " << p99 * 1e3 << " ms, max "
            << latencies.back() * 1e3 << " ms; before it: p99 " << baseline_p99 * 1e3 << " ms\n";
  EXPECT_LT(p99, std::max(1.0, 4 * baseline_p99));
}

}  // namespace
}  // namespace jilaf::http
