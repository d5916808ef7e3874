// OpenID Connect key sources against a small identity provider served in-process over real
// sockets (issue 22, part 1): discovery, JWKS caching and refresh, rotation overlap, and the bad
// inputs a real provider cannot be made to produce (garbage, huge bodies, unsupported keys, a
// lying discovery document). The same flows against a real Keycloak are in tests/e2e/idp_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "common/auth/jwt.hpp"
#include "common/auth/oidc.hpp"
#include "common/http/server.hpp"
#include "tests/support/keys.hpp"

namespace jilaf::auth {
namespace {

using namespace std::chrono_literals;

// Polls `condition` until it holds or a generous deadline passes.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::seconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// A provider whose discovery document and JWKS the test rewrites at will.
class FakeProvider {
 public:
  FakeProvider() : runtime_(1, 2) {
    http::ServerOptions options;
    options.address = "127.0.0.1";
    server_ = std::make_unique<http::HttpServer>(
        runtime_, options, [this](http::Request& request) { return Answer(request); });
    server_->Start();
    runtime_.Start();
    issuer_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/realms/test";
    discovery_ = {{"issuer", issuer_}, {"jwks_uri", issuer_ + "/certs"}};
  }
  ~FakeProvider() { Stop(); }

  void Stop() {
    if (!server_) return;
    server_->Stop(1000ms);
    runtime_.Stop();
    server_.reset();
  }

  const std::string& issuer() const { return issuer_; }
  void SetDiscovery(nlohmann::json doc) {
    std::lock_guard lock(mutex_);
    discovery_ = std::move(doc);
  }
  void SetJwks(std::string body, std::string cache_control = "no-cache") {
    std::lock_guard lock(mutex_);
    jwks_ = std::move(body);
    cache_control_ = std::move(cache_control);
  }
  void SetKeys(const std::vector<nlohmann::json>& keys) {
    SetJwks(nlohmann::json({{"keys", keys}}).dump());
  }
  int jwks_requests() const { return jwks_requests_.load(); }

 private:
  http::Response Answer(const http::Request& request) {
    std::lock_guard lock(mutex_);
    if (request.path == "/realms/test/.well-known/openid-configuration") {
      return http::Response::Json(200, discovery_);
    }
    if (request.path == "/realms/test/certs") {
      ++jwks_requests_;
      auto response = http::Response::JsonText(200, jwks_);
      response.SetHeader("Cache-Control", cache_control_);
      return response;
    }
    return http::Response::Empty(404);
  }

  http::Runtime runtime_;
  std::unique_ptr<http::HttpServer> server_;
  std::string issuer_;
  std::mutex mutex_;
  nlohmann::json discovery_;
  std::string jwks_ = R"({"keys": []})";
  std::string cache_control_ = "no-cache";
  std::atomic<int> jwks_requests_{0};
};

class OidcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new testing::KeyPair(testing::GenerateRsaKeyPair());
    rsa2_ = new testing::KeyPair(testing::GenerateRsaKeyPair());
    ec_ = new testing::KeyPair(testing::GenerateEcKeyPair());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete rsa2_;
    delete ec_;
  }

  static nlohmann::json Jwk(const testing::KeyPair& keys, const std::string& kid) {
    return VerificationKey::FromPem(keys.public_pem)->ToJwk(kid);
  }

  OidcOptions Options(std::chrono::seconds min_refresh = 1s) const {
    OidcOptions options;
    options.issuer = provider_.issuer();
    options.min_refresh = min_refresh;
    options.max_refresh = 3600s;
    options.fetch_timeout = 2000ms;
    return options;
  }

  // A verifier trusting the provider, roles mapped from Keycloak's realm claim.
  JwtVerifier Verifier(std::shared_ptr<const OidcKeySource> source) const {
    ClaimPolicy policy;
    policy.audience = "jilaf-api";
    policy.role_claims = {"realm_access.roles"};
    policy.role_map = {{"jilaf-staff", Role::kStaff}};
    policy.require_user_id = true;
    JwtVerifier verifier;
    verifier.AddIssuer(provider_.issuer(), policy, std::move(source));
    return verifier;
  }

  nlohmann::json Claims() const {
    return {{"iss", provider_.issuer()},
            {"aud", "jilaf-api"},
            {"sub", "u-1"},
            {"iat", testing::Now()},
            {"exp", testing::Now() + 300},
            {"realm_access", {{"roles", {"jilaf-staff", "offline_access"}}}}};
  }

