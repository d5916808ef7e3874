// The HTTP server over real sockets on 127.0.0.1 (port 0), with the real pipeline.
#include "common/http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <iostream>
#include <latch>
#include <thread>

#include "common/http/json_input.hpp"
#include "common/http/pipeline.hpp"
#include "common/store/store.hpp"
#include "common/util/thread_role.hpp"
#include "tests/component/raw_socket.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace jilaf::http {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options) {
    Router router;
    router.Add(Method::kGet, "/v1/ping", auth::Access::kPublic, [](Request&) {
      return Response::Json(200, {{"pong", true}});
    });
    router.Add(Method::kPost, "/v1/echo", auth::Access::kPublic,
               [](Request& request) { return Response::Json(200, ParseJsonBody(request)); });
    router.Add(Method::kGet, "/v1/slow", auth::Access::kPublic, [this](Request&) {
      slow_entered_.count_down();
      release_slow_.get_future().wait();
      return Response::Json(200, {{"slow", true}});
    });
    // A streamed body of `pieces` pieces of 64 KiB (the query), made on whatever thread the
    // server asks from; `fail_at` throws instead of making that piece.
    router.Add(Method::kGet, "/v1/stream", auth::Access::kPublic, [this](Request& request) {
      const int pieces = std::stoi(request.Query("pieces").value_or("4"));
      const int fail_at = std::stoi(request.Query("fail_at").value_or("-1"));
      Response response;
      response.SetHeader("Content-Type", "text/plain");
      response.body = "start\n";
      auto next = std::make_shared<int>(0);
      response.stream = [this, next, pieces, fail_at]() -> std::optional<std::string> {
        if (util::OnIoThread()) made_on_io_thread_ = true;
        if (*next == pieces) return std::nullopt;
        if (*next == fail_at) throw std::runtime_error("the store went away");
        ++made_;
        return std::string(64 * 1024, static_cast<char>('a' + (*next)++ % 26));
      };
      return response;
    });
    router.Declare({{Method::kGet,
                     "/v1/stream",
                     {QueryInteger("pieces", 0, 100000), QueryInteger("fail_at", -1, 100000)}}});
    pipeline_ = std::make_shared<Pipeline>(std::move(router), nullptr, &metrics_, "test");
    runtime_ = std::make_unique<Runtime>(2, 4);
    server_ = std::make_unique<HttpServer>(
        *runtime_, options, [p = pipeline_](Request& r) { return p->Handle(r); },
        [p = pipeline_](const Request& r, const Response& s) { p->Observe(r, s); });
    server_->Start();
    runtime_->Start();
  }

  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(2000));
    if (runtime_) runtime_->Stop();
  }

  testing::HttpClient Client() { return testing::HttpClient("127.0.0.1", server_->port()); }

  metrics::Metrics metrics_;
  std::shared_ptr<Pipeline> pipeline_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> made_{0};
  std::atomic<bool> made_on_io_thread_{false};
  std::latch slow_entered_{1};
  std::promise<void> release_slow_;
};

TEST_F(HttpServerTest, ServesKeepAliveRequestsOnOneConnection) {
  Start({});
  auto client = Client();
  for (int i = 0; i < 3; ++i) {
    const auto result = client.Request("GET", "/v1/ping");
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body, R"({"pong":true})");
    EXPECT_NE(result.Header("connection"), "close");
  }
  const auto text = metrics_.Serialize();
  EXPECT_NE(text.find(R"(route="/v1/ping",status="200"} 3)"), std::string::npos) << text;
}

