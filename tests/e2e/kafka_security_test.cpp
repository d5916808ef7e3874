// The event bus secured as in production (issue 19, part 3): the real service binaries against a
// second, real broker that scripts/test starts for the `kafka-security` label, with TLS and SASL
// SCRAM-SHA-512 on its only client listener, the StandardAuthorizer, and exactly the ACLs of the
// prod overlay's KafkaUser resources (deploy/k8s/overlays/prod/kafka.yaml). Its CA, certificate
// and passwords were made with OpenSSL into a temporary directory (JILAF_TEST_SECURE_KAFKA_PKI:
// ca.crt, <user>.password); see scripts/lib/kafka.sh, kafka_secure_pki.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/events/cloud_event.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using std::chrono::seconds;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class KafkaSecurityTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string secure = EnvOrEmpty("JILAF_TEST_SECURE_KAFKA_BOOTSTRAP");
    pki_ = EnvOrEmpty("JILAF_TEST_SECURE_KAFKA_PKI");
    mtls_bootstrap_ = EnvOrEmpty("JILAF_TEST_SECURE_KAFKA_MTLS_BOOTSTRAP");
    ASSERT_FALSE(secure.empty() || pki_.empty())
        << "JILAF_TEST_SECURE_KAFKA_BOOTSTRAP / _PKI are not set: run this test through "
           "scripts/test -L kafka-security, which starts the secured broker";
    bootstrap_ = secure;  // every service and tool of these tests talks to the secured broker
  }

  /// The flags of a client that logs in as `user` with the password of `password_of`.
  [[nodiscard]] std::vector<std::string> LoginAs(const std::string& user,
                                                 const std::string& password_of) const {
    return {"--kafka-security-protocol",
            "sasl_ssl",
            "--kafka-ca-file",
            pki_ + "/ca.crt",
            "--kafka-sasl-username",
            user,
            "--kafka-sasl-password-file",
            pki_ + "/" + password_of + ".password"};
  }
  [[nodiscard]] std::vector<std::string> LoginAs(const std::string& user) const {
    return LoginAs(user, user);
  }

  /// Runs jilaf-kafka-tool with `args` (plus --brokers, the SCRAM listener unless `brokers`);
  /// its exit status, output in `output`. librdkafka's own log lines (stderr) go into `output`
  /// too unless `quiet`.
  int KafkaTool(const std::vector<std::string>& args, std::string* output, bool quiet = false,
                const std::string& brokers = {}) const {
    std::string command = std::string(JILAF_KAFKA_TOOL_BIN) + " " + args.front() + " --brokers " +
                          (brokers.empty() ? bootstrap_ : brokers);
    for (std::size_t i = 1; i < args.size(); ++i) command += " '" + args[i] + "'";
    // RunCommand adds 2>&1 after the whole command: a group keeps the quiet one's stderr away.
    return testing::RunCommand(quiet ? "{ " + command + " 2>/dev/null; }" : command, output);
  }

  /// The keys of the messages on `topic`, read as the super user.
  std::vector<std::string> KeysOn(const std::string& topic) const {
    std::vector<std::string> args = {"dump"};
    const auto admin = LoginAs("admin");
    args.insert(args.end(), admin.begin(), admin.end());
    args.push_back(topic);
    std::string output;
    EXPECT_EQ(KafkaTool(args, &output, true), 0) << output;
    std::vector<std::string> keys;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line.front() != '{') continue;
      const auto record = nlohmann::json::parse(line);
      if (record.contains("key")) keys.push_back(record["key"]);
    }
    return keys;
  }

  nlohmann::json Readiness(const RunningService& service) {
    const auto ready = Admin(service, "/readyz");
    EXPECT_EQ(ready.status, 200) << "readiness follows the store, not Kafka: " << ready.body;
    return nlohmann::json::parse(ready.body, nullptr, false);
  }

  /// Waits until the relay reports an unpublished event (its gauges follow once a second, after
  /// a broker probe that may take its full timeout while the broker refuses the client).
  bool WaitsInTheOutbox(const RunningService& service) {
    return testing::WaitUntil(
        [&] { return Readiness(service)["kafka"]["outbox_pending"].get<int>() >= 1; }, seconds(30));
  }

  /// Waits until the service's log contains `text`.
  bool LogSays(const RunningService& service, const std::string& text) {
    return testing::WaitUntil([&] { return ReadAll(service.log).find(text) != std::string::npos; },
                              seconds(30));
  }

  /// The flags of a client that authenticates by `user`'s certificate (mTLS listener).
  [[nodiscard]] std::vector<std::string> CertificateOf(const std::string& user) const {
    return {"--kafka-brokers",           mtls_bootstrap_,
            "--kafka-security-protocol", "ssl",
            "--kafka-ca-file",           pki_ + "/ca.crt",
            "--kafka-cert-file",         pki_ + "/" + user + ".crt",
            "--kafka-key-file",          pki_ + "/" + user + ".key"};
  }

  std::string pki_;
  std::string mtls_bootstrap_;
};