  static testing::KeyPair* rsa_;
  static testing::KeyPair* rsa2_;
  static testing::KeyPair* ec_;
  FakeProvider provider_;
};

testing::KeyPair* OidcTest::rsa_ = nullptr;
testing::KeyPair* OidcTest::rsa2_ = nullptr;
testing::KeyPair* OidcTest::ec_ = nullptr;

TEST_F(OidcTest, AcceptsTokensOfEveryPublishedKeyByKid) {
  provider_.SetKeys({Jwk(*rsa_, "rsa-1"), Jwk(*ec_, "ec-1")});
  auto source = std::make_shared<OidcKeySource>(Options());
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);

  const auto rs = verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "rsa-1"));
  ASSERT_TRUE(rs.ok) << rs.error;
  EXPECT_EQ(rs.principal.subject, "u-1");
  EXPECT_TRUE(rs.principal.Has(Role::kStaff));
  const auto es = verifier.Verify(SignJwt(ec_->private_pem, Claims(), "ec-1"));
  EXPECT_TRUE(es.ok) << es.error;
  // The right kid with another key's signature is still a forgery.
  EXPECT_EQ(verifier.Verify(SignJwt(rsa2_->private_pem, Claims(), "rsa-1")).error,
            "token signature does not verify");
  EXPECT_EQ(source->State(), KeyState::kOk);
}

TEST_F(OidcTest, RotatedKeyIsAcceptedAfterARefreshWhileTheOldOneStillWorks) {
  provider_.SetKeys({Jwk(*rsa_, "old")});
  auto source = std::make_shared<OidcKeySource>(Options(1s));
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  const auto rotated = SignJwt(rsa2_->private_pem, Claims(), "new");

  const auto before = verifier.Verify(rotated);
  EXPECT_FALSE(before.ok);
  EXPECT_NE(before.error.find("unknown key"), std::string::npos) << before.error;

  provider_.SetKeys({Jwk(*rsa_, "old"), Jwk(*rsa2_, "new")});  // rotation overlap
  EXPECT_TRUE(Eventually([&] { return verifier.Verify(rotated).ok; }));
  EXPECT_TRUE(verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "old")).ok);
}

TEST_F(OidcTest, UnknownKidsCauseNoRefreshStorm) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  // One fetch per hour at most: the start-up fetch is the only one this test may see.
  auto source = std::make_shared<OidcKeySource>(Options(3600s));
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  for (int i = 0; i < 500; ++i) {
    const auto result =
        verifier.Verify(SignJwt(rsa2_->private_pem, Claims(), "unknown-" + std::to_string(i % 7)));
    ASSERT_FALSE(result.ok);
  }
  // The refresher is awake and waiting out its interval; give it the chance to misbehave.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(provider_.jwks_requests(), 1);
  EXPECT_EQ(source->FetchCount(), 1u);
  EXPECT_TRUE(verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1")).ok);
}

