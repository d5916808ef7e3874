// Authentication edge cases (issue 9, part 5): tokens an attacker can build, each refused with a
// reason and without a crash. The happy path and the basic refusals are in jwt_test.cpp.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <random>

#include "common/auth/jwt.hpp"
#include "tests/support/keys.hpp"

namespace jilaf::auth {
namespace {

using testing::kAudience;
using testing::kIssuer;
using testing::Now;

// Signs header.payload with the RSA private key and the given digest, whatever `alg` says: the
// attacker controls the header, so the verifier must not trust it.
std::string SignRaw(const std::string& private_pem, const std::string& header_text,
                    const std::string& payload_text, const EVP_MD* md = EVP_sha256()) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  const std::string input = Base64UrlEncode(header_text) + "." + Base64UrlEncode(payload_text);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  std::string signature(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  signature.resize(len);
  return input + "." + Base64UrlEncode(signature);
}

class JwtAttackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new testing::KeyPair(testing::GenerateRsaKeyPair()); }
  static void TearDownTestSuite() { delete keys_; }
  static JwtVerifier Verifier() {
    return JwtVerifier::FromPem(keys_->public_pem, kIssuer, kAudience);
  }
  // A token with a header of the test's choosing, properly signed with RS256 by the real key.
  static std::string WithHeader(const nlohmann::json& header,
                                const nlohmann::json& claims = testing::StaffClaims()) {
    return SignRaw(keys_->private_pem, header.dump(), claims.dump());
  }
  static std::string WithClaims(const nlohmann::json& claims) {
    return WithHeader({{"alg", "RS256"}, {"typ", "JWT"}}, claims);
  }
  static testing::KeyPair* keys_;
};
testing::KeyPair* JwtAttackTest::keys_ = nullptr;

TEST_F(JwtAttackTest, ReferenceTokenBuiltByTheTestHelperIsAccepted) {
  // Guards every refusal below: the helper itself makes acceptable tokens.
  const auto result = Verifier().Verify(WithClaims(testing::StaffClaims()));
  EXPECT_TRUE(result.ok) << result.error;
}

TEST_F(JwtAttackTest, RefusesEveryAlgorithmButTheKeysOwn) {
  const std::string payload = testing::StaffClaims().dump();
  struct Case {
    std::string name;
    std::string token;
  };
  std::vector<Case> cases;
  // Signed for real with SHA-512 / SHA-384: a valid signature under a weaker policy.
  cases.push_back(
      {"RS512", SignRaw(keys_->private_pem, R"({"alg":"RS512"})", payload, EVP_sha512())});
  cases.push_back(
      {"RS384", SignRaw(keys_->private_pem, R"({"alg":"RS384"})", payload, EVP_sha384())});
  cases.push_back({"PS256", SignRaw(keys_->private_pem, R"({"alg":"PS256"})", payload)});
  cases.push_back(
      {"ES256 on an RSA key", SignRaw(keys_->private_pem, R"({"alg":"ES256"})", payload)});
  cases.push_back({"lower-case rs256", SignRaw(keys_->private_pem, R"({"alg":"rs256"})", payload)});
  cases.push_back({"alg as a number", SignRaw(keys_->private_pem, R"({"alg":256})", payload)});
  cases.push_back(
      {"alg as an array", SignRaw(keys_->private_pem, R"({"alg":["RS256"]})", payload)});
  cases.push_back({"no alg", SignRaw(keys_->private_pem, R"({"typ":"JWT"})", payload)});
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    const std::string header = std::string(R"({"alg":")") + none + R"("})";
    cases.push_back({none, Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "."});
  }
  {
    // HS256 keyed with the verifier's own public key text: the classic key-confusion attack.
    const std::string input =
        Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), keys_->public_pem.data(), static_cast<int>(keys_->public_pem.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    cases.push_back(
        {"HS256 with the public key as secret",
         input + "." +
             Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len))});
  }
  for (const auto& c : cases) {
    const auto result = Verifier().Verify(c.token);
    EXPECT_FALSE(result.ok) << c.name;
    EXPECT_FALSE(result.error.empty()) << c.name;
    EXPECT_FALSE(result.principal.authenticated) << c.name;
  }
}

