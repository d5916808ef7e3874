// Webhook delivery against real HTTP servers on 127.0.0.1 (issue 19, part 2): a local server is
// reached only when its host is listed for development, a name that resolves to loopback is
// refused at delivery, redirects are not followed, and the answer is bounded in size and time.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "common/http/server.hpp"
#include "services/notifications/channels.hpp"

namespace jilaf::notifications {
namespace {

using namespace std::chrono_literals;

/// A real HTTP server on 127.0.0.1 that counts requests and answers with `answer`.
class LocalServer {
 public:
  explicit LocalServer(std::function<http::Response()> answer) : answer_(std::move(answer)) {
    runtime_ = std::make_unique<http::Runtime>(1, 2);
    http::ServerOptions options;
    options.name = "egress-test";
    options.address = "127.0.0.1";
    server_ = std::make_unique<http::HttpServer>(*runtime_, options, [this](http::Request&) {
      ++requests_;
      return answer_();
    });
    server_->Start();
    runtime_->Start();
  }
  ~LocalServer() {
    server_->Stop(std::chrono::milliseconds(1000));
    runtime_->Stop();
  }
  [[nodiscard]] std::string Url(const std::string& scheme = "http",
                                const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(server_->port()) + "/hook";
  }
  [[nodiscard]] int Requests() const { return requests_; }

 private:
  std::function<http::Response()> answer_;
  std::unique_ptr<http::Runtime> runtime_;
  std::unique_ptr<http::HttpServer> server_;
  std::atomic<int> requests_{0};
};

WebhookOptions Listing(const std::string& hosts) {
  WebhookOptions options;
  options.egress = EgressPolicy::Parse(hosts);
  options.timeout_ms = 5000;
  return options;
}

SendResult Post(const std::string& url, const WebhookOptions& options) {
  return PostWebhook(url, R"({"id":"1"})", {{"X-Jilaf-Delivery", "d1"}}, options);
}

TEST(WebhookEgress, ReachesALocalServerOnlyWhenItsHostIsListed) {
  LocalServer server([] { return http::Response::Empty(204); });
  auto result = Post(server.Url(), Listing("127.0.0.1"));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(server.Requests(), 1);

  result = Post(server.Url(), Listing(""));
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.permanent);
  EXPECT_EQ(result.category, "refused_url") << result.error;  // plain http, host not listed
  result = Post(server.Url("https"), Listing(""));
  EXPECT_EQ(result.category, "refused_address") << result.error;
  EXPECT_NE(result.error.find("loopback"), std::string::npos) << result.error;
  result = Post(server.Url("https", "[::ffff:127.0.0.1]"), Listing(""));
  EXPECT_EQ(result.category, "refused_address") << result.error;
  EXPECT_EQ(server.Requests(), 1);  // none of the refused ones reached it
}

TEST(WebhookEgress, RefusesAtDeliveryANameThatResolvesToLoopback) {
  LocalServer server([] { return http::Response::Empty(204); });
  // Listing the address does not list a name that resolves to it: the name is checked itself.
  const auto result = Post(server.Url("https", "localhost"), Listing("127.0.0.1"));
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.permanent);
  EXPECT_EQ(result.category, "refused_address") << result.error;
  EXPECT_EQ(server.Requests(), 0);
  // The same name, listed, is reached over the address it resolved to.
  EXPECT_TRUE(Post(server.Url("http", "localhost"), Listing("localhost")).ok);
  EXPECT_EQ(server.Requests(), 1);
}

TEST(WebhookEgress, DoesNotFollowARedirectToAPrivateAddress) {
  LocalServer inside([] { return http::Response::Empty(204); });
  const std::string inside_url = inside.Url();
  LocalServer redirecting([&inside_url] {
    auto response = http::Response::Empty(302);
    response.SetHeader("Location", inside_url);
    return response;
  });
  const auto result = Post(redirecting.Url(), Listing("127.0.0.1"));
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.permanent);
  EXPECT_EQ(result.category, "redirect") << result.error;
  EXPECT_EQ(redirecting.Requests(), 1);
  EXPECT_EQ(inside.Requests(), 0);

  LocalServer to_metadata([] {
    auto response = http::Response::Empty(307);
    response.SetHeader("Location", "http://169.254.169.254/latest/meta-data/");
    return response;
  });
  EXPECT_EQ(Post(to_metadata.Url(), Listing("127.0.0.1")).category, "redirect");
}

TEST(WebhookEgress, BoundsTheSizeOfTheAnswer) {
  LocalServer server([] { return http::Response::JsonText(200, std::string(200000, ' ') + "{}"); });
  auto options = Listing("127.0.0.1");
  options.max_response_bytes = 1024;
  const auto result = Post(server.Url(), options);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.category, "response_too_large") << result.error;
  options.max_response_bytes = 1 << 20;
  EXPECT_TRUE(Post(server.Url(), options).ok);
}

TEST(WebhookEgress, BoundsTheTimeOfTheExchange) {
  LocalServer server([] {
    std::this_thread::sleep_for(1500ms);
    return http::Response::Empty(204);
  });
  auto options = Listing("127.0.0.1");
  options.timeout_ms = 200;
  const auto started = std::chrono::steady_clock::now();
  const auto result = Post(server.Url(), options);
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.permanent);
  EXPECT_EQ(result.category, "timeout") << result.error;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1200ms);
}

TEST(WebhookEgress, RefusesOtherProtocolsAtDelivery) {
  for (const char* url : {"file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://127.0.0.1/"}) {
    const auto result = Post(url, Listing("127.0.0.1"));
    EXPECT_FALSE(result.ok) << url;
    EXPECT_EQ(result.category, "refused_url") << url;
  }
}

}  // namespace
}  // namespace jilaf::notifications
