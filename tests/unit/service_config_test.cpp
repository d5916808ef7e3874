// The identity settings of ServiceConfig (issue 22): which combinations start, which stop the
// process with a message naming the setting, and what verifier they build.
#include <gtest/gtest.h>

#include "common/service/service.hpp"
#include "tests/support/keys.hpp"

namespace jilaf::service {
namespace {

ServiceConfig Parse(const std::vector<std::string>& args) {
  ServiceConfig config;
  config.db_path = "test.db";
  config::Flags flags("jilaf-test", "test");
  config.Register(flags);
  bool help = false;
  const auto error = flags.Parse(
      args, [](const char*) -> const char* { return nullptr; }, help);
  EXPECT_FALSE(error) << *error;
  return config;
}

TEST(ServiceConfigIdentity, NeedsAStaticKeyOrAnIssuer) {
  const auto error = Parse({}).Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--oidc-issuer"), std::string::npos) << *error;
  EXPECT_FALSE(Parse({"--oidc-issuer=https://idp.example/realms/jilaf"}).Validate());
}

TEST(ServiceConfigIdentity, RefusesBadIssuerRoleMapAndRefreshBounds) {
  auto error = Parse({"--oidc-issuer=idp.example"}).Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("not an http(s) URL"), std::string::npos) << *error;
  error =
      Parse({"--oidc-issuer=https://idp.example", "--oidc-role-map=jilaf-staff=root"}).Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--oidc-role-map"), std::string::npos) << *error;
  error = Parse({"--oidc-issuer=https://idp.example", "--oidc-refresh-min-s=600",
                 "--oidc-refresh-max-s=60"})
              .Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--oidc-refresh-min-s"), std::string::npos) << *error;
  error = Parse({"--jwt-public-key=/k.pem", "--jwt-issuer=https://idp.example",
                 "--oidc-issuer=https://idp.example"})
              .Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("must differ"), std::string::npos) << *error;
}

TEST(ServiceConfigIdentity, BuildsAVerifierWithBothSources) {
  const auto keys = testing::GenerateRsaKeyPair();
  const auto dir = ::testing::TempDir();
  testing::WriteFile(dir + "/service-config-key.pem", keys.public_pem);
  // An issuer nobody answers for: its keys stay unavailable, the static key works regardless.
  auto config =
      Parse({"--jwt-public-key=" + dir + "/service-config-key.pem",
             "--oidc-issuer=http://127.0.0.1:1/realms/none", "--oidc-fetch-timeout-ms=200"});
  ASSERT_FALSE(config.Validate());
  const auto verifier = config.BuildVerifier();
  const auto issuers = verifier->DescribeIssuers();
  ASSERT_EQ(issuers.size(), 2u);
  EXPECT_EQ(issuers[0]["source"], "static key");
  EXPECT_EQ(issuers[1]["source"], "openid-connect");
  EXPECT_EQ(verifier->IdentityState(), auth::KeyState::kUnavailable);
  auto claims = testing::StaffClaims();
  claims["iss"] = "jilaf-dev";
  EXPECT_TRUE(verifier->Verify(auth::SignJwt(keys.private_pem, claims)).ok);
}

}  // namespace
}  // namespace jilaf::service

namespace jilaf::service {
namespace {

TEST(ServiceConfigCalendar, BusinessTimeZoneDefaultsToTokyoAndAnUnknownOneNamesTheFlag) {
  const std::string key = "--oidc-issuer=https://idp.example/realms/jilaf";
  EXPECT_EQ(Parse({key}).business_time_zone, "Asia/Tokyo");
  EXPECT_FALSE(Parse({key, "--business-time-zone=Europe/Berlin"}).Validate());
  const auto error = Parse({key, "--business-time-zone=Mars/Olympus"}).Validate();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--business-time-zone (JILAF_BUSINESS_TIME_ZONE): 'Mars/Olympus'"),
            std::string::npos)
      << *error;
}

}  // namespace
}  // namespace jilaf::service