TEST_F(JwtAttackTest, RefusesAnUnknownKeyIdEvenWhenTheSignatureVerifies) {
  const auto result = Verifier().Verify(WithHeader({{"alg", "RS256"}, {"kid", "key-2024-07"}}));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token kid names an unknown key");
}

TEST_F(JwtAttackTest, RefusesKeyIdsThatTryAPathOrAnotherType) {
  const std::vector<nlohmann::json> kids = {"../../etc/passwd",
                                            "..%2F..%2Fetc%2Fpasswd",
                                            "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                            "/etc/passwd",
                                            "keys/../../secret",
                                            "C:\\keys\\k.pem",
                                            "file:///etc/passwd",
                                            "http://attacker.example/jwks.json",
                                            std::string("key\0id", 6),
                                            "key id",
                                            "",
                                            std::string(200, 'k'),
                                            42,
                                            nlohmann::json::array({"a"}),
                                            nullptr};
  for (const auto& kid : kids) {
    const auto result = Verifier().Verify(WithHeader({{"alg", "RS256"}, {"kid", kid}}));
    EXPECT_FALSE(result.ok) << kid.dump();
    EXPECT_EQ(result.error, "token kid is not a plain key identifier") << kid.dump();
  }
}

TEST_F(JwtAttackTest, AcceptsTheKeysOwnThumbprintAsKeyId) {
  const auto verifier = Verifier();
  EXPECT_EQ(verifier.key_id().size(), 43u);  // base64url of a SHA-256 digest
  const auto result = verifier.Verify(WithHeader({{"alg", "RS256"}, {"kid", verifier.key_id()}}));
  EXPECT_TRUE(result.ok) << result.error;
  // A second key has another thumbprint, so its id is "unknown" to this verifier.
  const auto other = testing::GenerateRsaKeyPair();
  EXPECT_NE(JwtVerifier::FromPem(other.public_pem, kIssuer, kAudience).key_id(), verifier.key_id());
}

TEST_F(JwtAttackTest, RefusesCriticalHeaderExtensions) {
  const auto result =
      Verifier().Verify(WithHeader({{"alg", "RS256"}, {"crit", {"exp"}}, {"exp", 1}}));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token header has crit extensions");
}

TEST_F(JwtAttackTest, RefusesNotBeforeInTheFutureButAllowsTheLeeway) {
  auto claims = testing::StaffClaims();
  claims["nbf"] = Now() + 120;
  auto result = Verifier().Verify(WithClaims(claims));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token not valid yet");
  claims["nbf"] = Now() + 2;  // within the 5 s clock skew
  result = Verifier().Verify(WithClaims(claims));
  EXPECT_TRUE(result.ok) << result.error;
  claims["nbf"] = "tomorrow";
  result = Verifier().Verify(WithClaims(claims));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token nbf is not a usable time");
}

TEST_F(JwtAttackTest, RefusesMissingOrUnusableExpiry) {
  std::vector<nlohmann::json> expiries = {"never",
                                          nullptr,
                                          true,
                                          nlohmann::json::array({Now() + 600}),
                                          nlohmann::json::object({{"at", Now() + 600}}),
                                          1e300,
                                          -1e300,
                                          std::numeric_limits<std::uint64_t>::max(),
                                          std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min()};
  auto without = testing::StaffClaims();
  without.erase("exp");
  auto result = Verifier().Verify(WithClaims(without));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token has no usable exp");
  for (const auto& exp : expiries) {
    auto claims = testing::StaffClaims();
    claims["exp"] = exp;
    result = Verifier().Verify(WithClaims(claims));
    EXPECT_FALSE(result.ok) << exp.dump();
  }
  // A fractional expiry in the future is still a time.
  auto claims = testing::StaffClaims();
  claims["exp"] = static_cast<double>(Now()) + 600.5;
  result = Verifier().Verify(WithClaims(claims));
  EXPECT_TRUE(result.ok) << result.error;
}

