#include "common/http/cors.hpp"

#include <gtest/gtest.h>
#include <strings.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "common/http/pipeline.hpp"
#include "common/http/rate_limit.hpp"
#include "common/service/service.hpp"
#include "tests/support/keys.hpp"

namespace jilaf::http {
namespace {

constexpr std::string_view kPortal = "https://portal.example.org";

std::vector<std::string> Origins(std::string_view list) {
  std::vector<std::string> out;
  const auto error = ParseAllowedOrigins(list, out);
  EXPECT_FALSE(error.has_value()) << *error;
  return out;
}

bool Refused(std::string_view list) {
  std::vector<std::string> out;
  return ParseAllowedOrigins(list, out).has_value();
}

// True if the response carries any Access-Control-* header.
bool HasCorsHeaders(const Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (name.size() >= 15 && strncasecmp(name.c_str(), "access-control-", 15) == 0) return true;
  }
  return false;
}

bool ListsToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (strncasecmp(item.data(), token.data(), token.size()) == 0 && item.size() == token.size()) {
      return true;
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

Request Preflight(std::string_view origin, std::string_view path = "/v1/things") {
  Request request;
  request.method = Method::kOptions;
  request.path = std::string(path);
  request.remote_address = "192.0.2.1";
  request.headers.emplace_back("origin", std::string(origin));
  request.headers.emplace_back("access-control-request-method", "PATCH");
  request.headers.emplace_back("access-control-request-headers",
                               "authorization,content-type,if-match");
  return request;
}

TEST(CorsOrigins, AreNormalisedAsBrowsersSerialiseThem) {
  EXPECT_EQ(Origins(" HTTPS://Portal.Example.org:443 , http://127.0.0.1:5173,http://a.test:80"),
            (std::vector<std::string>{"https://portal.example.org", "http://127.0.0.1:5173",
                                      "http://a.test"}));
  EXPECT_EQ(Origins("http://[::1]:8080"), (std::vector<std::string>{"http://[::1]:8080"}));
  EXPECT_EQ(Origins("https://a.test,https://a.test:443"),
            (std::vector<std::string>{"https://a.test"}));
  EXPECT_TRUE(Origins("").empty());
  EXPECT_TRUE(Origins(" , ").empty());
}

TEST(CorsOrigins, RefusesWildcardsPathsAndNonOrigins) {
  for (const char* bad :
       {"*", "null", "https://*.example.org", "https://portal.example.org/",
        "https://portal.example.org/app", "portal.example.org", "ftp://a.test",
        "https://user@a.test", "https://a.test:0", "https://a.test:65536", "https://a.test:port",
        "https://", "https://.a.test", "https://a.test?x", "https://[zz]", "https://a.test, *"}) {
    EXPECT_TRUE(Refused(bad)) << bad;
  }
}

TEST(CorsPreflight, AnswersAnAllowedOriginWithMethodsHeadersAndMaxAge) {
  const CorsPolicy policy({Origins("https://portal.example.org"), 900});
  const auto request = Preflight(kPortal);
  ASSERT_TRUE(CorsPolicy::IsPreflight(request));
  const auto response = policy.Preflight(request);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), kPortal);
  EXPECT_EQ(response.Header("Access-Control-Max-Age"), "900");
  EXPECT_EQ(response.Header("Vary"), "Origin");
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    EXPECT_TRUE(ListsToken(response.Header("Access-Control-Allow-Methods"), method)) << method;
  }
  for (const char* header : {"Authorization", "Content-Type", "If-Match", "Idempotency-Key",
                             "X-Request-Id", "traceparent"}) {
    EXPECT_TRUE(ListsToken(response.Header("Access-Control-Allow-Headers"), header)) << header;
  }
  // Bearer tokens, no cookies: credentials are never allowed, and never with a wildcard.
  EXPECT_EQ(response.Header("Access-Control-Allow-Credentials"), "");
  EXPECT_TRUE(response.body.empty());
}

