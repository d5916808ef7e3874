// The four services against a real Keycloak (issue 22, part 2): scripts/test starts one Keycloak
// for the whole run (JILAF_TEST_KEYCLOAK_URL, realms from scripts/keycloak/) and the services
// trust its `jilaf` realm beside their static development key. Tokens come from Keycloak itself:
// the password grant for the realm's test users, client credentials for the service account.
#include <fstream>
#include <regex>

#include "common/auth/jwt.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using namespace std::chrono_literals;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += name + '=';
    for (const unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
    }
  }
  return out;
}

// The decoded header or payload of a compact JWS.
nlohmann::json JwtPart(const std::string& token, int part) {
  std::size_t begin = 0;
  for (int i = 0; i < part; ++i) begin = token.find('.', begin) + 1;
  const auto end = token.find('.', begin);
  std::string text;
  EXPECT_TRUE(auth::Base64UrlDecode(token.substr(begin, end - begin), text));
  return nlohmann::json::parse(text, nullptr, false);
}

class IdpTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    url_ = Env("JILAF_TEST_KEYCLOAK_URL");
    // Fail, never skip: a missing Keycloak must not pass for a green run.
    ASSERT_FALSE(url_.empty()) << "JILAF_TEST_KEYCLOAK_URL is not set: run this suite through "
                                  "scripts/test, which starts a real Keycloak for it";
    std::smatch match;
    ASSERT_TRUE(std::regex_match(url_, match, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) << url_;
    port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
    issuer_ = url_ + "/realms/jilaf";
    // The services read these as their --oidc-* flags (every flag has a JILAF_* variable).
    const std::vector<std::pair<const char*, std::string>> settings = {
        {"JILAF_OIDC_ISSUER", issuer_},
        {"JILAF_OIDC_AUDIENCE", "jilaf-backoffice"},
        {"JILAF_OIDC_ROLE_CLAIMS", "realm_access.roles,resource_access.jilaf-backoffice.roles"},
        {"JILAF_OIDC_ROLE_MAP",
         "jilaf-viewer=viewer,jilaf-staff=staff,jilaf-admin=admin,jilaf-service=service,"
         "admin=admin,staff=staff"},
        {"JILAF_OIDC_USER_ID_CLAIM", "preferred_username"},
        {"JILAF_OIDC_MAX_TOKEN_LIFETIME_S", "3600"},
        {"JILAF_OIDC_REFRESH_MIN_S", "1"},
        {"JILAF_OIDC_FETCH_TIMEOUT_MS", "1000"}};
    for (const auto& [name, value] : settings) setenv(name, value.c_str(), 1);
  }

  void TearDown() override {
    // Never leave the shared Keycloak frozen or stopped for the tests after this one.
    if (keycloak_disturbed_) {
      std::string state;
      testing::RunCommand(Env("JILAF_TEST_KEYCLOAK_CTL") + " status", &state);
      if (state.rfind("paused", 0) == 0) KeycloakCtl("resume");
      if (state.rfind("stopped", 0) == 0) KeycloakCtl("start");
    }
    E2eTest::TearDown();
  }

  testing::HttpResult Keycloak(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& content_type,
                               const std::string& bearer = {}) {
    testing::HttpClient client("127.0.0.1", port_);
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", content_type}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return client.RequestHonouringRetryAfter(method, target, body, headers);
  }

  std::string TokenFrom(const std::string& realm,
                        const std::vector<std::pair<std::string, std::string>>& form) {
    const auto result = Keycloak("POST", "/realms/" + realm + "/protocol/openid-connect/token",
                                 FormEncode(form), "application/x-www-form-urlencoded");
    EXPECT_EQ(result.status, 200) << result.body;
    const auto body = nlohmann::json::parse(result.body, nullptr, false);
    if (!body.is_object() || !body.contains("access_token")) return {};
    return body["access_token"].get<std::string>();
  }

  std::string UserToken(const std::string& user, const std::string& client = "jilaf-portal",
                        const std::string& realm = "jilaf") {
    return TokenFrom(realm, {{"grant_type", "password"},
                             {"client_id", client},
                             {"username", user},
                             {"password", user + "-password"}});
  }

  std::string ServiceToken() {
    return TokenFrom("jilaf", {{"grant_type", "client_credentials"},
                               {"client_id", "jilaf-service"},
                               {"client_secret", "jilaf-service-secret"}});
  }

  std::vector<RunningService*> StartAll() {
    auto& invitations = StartInvitations();
    auto& projects = StartProjects();
    auto& missions = StartMissions();
    auto& notifications = StartNotifications();
    std::vector<RunningService*> all = {&invitations, &projects, &missions, &notifications};
    for (auto* service : all) WaitForIdentity(*service, "ok");
    return all;
  }

  void WaitForIdentity(const RunningService& service, const std::string& state,
                       std::chrono::seconds deadline = 60s) {
    std::string last;
    const bool reached = testing::WaitUntil(
        [&] {
          last = Admin(service, "/readyz").body;
          const auto body = nlohmann::json::parse(last, nullptr, false);
          return body.is_object() && body.value("identity", "") == state;
        },
        deadline);
    EXPECT_TRUE(reached) << service.name << " /readyz never said identity: " << state << "; last "
                         << last;
  }

  static std::string ReadPath(const RunningService& service) {
    if (service.name == "invitations") return "/v1/programmes";
    if (service.name == "projects") return "/v1/projects";
    if (service.name == "missions") return "/v1/missions";
    return "/v1/inbox";
  }

  // True once the service's log has a line containing `text` (the 401's reason is logged as the
  // rejection's "internal" detail; lines reach the file shortly after the response).
  static bool LogMentions(const RunningService& service, const std::string& text) {
    return testing::WaitUntil(
        [&] {
          std::ifstream in(service.log);
          std::string line;
          while (std::getline(in, line)) {
            if (line.find(text) != std::string::npos) return true;
          }
          return false;
        },
        30s);
  }

  // Runs scripts/keycloak-ctl COMMAND on the shared test Keycloak; true on exit status 0.
  bool KeycloakCtl(const std::string& command) {
    const auto ctl = Env("JILAF_TEST_KEYCLOAK_CTL");
    EXPECT_FALSE(ctl.empty()) << "JILAF_TEST_KEYCLOAK_CTL is not set (see scripts/test)";
    if (ctl.empty()) return false;
    std::string output;
    const int status = testing::RunCommand(ctl + " " + command + " 2>&1", &output);
    EXPECT_EQ(status, 0) << "keycloak-ctl " << command << ": " << output;
    return status == 0;
  }

  std::string url_;
  std::string issuer_;
  std::uint16_t port_ = 0;
  bool keycloak_disturbed_ = false;
};