bool Contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

TEST_F(KafkaSecurityTest, ServiceWithoutCredentialsCannotReachTheBusAndSaysWhy) {
  auto& invitations = StartInvitations();  // plaintext: no TLS, no SASL
  const auto programme_id = CreateOpenProgramme(invitations, "Plaintext Programme 2026");
  ASSERT_FALSE(programme_id.empty()) << "writes are accepted into the outbox meanwhile";

  EXPECT_TRUE(LogSays(invitations, "security.protocol"))
      << "librdkafka's hint about a TLS listener is in the log:\n"
      << testing::TailFile(invitations.log);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Readiness(invitations)["kafka"]["producer"] == "down"; }, seconds(30)));
  EXPECT_EQ(Metric(invitations, "jilaf_kafka_producer_up"), 0);
  EXPECT_TRUE(WaitsInTheOutbox(invitations)) << "the event waits in the outbox";
  EXPECT_FALSE(Contains(KeysOn("jilaf.invitations.events"), programme_id));
}

TEST_F(KafkaSecurityTest, ServiceWithAWrongPasswordIsRefusedWithAClearError) {
  auto& invitations = StartInvitations(LoginAs("invitations", "projects"));
  const auto programme_id = CreateOpenProgramme(invitations, "Wrong Password Programme 2026");
  ASSERT_FALSE(programme_id.empty());

  EXPECT_TRUE(LogSays(invitations, "Authentication failed"))
      << "the broker's refusal is in the log:\n"
      << testing::TailFile(invitations.log);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Readiness(invitations)["kafka"]["producer"] == "down"; }, seconds(30)));
  EXPECT_TRUE(WaitsInTheOutbox(invitations));
  EXPECT_FALSE(Contains(KeysOn("jilaf.invitations.events"), programme_id));
}

TEST_F(KafkaSecurityTest, PrincipalWithoutTheAclCannotWriteAnotherServicesTopic) {
  // A raw write as invitations onto projects' topic: authenticated, then refused by the ACLs.
  const std::string key = "forged-" + events::NewUuid();
  std::vector<std::string> args = {"produce", "--topic", "jilaf.projects.events", "--key", key,
                                   "--value", "{}"};
  const auto login = LoginAs("invitations");
  args.insert(args.end(), login.begin(), login.end());
  std::string output;
  EXPECT_EQ(KafkaTool(args, &output), 1) << output;
  EXPECT_NE(output.find("Topic authorization failed"), std::string::npos) << output;

  // The invitations binary logged in as notifications, whose ACLs allow notifications' topics
  // only: it connects (the producer is up) but none of its events reaches its topic.
  auto& invitations = StartInvitations(LoginAs("notifications"));
  const auto programme_id = CreateOpenProgramme(invitations, "Wrong Principal Programme 2026");
  ASSERT_FALSE(programme_id.empty());
  EXPECT_GE(MetricReaching(invitations, "jilaf_events_publish_failed_total", 1, seconds(60)), 1)
      << testing::TailFile(invitations.log);
  EXPECT_TRUE(LogSays(invitations, "Topic authorization failed"))
      << testing::TailFile(invitations.log);
  EXPECT_EQ(Readiness(invitations)["kafka"]["producer"], "up");
  EXPECT_TRUE(WaitsInTheOutbox(invitations)) << "kept for a retry, not dropped";
  const auto keys = KeysOn("jilaf.projects.events");
  EXPECT_FALSE(Contains(keys, key));
  EXPECT_FALSE(Contains(KeysOn("jilaf.invitations.events"), programme_id));
}