TEST(CorsPreflight, RefusedAndHostileOriginsGetNoCorsHeadersAndNoError) {
  const CorsPolicy policy({Origins("https://portal.example.org"), 600});
  const std::string huge = "https://" + std::string(5000, 'a') + ".test";
  for (const std::string& origin : std::vector<std::string>{
           "https://evil.example", "null", "https://portal.example.org.evil.example",
           "http://portal.example.org", "https://PORTAL.example.org",
           "https://portal.example.org:8443", "https://portal.example.org/", "*",
           "https://portal.example.org\r\nX-Injected: 1", huge}) {
    const auto response = policy.Preflight(Preflight(origin));
    EXPECT_EQ(response.status, 204) << origin;
    EXPECT_FALSE(HasCorsHeaders(response)) << origin;
  }
}

TEST(CorsPreflight, NothingIsAllowedByDefault) {
  const CorsPolicy policy(CorsOptions{});
  EXPECT_FALSE(policy.Allows(kPortal));
  EXPECT_FALSE(HasCorsHeaders(policy.Preflight(Preflight(kPortal))));
  Request request;
  request.headers.emplace_back("origin", std::string(kPortal));
  Response response = Response::Empty(200);
  policy.Decorate(request, response);
  EXPECT_FALSE(HasCorsHeaders(response));
}

TEST(CorsPreflight, OnlyAnOptionsWithOriginAndRequestMethodIsOne) {
  auto request = Preflight(kPortal);
  request.method = Method::kGet;
  EXPECT_FALSE(CorsPolicy::IsPreflight(request));
  Request no_method;
  no_method.method = Method::kOptions;
  no_method.headers.emplace_back("origin", std::string(kPortal));
  EXPECT_FALSE(CorsPolicy::IsPreflight(no_method));
}

TEST(CorsActualResponse, AllowedOriginMayReadTheExposedHeaders) {
  const CorsPolicy policy({Origins("https://portal.example.org"), 600});
  Request request;
  request.headers.emplace_back("origin", std::string(kPortal));
  Response response = Response::Empty(200);
  response.SetHeader("Vary", "Accept-Encoding");
  policy.Decorate(request, response);
  EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), kPortal);
  EXPECT_EQ(response.Header("Vary"), "Accept-Encoding, Origin");
  for (const char* header :
       {"ETag", "Location", "Link", "Retry-After", "X-Request-Id", "Idempotent-Replayed"}) {
    EXPECT_TRUE(ListsToken(response.Header("Access-Control-Expose-Headers"), header)) << header;
  }
}

TEST(CorsActualResponse, OtherOriginsAndNoOriginGetOnlyVary) {
  const CorsPolicy policy({Origins("https://portal.example.org"), 600});
  for (const std::string& origin : std::vector<std::string>{"https://evil.example", "null", ""}) {
    Request request;
    if (!origin.empty()) request.headers.emplace_back("origin", origin);
    Response response = Response::Empty(200);
    policy.Decorate(request, response);
    EXPECT_FALSE(HasCorsHeaders(response)) << origin;
    // Caches must not hand an allowed origin's answer to another origin, or the reverse.
    EXPECT_EQ(response.Header("Vary"), "Origin") << origin;
  }
}

// Through the pipeline: a preflight reaches no handler and needs no token; actual responses,
// errors included, carry the headers; preflights are limited per address.
class CorsPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = testing::GenerateRsaKeyPair();
    Router router;
    router.Add(Method::kGet, "/v1/things/{id}", auth::Access::kRead, [this](Request&) {
      ++handled_;
      return Response::Json(200, {{"ok", true}}).SetHeader("ETag", "\"1\"");
    });
    router.Add(Method::kPatch, "/v1/things/{id}", auth::Access::kWrite, [this](Request&) {
      ++handled_;
      return Response::Json(200, {{"ok", true}});
    });
    pipeline_ =
        std::make_unique<Pipeline>(std::move(router),
                                   std::make_shared<const auth::JwtVerifier>(
                                       auth::JwtVerifier::FromPem(keys_.public_pem, "iss", "aud")),
                                   &metrics_, "api");
    RateLimitOptions limits;
    limits.preflight_per_second = 1;
    limits.preflight_burst = 3;
    pipeline_->SetRateLimiter(std::make_shared<RateLimiter>(limits, &metrics_));
    pipeline_->SetCors(
        std::make_shared<const CorsPolicy>(CorsOptions{Origins("https://portal.example.org"), 60}));
  }

  testing::KeyPair keys_;
  metrics::Metrics metrics_;
  std::unique_ptr<Pipeline> pipeline_;
  std::atomic<int> handled_{0};
};