const std::string kProgramme =
    R"({"fiscal_year": 2026, "title": {"ja": "招へい", "en": "Invitation"},
  "track": "developing", "region": "Asia", "start_date": "2026-06-01", "end_date": "2026-06-20",
  "seats": 4, "country_quotas": {"VN": 2}, "status": "open"})";

TEST_F(IdpTest, EveryServiceAcceptsKeycloakTokensWithRolesFromRealmAndClientClaims) {
  const auto services = StartAll();
  const auto viewer = UserToken("viewer");
  const auto staff = UserToken("staff");
  const auto admin = UserToken("admin");
  const auto client_admin = UserToken("clientadmin");  // admin only as a jilaf-backoffice role
  const auto service = ServiceToken();
  ASSERT_FALSE(JwtPart(client_admin, 1).contains("realm_access") &&
               JwtPart(client_admin, 1)["realm_access"].dump().find("jilaf-admin") !=
                   std::string::npos);
  for (const auto* running : services) {
    for (const auto* token : {&viewer, &staff, &admin, &client_admin, &service}) {
      const auto result = Call(*running, "GET", ReadPath(*running), {}, *token);
      EXPECT_EQ(result.status, 200) << running->name << ": " << result.body;
    }
    // The static development key still works beside the provider.
    EXPECT_EQ(Call(*running, "GET", ReadPath(*running), {}, Token("viewer")).status, 200);
  }
  auto& invitations = *services[0];
  auto& notifications = *services[3];
  // Writes need staff (a realm role) or admin; viewers and the service account may only read.
  EXPECT_EQ(Call(invitations, "POST", "/v1/programmes", kProgramme, staff).status, 201);
  EXPECT_EQ(Call(invitations, "POST", "/v1/programmes", kProgramme, viewer).status, 403);
  EXPECT_EQ(Call(invitations, "POST", "/v1/programmes", kProgramme, service).status, 403);
  // Configuration needs admin, granted here by a realm role or by a client role.
  EXPECT_EQ(Call(notifications, "GET", "/v1/rules", {}, admin).status, 200);
  EXPECT_EQ(Call(notifications, "GET", "/v1/rules", {}, client_admin).status, 200);
  EXPECT_EQ(Call(notifications, "GET", "/v1/rules", {}, staff).status, 403);
  // A user of the realm without any mapped role is not let in at all.
  const auto norole = Call(invitations, "GET", "/v1/programmes", {}, UserToken("norole"));
  EXPECT_EQ(norole.status, 401);
  EXPECT_NE(norole.Header("content-type").find("application/problem+json"), std::string::npos);
  EXPECT_TRUE(LogMentions(invitations, "token carries no known role"));
}