TEST_F(JwtAttackTest, RefusesOversizedTokensBeforeParsingThem) {
  auto claims = testing::StaffClaims();
  claims["padding"] = std::string(JwtVerifier::kMaxTokenBytes, 'p');
  auto result = Verifier().Verify(WithClaims(claims));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token longer than 8192 bytes");
  result = Verifier().Verify(
      WithHeader({{"alg", "RS256"}, {"x5c", std::string(JwtVerifier::kMaxTokenBytes, 'h')}}));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token longer than 8192 bytes");
  // A megabyte of dots and letters: refused by length alone, quickly.
  result = Verifier().Verify(std::string(1 << 20, '.'));
  EXPECT_FALSE(result.ok);
}

TEST_F(JwtAttackTest, RefusesMalformedSegments) {
  const auto good = WithClaims(testing::StaffClaims());
  const auto dot1 = good.find('.');
  const auto dot2 = good.find('.', dot1 + 1);
  const std::string header = good.substr(0, dot1);
  const std::string payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string signature = good.substr(dot2 + 1);
  const std::vector<std::string> tokens = {
      "",
      ".",
      "..",
      "...",
      header,
      header + "." + payload,
      good + ".",
      good + "." + signature,
      header + "==." + payload + "." + signature,      // padding is not base64url
      header + "." + payload + "+/." + signature,      // standard alphabet
      header + "." + payload + "." + signature + "A",  // 4n+1 characters
      "!!!!." + payload + "." + signature,             // not base64 at all
      Base64UrlEncode("{not json") + "." + payload + "." + signature,
      Base64UrlEncode("[\"RS256\"]") + "." + payload + "." + signature,
      Base64UrlEncode("\"RS256\"") + "." + payload + "." + signature,
      Base64UrlEncode(std::string("{\"alg\":\"RS256\"}\0", 16)) + "." + payload + "." + signature,
      Base64UrlEncode("{\"alg\":\"RS\xff\xfe\"}") + "." + payload + "." + signature,
      header + "." + payload + "." + signature.substr(0, signature.size() / 2),
      header + "." + payload + ".",
  };
  for (const auto& token : tokens) {
    const auto result = Verifier().Verify(token);
    EXPECT_FALSE(result.ok) << token.substr(0, 80);
    EXPECT_FALSE(result.error.empty()) << token.substr(0, 80);
  }
}

TEST_F(JwtAttackTest, RefusesSignedPayloadsThatAreNotClaimObjects) {
  const std::string header = R"({"alg":"RS256"})";
  const std::string deep = std::string(2000, '[') + std::string(2000, ']');
  for (const std::string& payload :
       {std::string("not json"), std::string("[1,2]"), std::string("\"claims\""),
        std::string("null"), deep, std::string("{\"iss\":\"jilaf-test\"")}) {
    const auto result = Verifier().Verify(SignRaw(keys_->private_pem, header, payload));
    EXPECT_FALSE(result.ok) << payload.substr(0, 40);
  }
}

TEST_F(JwtAttackTest, RandomMutationsOfAValidTokenAreNeverAccepted) {
  const auto good = WithClaims(testing::StaffClaims());
  const auto verifier = Verifier();
  std::mt19937 random(20240917);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x01\xff";
  // The three decoded segments of a token (empty when it does not have three).
  auto decoded = [](const std::string& token) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
      const auto dot = token.find('.', start);
      std::string part;
      if (!Base64UrlDecode(token.substr(start, dot - start), part))
        return std::vector<std::string>{};
      parts.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string token = good;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const auto at = random() % token.size();
      switch (random() % 3) {
        case 0:
          token[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          token.erase(at, 1 + random() % 4);
          break;
        default:
          token.insert(at, 1, alphabet[random() % alphabet.size()]);
      }
      if (token.empty()) token = ".";
    }
    if (token == good) continue;
    const auto result = verifier.Verify(token);
    if (!result.ok) {
      ++refused;
      continue;
    }
    // base64url has spare low bits in the last character of a segment: a change there can
    // decode to the same bytes, which is the same token. Anything else must be refused.
    EXPECT_EQ(decoded(token), decoded(good)) << token;
  }
  EXPECT_GT(refused, 2500);
}

}  // namespace
}  // namespace jilaf::auth
