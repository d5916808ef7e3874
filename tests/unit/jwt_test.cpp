#include "common/auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "tests/support/keys.hpp"

namespace jilaf::auth {
namespace {

using testing::kAudience;
using testing::kIssuer;
using testing::Now;

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new testing::KeyPair(testing::GenerateRsaKeyPair()); }
  static void TearDownTestSuite() { delete keys_; }
  JwtVerifier Verifier() const {
    return JwtVerifier::FromPem(keys_->public_pem, kIssuer, kAudience);
  }
  static testing::KeyPair* keys_;
};
testing::KeyPair* JwtTest::keys_ = nullptr;

TEST_F(JwtTest, AcceptsValidRs256Token) {
  const auto result = Verifier().Verify(SignJwt(keys_->private_pem, testing::StaffClaims()));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.principal.subject, "officer-1");
  EXPECT_TRUE(result.principal.Has(Role::kStaff));
  EXPECT_TRUE(result.principal.Allows(Access::kWrite));
  EXPECT_FALSE(result.principal.Allows(Access::kAdmin));
}

TEST_F(JwtTest, AcceptsAudienceArray) {
  auto claims = testing::StaffClaims();
  claims["aud"] = {"other", kAudience};
  EXPECT_TRUE(Verifier().Verify(SignJwt(keys_->private_pem, claims)).ok);
}

TEST_F(JwtTest, RejectsExpiredToken) {
  auto claims = testing::StaffClaims();
  claims["exp"] = Now() - 60;
  const auto result = Verifier().Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token expired");
}

TEST_F(JwtTest, RejectsWrongAudience) {
  auto claims = testing::StaffClaims();
  claims["aud"] = "someone-else";
  const auto result = Verifier().Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("audience"), std::string::npos);
}

TEST_F(JwtTest, RejectsWrongIssuer) {
  auto claims = testing::StaffClaims();
  claims["iss"] = "evil";
  const auto result = Verifier().Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("issuer"), std::string::npos);
}

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string token = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                            Base64UrlEncode(testing::StaffClaims().dump()) + ".";
  const auto result = Verifier().Verify(token);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("none"), std::string::npos);
}

TEST_F(JwtTest, RejectsHs256SignedWithThePublicKeyAsSecret) {
  // The classic algorithm-confusion forgery: HMAC keyed with the (public) verification key.
  const std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                            Base64UrlEncode(testing::StaffClaims().dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), keys_->public_pem.data(), static_cast<int>(keys_->public_pem.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  const std::string token =
      input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
  const auto result = Verifier().Verify(token);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("HS256"), std::string::npos);
}

TEST_F(JwtTest, RejectsTokenSignedByAnotherKey) {
  const auto other = testing::GenerateRsaKeyPair();
  const auto result = Verifier().Verify(SignJwt(other.private_pem, testing::StaffClaims()));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token signature does not verify");
}

TEST_F(JwtTest, RejectsTamperedPayload) {
  const auto token = SignJwt(keys_->private_pem, testing::StaffClaims());
  auto claims = testing::StaffClaims();
  claims["roles"] = {"admin"};
  const auto first_dot = token.find('.');
  const auto second_dot = token.find('.', first_dot + 1);
  const std::string forged =
      token.substr(0, first_dot + 1) + Base64UrlEncode(claims.dump()) + token.substr(second_dot);
  EXPECT_FALSE(Verifier().Verify(forged).ok);
}

TEST_F(JwtTest, RejectsGarbage) {
  EXPECT_FALSE(Verifier().Verify("").ok);
  EXPECT_FALSE(Verifier().Verify("a.b").ok);
  EXPECT_FALSE(Verifier().Verify("a.b.c.d").ok);
  EXPECT_FALSE(Verifier().Verify("!!!.???.***").ok);
}

TEST_F(JwtTest, RejectsTokenWithoutKnownRole) {
  auto claims = testing::StaffClaims();
  claims["roles"] = {"superuser"};
  EXPECT_FALSE(Verifier().Verify(SignJwt(keys_->private_pem, claims)).ok);
}

TEST(JwtEs256, AcceptsEs256AndRefusesRs256Header) {
  const auto keys = testing::GenerateEcKeyPair();
  const auto verifier = JwtVerifier::FromPem(keys.public_pem, kIssuer, kAudience);
  const auto token = SignJwt(keys.private_pem, testing::StaffClaims());
  const auto result = verifier.Verify(token);
  ASSERT_TRUE(result.ok) << result.error;
  // Same signature, header claiming RS256: the key decides the algorithm, not the token.
  const std::string swapped =
      Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + token.substr(token.find('.'));
  EXPECT_FALSE(verifier.Verify(swapped).ok);
}

TEST(Base64Url, RoundTrips) {
  for (const std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe"}) {
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(text), decoded));
    EXPECT_EQ(decoded, text);
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("ab+/", out));
}

}  // namespace
}  // namespace jilaf::auth