TEST_F(IdpTest, Es256TokensOfTheRealmAreAccepted) {
  auto& projects = StartProjects();
  WaitForIdentity(projects, "ok");
  const auto token = UserToken("staff", "jilaf-portal-es256");
  ASSERT_EQ(JwtPart(token, 0).value("alg", ""), "ES256");
  EXPECT_EQ(Call(projects, "GET", "/v1/projects", {}, token).status, 200);
}

TEST_F(IdpTest, TokensOfAnotherRealmOrAnotherClientAreRefused) {
  auto& missions = StartMissions();
  WaitForIdentity(missions, "ok");
  const auto elsewhere = UserToken("staff", "jilaf-portal", "elsewhere");
  ASSERT_NE(JwtPart(elsewhere, 1).value("iss", ""), issuer_);
  auto result = Call(missions, "GET", "/v1/missions", {}, elsewhere);
  EXPECT_EQ(result.status, 401) << result.body;
  EXPECT_TRUE(LogMentions(missions, "realms/elsewhere"));

  // Same realm, same user, but a client the APIs are not an audience of.
  const auto other_client = UserToken("staff", "other-app");
  result = Call(missions, "GET", "/v1/missions", {}, other_client);
  EXPECT_EQ(result.status, 401) << result.body;
  EXPECT_TRUE(LogMentions(missions, "token audience does not include jilaf-backoffice"));
  // And the service keeps serving good tokens.
  EXPECT_EQ(Call(missions, "GET", "/v1/missions", {}, UserToken("staff")).status, 200);
}

TEST_F(IdpTest, AnExpiredTokenIsRefused) {
  auto& invitations = StartInvitations();
  WaitForIdentity(invitations, "ok");
  const auto token = UserToken("viewer", "jilaf-portal-short");  // lives 10 s
  const auto claims = JwtPart(token, 1);
  ASSERT_LE(claims["exp"].get<std::int64_t>() - claims["iat"].get<std::int64_t>(), 10);
  EXPECT_EQ(Call(invitations, "GET", "/v1/programmes", {}, token).status, 200);
  int status = 0;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        status = Call(invitations, "GET", "/v1/programmes", {}, token).status;
        return status == 401;
      },
      120s))
      << "last status " << status;
  EXPECT_TRUE(LogMentions(invitations, "token expired"));
}