// Reads on io threads share a read transaction per round of the io loop (Store::Read); the loop
// must end it when the round ends, or an idle server would hold a snapshot that keeps every
// later commit out of the database file (a TRUNCATE checkpoint reports busy while it exists).
TEST_F(HttpServerTest, IoThreadReadsHoldNoSnapshotOnceTheRoundEnds) {
  const auto dir = testing::MakeTempDir("jilaf-round");
  const std::string path = dir + "/round.db";
  store::Store store({path}, {{"test", {{1, "items", "CREATE TABLE items (name TEXT)"}}}});
  store.Write([](store::Db& db) { db.Exec("INSERT INTO items VALUES ('a')"); });
  Router router;
  router.Add(
      Method::kGet, "/v1/count", auth::Access::kPublic,
      [&store](Request&) {
        return store.Read([](store::Db& db) {
          auto stmt = db.Prepare("SELECT count(*) FROM items");
          return Response::Json(200, {{"count", stmt.Step() ? stmt.Int(0) : -1}});
        });
      },
      Router::Execution::kIoThread);
  auto pipeline = std::make_shared<Pipeline>(std::move(router), nullptr, &metrics_, "test");
  runtime_ = std::make_unique<Runtime>(2, 4);
  ServerOptions options;
  options.run_inline = [pipeline](Request& r) { return pipeline->RunsInline(r); };
  server_ = std::make_unique<HttpServer>(*runtime_, options,
                                         [pipeline](Request& r) { return pipeline->Handle(r); });
  server_->Start();
  runtime_->Start();
  auto client = Client();
  EXPECT_EQ(client.Request("GET", "/v1/count").body, R"({"count":1})");
  store.Write([](store::Db& db) { db.Exec("INSERT INTO items VALUES ('b')"); });
  // Read-your-writes across requests on the same connection, hence the same io thread.
  EXPECT_EQ(client.Request("GET", "/v1/count").body, R"({"count":2})");
  auto truncate = [&] {
    store::Db probe(path, {false, 50});
    auto stmt = probe.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    return stmt.Step() ? stmt.Int(0) : -1;
  };
  // The response was written in the round that read; the io thread goes idle soon after (on a
  // loaded machine, once it is scheduled again), and from then on nothing may hold a snapshot.
  EXPECT_TRUE(testing::WaitUntil([&] { return truncate() == 0; }, std::chrono::seconds(30)));
  server_->Stop(std::chrono::milliseconds(2000));
  runtime_->Stop();
  server_.reset();
  runtime_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(HttpServerTest, OversizedBodyIs413ProblemJson) {
  ServerOptions options;
  options.body_limit = 1024 * 1024;
  Start(options);
  const auto result = Client().Request("POST", "/v1/echo", std::string(2 * 1024 * 1024, 'x'));
  EXPECT_EQ(result.status, 413);
  EXPECT_EQ(result.Header("content-type"), "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(result.body)["type"], "/problems/payload-too-large");
}

TEST_F(HttpServerTest, MalformedJsonIs400NamingTheProblem) {
  Start({});
  const auto result = Client().Request("POST", "/v1/echo", R"({"a": })");
  EXPECT_EQ(result.status, 400);
  EXPECT_NE(nlohmann::json::parse(result.body)["detail"].get<std::string>().find("malformed JSON"),
            std::string::npos);
}

TEST_F(HttpServerTest, MalformedHttpIs400AndClosed) {
  Start({});
  const auto raw = Client().Raw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(raw.find("400"), std::string::npos) << raw;
  EXPECT_NE(raw.find("application/problem+json"), std::string::npos);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  ServerOptions options;
  options.header_limit = 2048;
  Start(options);
  const auto result =
      Client().Request("GET", "/v1/ping", {}, {{"X-Filler", std::string(4096, 'a')}});
  EXPECT_EQ(result.status, 431);
}

TEST_F(HttpServerTest, SlowHeaderClientIsDisconnected) {
  ServerOptions options;
  options.header_timeout = std::chrono::milliseconds(300);
  Start(options);
  const auto started = std::chrono::steady_clock::now();
  // Half a request line, then silence: the server must hang up on its own, after the configured
  // 300 ms: well before the client gives up (60 s) and before the default header timeout (10 s),
  // with ample slack for a loaded machine.
  const auto raw = Client().Raw("GET /v1/ping HTTP/1.1\r\nHost: x\r\n", 60000);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(raw.empty()) << raw;
  EXPECT_LT(waited, std::chrono::milliseconds(8000));
}

TEST_F(HttpServerTest, ConnectionsAboveTheCapAreRefusedWith503) {
  ServerOptions options;
  options.max_connections = 1;
  Start(options);
  auto first = Client();
  ASSERT_EQ(first.Request("GET", "/v1/ping").status, 200);  // holds the only slot
  const auto raw = Client().Raw("GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(raw.find("503"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Retry-After"), std::string::npos);
}

TEST_F(HttpServerTest, DrainLetsARequestInProgressFinish) {
  Start({});
  auto slow =
      std::async(std::launch::async, [this] { return Client().Request("GET", "/v1/slow"); });
  slow_entered_.wait();
  auto stopping =
      std::async(std::launch::async, [this] { server_->Stop(std::chrono::milliseconds(60000)); });
  // Let the handler finish only once the drain has begun (new connections are refused), so the
  // response is the one of a draining server rather than of a race with Stop().
  EXPECT_TRUE(testing::WaitUntil(
      [this] {
        try {
          (void)Client().Raw("GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
          return false;
        } catch (const std::exception&) {
          return true;
        }
      },
      std::chrono::seconds(60)));
  release_slow_.set_value();
  const auto result = slow.get();
  stopping.get();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.Header("connection"), "close");
}

TEST_F(HttpServerTest, AStreamedBodyIsChunkedMadeOffTheIoThreadAndKeepsTheConnection) {
  Start({});
  auto client = Client();
  const auto result = client.Request("GET", "/v1/stream?pieces=40");
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(result.Header("content-length").empty());
  ASSERT_EQ(result.body.size(), 6 + 40 * 64 * 1024u);
  EXPECT_EQ(result.body.substr(0, 6), "start\n");
  EXPECT_EQ(result.body.back(), 'a' + 39 % 26);
  EXPECT_FALSE(made_on_io_thread_);
  // The connection is still usable: the chunked body ended where the client expected it.
  EXPECT_EQ(client.Request("GET", "/v1/ping").status, 200);
}

TEST_F(HttpServerTest, AStreamedBodyWaitsForTheReaderSoMemoryStaysBounded) {
  Start({});
  testing::RawSocket socket(server_->port());
  // 512 pieces of 64 KiB (32 MiB) asked for, nothing read: the server makes a piece only once the
  // previous one is written, so it stops when the socket buffers are full.
  ASSERT_TRUE(
      socket.Send("GET /v1/stream?pieces=512 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int made_unread = made_.load();
  EXPECT_LT(made_unread, 300) << "pieces made while the client read nothing";
  bool closed = false;
  const auto raw = socket.ReadUntilClose(std::chrono::seconds(20), closed);
  EXPECT_EQ(made_.load(), 512);
  EXPECT_NE(raw.find("\r\n0\r\n\r\n"), std::string::npos);
  std::cout << "pieces made before the client read: " << made_unread << " of 512\n";
}

TEST_F(HttpServerTest, AStreamThatFailsCutsTheConnectionWithoutTheLastChunk) {
  Start({});
  testing::RawSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("GET /v1/stream?pieces=8&fail_at=3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const auto raw = socket.ReadUntilClose(std::chrono::seconds(10), closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(raw.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(raw.find("\r\n0\r\n\r\n"), std::string::npos) << "a failed body must not end cleanly";
  // HTTP/1.0 has no chunks: the body ends with the connection.
  testing::RawSocket old(server_->port());
  ASSERT_TRUE(old.Send("GET /v1/stream?pieces=2 HTTP/1.0\r\n\r\n"));
  const auto plain = old.ReadUntilClose(std::chrono::seconds(10), closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(plain.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(plain.substr(plain.find("\r\n\r\n") + 4).size(), 6 + 2 * 64 * 1024u);
}

}  // namespace
}  // namespace jilaf::http