TEST_F(KafkaSecurityTest, EventsFlowEndToEndOverTlsAndScram) {
  auto& invitations = StartInvitations(LoginAs("invitations"));
  // Its consumer group (group_, "notifications-e2e-...") falls under the "notifications" prefix.
  auto& notifications = StartNotificationsWith(LoginAs("notifications"));

  const auto programme_id = CreateOpenProgramme(invitations, "Secure Programme 2026");
  ASSERT_FALSE(programme_id.empty());
  const auto created = Nominate(invitations, programme_id, "Tanaka");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string nomination_id = nlohmann::json::parse(created.body)["id"];

  ASSERT_TRUE(WaitForInbox(
      notifications, {"programmes/" + programme_id, "nominations/" + nomination_id}, seconds(90)))
      << testing::TailFile(notifications.log);
  EXPECT_EQ(Readiness(invitations)["kafka"]["producer"], "up");
  EXPECT_EQ(Readiness(notifications)["kafka"]["producer"], "up");
  EXPECT_EQ(Metric(invitations, "jilaf_events_publish_failed_total"), 0);
  EXPECT_TRUE(Contains(KeysOn("jilaf.invitations.events"), nomination_id));

  // analytics reads the same topic as its own KafkaUser (group prefix "analytics").
  const std::string analytics_db = dir_ + "/analytics.db";
  std::string command = std::string(JILAF_ANALYTICS_BIN) + " consume --analytics-db " +
                        analytics_db + " --kafka-brokers " + bootstrap_ +
                        " --consumer-group analytics-" + events::NewUuid().substr(0, 8) +
                        " --topics jilaf.invitations.events --until-caught-up --timeout-ms 90000";
  for (const auto& arg : LoginAs("analytics")) command += " '" + arg + "'";
  std::string output;
  ASSERT_EQ(testing::RunCommand(command, &output), 0) << output;
  const auto summary = output.substr(output.rfind("{\"applied\""));
  EXPECT_GE(nlohmann::json::parse(summary.substr(0, summary.find('\n')))["applied"], 2) << output;
}

TEST_F(KafkaSecurityTest, ServicesAuthenticatedByCertificateGetTheSameAcls) {
  ASSERT_FALSE(mtls_bootstrap_.empty()) << "JILAF_TEST_SECURE_KAFKA_MTLS_BOOTSTRAP is not set";
  // The certificate's CN is the principal: invitations' certificate may not write projects' topic.
  std::vector<std::string> args = {
      "produce", "--topic", "jilaf.projects.events", "--key", "forged-" + events::NewUuid(),
      "--value", "{}"};
  auto login = CertificateOf("invitations");
  args.insert(args.end(), login.begin() + 2, login.end());  // without --kafka-brokers
  std::string output;
  EXPECT_EQ(KafkaTool(args, &output, false, mtls_bootstrap_), 1) << output;
  EXPECT_NE(output.find("Topic authorization failed"), std::string::npos) << output;

  // Later flags win: the mTLS listener's address replaces the fixture's --kafka-brokers.
  auto& invitations = StartInvitations(CertificateOf("invitations"));
  auto& notifications = StartNotificationsWith(CertificateOf("notifications"));
  const auto programme_id = CreateOpenProgramme(invitations, "Certified Programme 2026");
  ASSERT_FALSE(programme_id.empty());
  ASSERT_TRUE(WaitForInbox(notifications, {"programmes/" + programme_id}, seconds(90)))
      << testing::TailFile(notifications.log);
  EXPECT_EQ(Readiness(invitations)["kafka"]["producer"], "up");
  EXPECT_EQ(Metric(invitations, "jilaf_events_publish_failed_total"), 0);
}

}  // namespace
}  // namespace jilaf::e2e