TEST_F(IdpTest, RotatedRealmKeyIsAcceptedAfterTheRefresh) {
  const auto services = StartAll();
  const auto before = UserToken("staff");
  const auto old_kid = JwtPart(before, 0).value("kid", "");
  // Signed with the old key and not shown to any service before the rotation (so not in their
  // caches of verified tokens): proves the old key still verifies afterwards.
  const auto unshown = UserToken("viewer");
  for (const auto* running : services) {
    EXPECT_EQ(Call(*running, "GET", ReadPath(*running), {}, before).status, 200);
  }

  // A new RSA key of higher priority, through the admin REST API: Keycloak signs with it from now
  // on and keeps publishing the old one (rotation overlap).
  const auto admin = TokenFrom("master", {{"grant_type", "password"},
                                          {"client_id", "admin-cli"},
                                          {"username", "admin"},
                                          {"password", "admin"}});
  ASSERT_FALSE(admin.empty());
  const auto priority = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  const nlohmann::json component = {{"name", "rotated-" + priority},
                                    {"providerId", "rsa-generated"},
                                    {"providerType", "org.keycloak.keys.KeyProvider"},
                                    {"parentId", "jilaf"},
                                    {"config", {{"priority", {priority}}, {"keySize", {"2048"}}}}};
  const auto created = Keycloak("POST", "/admin/realms/jilaf/components", component.dump(),
                                "application/json", admin);
  ASSERT_EQ(created.status, 201) << created.body;

  const auto after = UserToken("staff");
  const auto new_kid = JwtPart(after, 0).value("kid", "");
  ASSERT_NE(new_kid, old_kid) << "Keycloak did not sign with the new key";
  for (const auto* running : services) {
    int status = 0;
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          status = Call(*running, "GET", ReadPath(*running), {}, after).status;
          return status == 200;
        },
        60s))
        << running->name << " never accepted the new key " << new_kid << "; last " << status;
    // Tokens signed before the rotation keep working while the old key is published.
    EXPECT_EQ(Call(*running, "GET", ReadPath(*running), {}, unshown).status, 200);
  }
}

TEST_F(IdpTest, CachedKeysKeepWorkingWhileKeycloakIsStopped) {
  auto& projects = StartProjects();
  auto& notifications = StartNotifications();
  WaitForIdentity(projects, "ok");
  WaitForIdentity(notifications, "ok");
  // Tokens taken before the outage, not yet shown to the services (so not in their token cache).
  const auto staff = UserToken("staff");
  const auto service = ServiceToken();
  keycloak_disturbed_ = true;
  ASSERT_TRUE(KeycloakCtl("stop"));
  WaitForIdentity(projects, "stale");
  WaitForIdentity(notifications, "stale");
  // Stale is reported, not fatal: the services stay ready and verify with the cached keys.
  EXPECT_EQ(Admin(projects, "/readyz").status, 200);
  EXPECT_EQ(Call(projects, "GET", "/v1/projects", {}, staff).status, 200);
  EXPECT_EQ(Call(notifications, "GET", "/v1/inbox", {}, service).status, 200);
  ASSERT_TRUE(KeycloakCtl("start"));  // same port, same database: same keys
  keycloak_disturbed_ = false;
  WaitForIdentity(projects, "ok", 120s);
  EXPECT_EQ(Call(projects, "GET", "/v1/projects", {}, UserToken("viewer")).status, 200);
}

TEST_F(IdpTest, CachedKeysKeepWorkingWhileKeycloakHangs) {
  auto& missions = StartMissions();
  WaitForIdentity(missions, "ok");
  const auto staff = UserToken("staff");
  // Frozen (SIGSTOP): connections are accepted but never answered, like a hung provider; the
  // refresher's requests time out instead of being refused.
  keycloak_disturbed_ = true;
  ASSERT_TRUE(KeycloakCtl("pause"));
  WaitForIdentity(missions, "stale");
  EXPECT_EQ(Call(missions, "GET", "/v1/missions", {}, staff).status, 200);
  ASSERT_TRUE(KeycloakCtl("resume"));
  keycloak_disturbed_ = false;
  WaitForIdentity(missions, "ok");
}

}  // namespace
}  // namespace jilaf::e2e