TEST_F(OidcTest, GarbageJwksLeavesNoKeysAndSaysWhy) {
  provider_.SetJwks("<html>502 Bad Gateway</html>");
  auto source = std::make_shared<OidcKeySource>(Options());
  EXPECT_FALSE(source->WaitForFirstFetch(30s));
  EXPECT_EQ(source->State(), KeyState::kUnavailable);
  const auto verifier = Verifier(source);
  const auto result = verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1"));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("not a JWKS"), std::string::npos) << result.error;

  // The provider recovers: the next scheduled fetch loads the keys.
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  EXPECT_TRUE(
      Eventually([&] { return verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1")).ok; }));
}

TEST_F(OidcTest, HugeJwksIsRefusedWithoutReadingItAll) {
  auto options = Options();
  options.max_body_bytes = 64 * 1024;
  provider_.SetJwks(R"({"keys": [], "padding": ")" + std::string(1024 * 1024, 'x') + R"("})");
  auto source = std::make_shared<OidcKeySource>(options);
  EXPECT_FALSE(source->WaitForFirstFetch(30s));
  const auto described = source->Describe();
  ASSERT_TRUE(described.contains("last_error"));
  EXPECT_NE(described["last_error"].get<std::string>().find("larger than 65536 bytes"),
            std::string::npos)
      << described.dump();
}

TEST_F(OidcTest, UnsupportedKeyTypesAreRefusedAndNamed) {
  auto weak = Jwk(*rsa_, "rs384");
  weak["alg"] = "RS384";
  provider_.SetKeys(
      {Jwk(*rsa_, "good"),
       {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
       {{"kty", "OKP"}, {"kid", "ed"}, {"crv", "Ed25519"}, {"x", "AAAA"}},
       {{"kty", "EC"}, {"kid", "p384"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}},
       weak,
       {{"kty", "RSA"}, {"kid", "enc"}, {"use", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}}});
  auto source = std::make_shared<OidcKeySource>(Options());
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  EXPECT_TRUE(verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "good")).ok);
  const std::map<std::string, std::string> expected = {{"hmac", "key type oct"},
                                                       {"ed", "key type OKP"},
                                                       {"p384", "P-256"},
                                                       {"rs384", "RS384"},
                                                       {"enc", "encryption key"}};
  for (const auto& [kid, reason] : expected) {
    const auto result = verifier.Verify(SignJwt(rsa_->private_pem, Claims(), kid));
    EXPECT_FALSE(result.ok) << kid;
    EXPECT_NE(result.error.find(reason), std::string::npos) << kid << ": " << result.error;
  }
}

TEST_F(OidcTest, DiscoveryNamingAnotherIssuerIsRefused) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  provider_.SetDiscovery({{"issuer", "https://evil.example/realms/test"},
                          {"jwks_uri", provider_.issuer() + "/certs"}});
  auto source = std::make_shared<OidcKeySource>(Options());
  EXPECT_FALSE(source->WaitForFirstFetch(30s));
  EXPECT_NE(
      source->Describe()["last_error"].get<std::string>().find("is not " + provider_.issuer()),
      std::string::npos);
}

TEST_F(OidcTest, TokenOfAnotherIssuerIsRefusedAndOthersStillServed) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  auto source = std::make_shared<OidcKeySource>(Options());
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  auto claims = Claims();
  claims["iss"] = provider_.issuer() + "-other";
  const auto result = verifier.Verify(SignJwt(rsa_->private_pem, claims, "k1"));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("issuer"), std::string::npos) << result.error;
  EXPECT_TRUE(verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1")).ok);
}

TEST_F(OidcTest, ProviderDownLeavesCachedKeysServingAndTheStateStale) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  auto options = Options(1s);
  options.fetch_timeout = 500ms;
  auto source = std::make_shared<OidcKeySource>(options);
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  provider_.Stop();
  ASSERT_TRUE(Eventually([&] { return source->State() == KeyState::kStale; }));
  const auto result = verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1"));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(source->Describe().contains("last_error"));
}

TEST_F(OidcTest, CachedKeysExpireByPolicyWhenTheProviderStaysAway) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  auto options = Options(1s);
  options.key_max_age = 2s;
  options.fetch_timeout = 500ms;
  auto source = std::make_shared<OidcKeySource>(options);
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  const auto verifier = Verifier(source);
  provider_.Stop();
  ASSERT_TRUE(Eventually([&] { return source->State() == KeyState::kUnavailable; }));
  const auto expired = verifier.Verify(SignJwt(rsa_->private_pem, Claims(), "k1"));
  EXPECT_FALSE(expired.ok);
  EXPECT_NE(expired.error.find("expired"), std::string::npos) << expired.error;
}

TEST_F(OidcTest, JwksIsFetchedAgainOnlyWhenItsCacheLifetimeEnds) {
  provider_.SetKeys({Jwk(*rsa_, "k1")});
  provider_.SetJwks(nlohmann::json({{"keys", {Jwk(*rsa_, "k1")}}}).dump(), "public, max-age=3600");
  auto source = std::make_shared<OidcKeySource>(Options(1s));
  ASSERT_TRUE(source->WaitForFirstFetch(30s));
  std::this_thread::sleep_for(1500ms);  // past min_refresh: a no-cache JWKS would be refetched
  EXPECT_EQ(provider_.jwks_requests(), 1);
}

TEST(HttpFreshness, ReadsMaxAgeNoCacheAndExpires) {
  HttpFetch response;
  response.cache_control = "public, max-age=300";
  EXPECT_EQ(Freshness(response), std::chrono::seconds(300));
  response.cache_control = "no-cache";
  EXPECT_EQ(Freshness(response), std::chrono::seconds(0));
  response.cache_control.clear();
  EXPECT_EQ(Freshness(response), std::nullopt);
  response.date = "Sat, 05 Dec 2026 01:00:00 GMT";
  response.expires = "Sat, 05 Dec 2026 02:00:00 GMT";
  EXPECT_EQ(Freshness(response), std::chrono::seconds(3600));
  response.expires = "0";
  EXPECT_EQ(Freshness(response), std::chrono::seconds(0));
}

}  // namespace
}  // namespace jilaf::auth
