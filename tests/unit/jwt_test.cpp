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

// A provider's policy (issue 22): roles from nested claims through a map, another user-id claim,
// a maximum lifetime. The static key stands in for the provider's JWKS.
class ClaimPolicyTest : public JwtTest {
 protected:
  JwtVerifier Verifier(ClaimPolicy policy) const {
    JwtVerifier verifier;
    verifier.AddIssuer(
        "https://idp.example/realms/jilaf", std::move(policy),
        std::make_shared<StaticKeySource>(VerificationKey::FromPem(keys_->public_pem)));
    return verifier;
  }
  static ClaimPolicy KeycloakPolicy() {
    ClaimPolicy policy;
    policy.audience = "jilaf-backoffice";
    policy.role_claims = {"realm_access.roles", "resource_access.jilaf-backoffice.roles"};
    EXPECT_EQ(ParseRoleMap("jilaf-viewer=viewer,jilaf-staff=staff,admin=admin", policy.role_map),
              "");
    policy.user_id_claim = "preferred_username";
    policy.require_user_id = true;
    policy.max_lifetime = std::chrono::seconds(3600);
    return policy;
  }
  static nlohmann::json Claims() {
    return {{"iss", "https://idp.example/realms/jilaf"},
            {"aud", {"account", "jilaf-backoffice"}},
            {"sub", "3f1c"},
            {"preferred_username", "hanako"},
            {"iat", Now()},
            {"exp", Now() + 300}};
  }
};

TEST_F(ClaimPolicyTest, MapsRealmRolesThroughTheMap) {
  auto claims = Claims();
  claims["realm_access"] = {{"roles", {"offline_access", "jilaf-staff"}}};
  const auto result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.principal.subject, "hanako");
  EXPECT_EQ(result.principal.roles, std::vector<Role>{Role::kStaff});
}

TEST_F(ClaimPolicyTest, MapsClientRoles) {
  auto claims = Claims();
  claims["resource_access"] = {{"jilaf-backoffice", {{"roles", {"admin"}}}},
                               {"other-client", {{"roles", {"jilaf-staff"}}}}};
  const auto result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.principal.roles, std::vector<Role>{Role::kAdmin});
}

TEST_F(ClaimPolicyTest, UnmappedValuesGrantNothingEvenWhenTheyNameARole) {
  auto claims = Claims();
  claims["realm_access"] = {{"roles", {"staff", "service"}}};  // not in the map
  const auto result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_EQ(result.error, "token carries no known role");
}

TEST_F(ClaimPolicyTest, EntraStyleGroupsAndOid) {
  ClaimPolicy policy;
  policy.audience = "api://jilaf";
  policy.role_claims = {"roles", "groups"};
  ASSERT_EQ(ParseRoleMap("Jilaf.Write=staff,0b7e6c2a-1111-4c1e-9d7e-000000000001=viewer",
                         policy.role_map),
            "");
  policy.user_id_claim = "oid";
  policy.require_user_id = true;
  auto claims = Claims();
  claims["aud"] = "api://jilaf";
  claims["oid"] = "7d3f0000-aaaa-bbbb-cccc-000000000002";
  claims["groups"] = {"0b7e6c2a-1111-4c1e-9d7e-000000000001"};
  claims["roles"] = "Jilaf.Write";  // a single string counts as one value
  const auto result = Verifier(policy).Verify(SignJwt(keys_->private_pem, claims));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.principal.subject, "7d3f0000-aaaa-bbbb-cccc-000000000002");
  EXPECT_TRUE(result.principal.Has(Role::kStaff));
  EXPECT_TRUE(result.principal.Has(Role::kViewer));
}

TEST_F(ClaimPolicyTest, RefusesATokenWithoutTheUserIdClaim) {
  auto claims = Claims();
  claims.erase("preferred_username");
  claims["realm_access"] = {{"roles", {"jilaf-staff"}}};
  const auto result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_EQ(result.error, "token has no usable preferred_username claim (the user id)");
}

TEST_F(ClaimPolicyTest, RefusesTokensLivingLongerThanTheMaximum) {
  auto claims = Claims();
  claims["realm_access"] = {{"roles", {"jilaf-staff"}}};
  claims["exp"] = Now() + 7200;
  auto result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_NE(result.error.find("exceeds the maximum 3600 s"), std::string::npos) << result.error;
  claims.erase("iat");
  claims["exp"] = Now() + 60;
  result = Verifier(KeycloakPolicy()).Verify(SignJwt(keys_->private_pem, claims));
  EXPECT_NE(result.error.find("no usable iat"), std::string::npos) << result.error;
}

TEST_F(ClaimPolicyTest, ChoosesKeysByIssuerAmongSeveral) {
  const auto other = testing::GenerateEcKeyPair();
  auto verifier = JwtVerifier::FromPem(keys_->public_pem, kIssuer, kAudience);
  verifier.AddIssuer("https://idp.example/realms/jilaf", KeycloakPolicy(),
                     std::make_shared<StaticKeySource>(VerificationKey::FromPem(other.public_pem)));
  auto claims = Claims();
  claims["realm_access"] = {{"roles", {"jilaf-viewer"}}};
  EXPECT_TRUE(verifier.Verify(SignJwt(other.private_pem, claims)).ok);
  EXPECT_TRUE(verifier.Verify(SignJwt(keys_->private_pem, testing::StaffClaims())).ok);
  // The development key cannot sign for the provider, nor the provider's key for development.
  EXPECT_EQ(verifier.Verify(SignJwt(keys_->private_pem, claims)).error,
            "token algorithm RS256 is not accepted (expected ES256)");
  EXPECT_FALSE(verifier.Verify(SignJwt(other.private_pem, testing::StaffClaims())).ok);
}

TEST(RoleMap, ParsesPairsAndNamesTheBadEntry) {
  std::map<std::string, Role, std::less<>> map;
  EXPECT_EQ(ParseRoleMap("a=viewer, ,b=admin", map), "");
  EXPECT_EQ(map.size(), 2u);
  EXPECT_NE(ParseRoleMap("a=viewer,b=root", map).find("'b=root'"), std::string::npos);
  EXPECT_NE(ParseRoleMap("=staff", map).find("'=staff'"), std::string::npos);
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