TEST_F(CorsPipelineTest, PreflightNeedsNoTokenReachesNoHandlerAndRunsInline) {
  for (const char* path : {"/v1/things/7", "/v1/no-such-route"}) {
    auto request = Preflight(kPortal, path);
    EXPECT_TRUE(pipeline_->RunsInline(request));
    const auto response = pipeline_->Handle(request);
    EXPECT_EQ(response.status, 204) << path;
    EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), kPortal);
    EXPECT_FALSE(response.Header("X-Request-Id").empty());
  }
  EXPECT_EQ(handled_.load(), 0);
  EXPECT_NE(metrics_.Serialize().find(R"(route="cors-preflight",status="204")"), std::string::npos);
}

TEST_F(CorsPipelineTest, ErrorsCarryTheHeadersSoThePortalCanReadThem) {
  Request request;
  request.method = Method::kGet;
  request.path = "/v1/things/7";
  request.headers.emplace_back("origin", std::string(kPortal));
  const auto response = pipeline_->Handle(request);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), kPortal);
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");
}

TEST_F(CorsPipelineTest, RefusedOriginIsServedAsWithoutOriginButWithoutCorsHeaders) {
  Request request;
  request.method = Method::kGet;
  request.path = "/v1/things/7";
  request.headers.emplace_back("origin", "https://evil.example");
  const auto response = pipeline_->Handle(request);
  EXPECT_EQ(response.status, 401);  // the usual answer: no extra error for the origin
  EXPECT_FALSE(HasCorsHeaders(response));
}

TEST_F(CorsPipelineTest, PreflightFloodIsLimitedPerAddress) {
  for (int i = 0; i < 3; ++i) {
    auto request = Preflight(kPortal);
    EXPECT_EQ(pipeline_->Handle(request).status, 204) << i;
  }
  auto flood = Preflight(kPortal);
  const auto refused = pipeline_->Handle(flood);
  EXPECT_EQ(refused.status, 429);
  EXPECT_FALSE(refused.Header("Retry-After").empty());
  EXPECT_EQ(nlohmann::json::parse(refused.body)["status"], 429);
  auto other = Preflight(kPortal);
  other.remote_address = "192.0.2.2";
  EXPECT_EQ(pipeline_->Handle(other).status, 204);
  EXPECT_NE(metrics_.Serialize().find(R"(class="any",scope="preflight")"), std::string::npos);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(CorsPipelineTest, OptionsWithoutOriginIsStillRouted) {
  Request request;
  request.method = Method::kOptions;
  request.path = "/v1/things/7";
  const auto response = pipeline_->Handle(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_FALSE(HasCorsHeaders(response));
}

}  // namespace
}  // namespace jilaf::http

namespace jilaf::service {
namespace {

TEST(CorsConfiguration, AWildcardOrPathStopsTheServiceAtStart) {
  ServiceConfig config;
  config.jwt_public_key = "jwt-public.pem";
  config.db_path = "service.db";
  EXPECT_FALSE(config.Validate().has_value());
  config.cors_allowed_origins = "https://portal.example.org, http://127.0.0.1:5173";
  EXPECT_FALSE(config.Validate().has_value());
  for (const char* bad : {"*", "https://portal.example.org/app", "null"}) {
    config.cors_allowed_origins = bad;
    const auto error = config.Validate();
    ASSERT_TRUE(error.has_value()) << bad;
    EXPECT_NE(error->find("--cors-allowed-origins"), std::string::npos) << *error;
  }
}

}  // namespace
}  // namespace jilaf::service
