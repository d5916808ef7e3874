// Secrets and personal data at rest, end to end: webhook secrets sealed with the notifications
// service's key ring and kept out of stored idempotent responses, and a field-key rotation of
// both services that encrypt fields (docs/operations.md, "Field-key rotation") driven through
// the admin port while the services serve, after which the old key leaves the key file.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string RandomHexKey() {
  std::random_device random;
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 64; ++i) hex += kDigits[random() % 16];
  return hex;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FieldKeysE2e : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    admin_ = Token("admin");
    old_key_ = RandomHexKey();
    new_key_ = RandomHexKey();
  }

  // A key file of the test's own with the given lines.
  std::string KeyFile(const std::string& name, const std::string& lines) {
    const std::string path = dir_ + "/" + name;
    testing::WriteFile(path, lines);
    return path;
  }
  std::string OldRing() { return KeyFile("old.keys", "1:" + old_key_ + "\n"); }
  std::string BothRing() {
    return KeyFile("both.keys", "# rotation under way\n1:" + old_key_ + "\n2:" + new_key_ + "\n");
  }
  std::string NewRing() { return KeyFile("new.keys", "2:" + new_key_ + "\n"); }

  testing::HttpResult AdminCall(const RunningService& service, const std::string& method,
                                const std::string& target, const std::string& token) {
    testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(service.admin_port));
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return client.RequestHonouringRetryAfter(method, target, {}, headers);
  }

  json FieldKeyStatus(const RunningService& service) {
    const auto status = AdminCall(service, "GET", "/v1/admin/field-key", admin_);
    EXPECT_EQ(status.status, 200) << status.body;
    return json::parse(status.body, nullptr, false);
  }

  // Starts the rotation and waits until nothing remains under the old key.
  json Rekey(const RunningService& service) {
    EXPECT_EQ(AdminCall(service, "POST", "/v1/admin/field-key/rekey", {}).status, 401);
    EXPECT_EQ(AdminCall(service, "POST", "/v1/admin/field-key/rekey", staff_token_).status, 403);
    const auto started = AdminCall(service, "POST", "/v1/admin/field-key/rekey", admin_);
    EXPECT_EQ(started.status, 202) << started.body;
    json status;
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    do {
      status = FieldKeyStatus(service);
      if (status.value("older_keys_removable", false)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    EXPECT_TRUE(status.value("older_keys_removable", false)) << status.dump();
    return status;
  }

  std::string admin_;
  std::string old_key_;
  std::string new_key_;
};

TEST_F(FieldKeysE2e, WebhookSecretIsSealedAndNeverInTheStoredReplay) {
  const std::string secret = "whsec_" + RandomHexKey().substr(0, 32);
  auto* notifications = &StartNotificationsWith({"--field-key-file", OldRing()});
  const json body = {{"url", "https://crm.example.org/hook"}, {"secret", secret}};
  const std::vector<std::pair<std::string, std::string>> idempotent = {
      {"Idempotency-Key", "register-crm-hook"}};
  const auto created =
      Call(*notifications, "POST", "/v1/webhooks", body.dump(), admin_, idempotent);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["secret"], secret);  // shown at registration
  const std::string id = json::parse(created.body)["id"];

  // At rest: sealed under key 1, and the recorded response has no secret.
  const auto sealed = StoredColumn(*notifications, "SELECT secret FROM webhook_secrets");
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(sealed[0].rfind("v2:1:", 0), 0u) << sealed[0];
  EXPECT_EQ(sealed[0].find(secret), std::string::npos);
  const auto recorded = StoredColumn(*notifications, "SELECT body FROM idempotency_keys");
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].find(secret), std::string::npos) << recorded[0];
  EXPECT_NE(recorded[0].find(id), std::string::npos) << recorded[0];
  if (!OnPostgres()) {  // the server's files are not the test's to read: the rows above are
    std::string bytes = FileBytes(notifications->db);
    if (std::filesystem::exists(notifications->db + "-wal")) {
      bytes += FileBytes(notifications->db + "-wal");
    }
    EXPECT_EQ(bytes.find(secret), std::string::npos) << "the secret is in the database file";
  }

  // A replay (the client lost the first answer) gets the same webhook with its secret, read from
  // the sealed row.
  const auto replay = Call(*notifications, "POST", "/v1/webhooks", body.dump(), admin_, idempotent);
  ASSERT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Header("idempotent-replayed"), "true");
  EXPECT_EQ(json::parse(replay.body)["id"], id);
  EXPECT_EQ(json::parse(replay.body)["secret"], secret);
  EXPECT_FALSE(json::parse(Call(*notifications, "GET", "/v1/webhooks/" + id, {}, admin_).body)
                   .contains("secret"));

  // Rotation: key 2 joins the ring and seals from the restart on; the rekey moves the old row.
  Stop(*notifications);
  notifications = &StartNotificationsWith({"--field-key-file", BothRing()});
  auto status = FieldKeyStatus(*notifications);
  EXPECT_EQ(status["write_key"], "2") << status.dump();
  EXPECT_EQ(status["keys"], json::array({"1", "2"}));
  EXPECT_EQ(status["remaining"], 1) << status.dump();
  EXPECT_FALSE(status["older_keys_removable"]);
  const auto second = Call(*notifications, "POST", "/v1/webhooks",
                           json{{"url", "https://erp.example.org/hook"}}.dump(), admin_);
  ASSERT_EQ(second.status, 201) << second.body;
  status = Rekey(*notifications);
  EXPECT_EQ(status["targets"][0]["run"]["rewritten"], 1) << status.dump();
  for (const auto& value : StoredColumn(*notifications, "SELECT secret FROM webhook_secrets")) {
    EXPECT_EQ(value.rfind("v2:2:", 0), 0u) << value;
  }

  // The old key leaves the file: the secret still opens (the replay reads it back).
  Stop(*notifications);
  notifications = &StartNotificationsWith({"--field-key-file", NewRing()});
  status = FieldKeyStatus(*notifications);
  EXPECT_EQ(status["keys"], json::array({"2"}));
  EXPECT_EQ(status["remaining"], 0);
  const auto after = Call(*notifications, "POST", "/v1/webhooks", body.dump(), admin_, idempotent);
  ASSERT_EQ(after.status, 201) << after.body;
  EXPECT_EQ(json::parse(after.body)["secret"], secret);
  Stop(*notifications);
}

TEST_F(FieldKeysE2e, InvitationsRotateWhileServingAndFindTheSamePersonThroughout) {
  auto* invitations = &StartInvitations({"--field-key-file", OldRing()});
  const std::string programme = CreateOpenProgramme(*invitations, "Rotation");
  auto nominate = [&](const RunningService& service, const std::string& family,
                      const std::string& passport) {
    const json candidate = {{"family_name", family},
                            {"given_name", "Lan"},
                            {"gender", "female"},
                            {"nationality", "VN"},
                            {"email", family + "@example.org"},
                            {"union", "VGCL"},
                            {"position", "Youth officer"},
                            {"date_of_birth", "1991-02-03"},
                            {"passport_number", passport}};
    const json body = {{"candidate", candidate},
                       {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}};
    return Call(service, "POST", "/v1/programmes/" + programme + "/nominations", body.dump(),
                staff_token_);
  };
  const auto first = nominate(*invitations, "Tran", "VN1234567");
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id = json::parse(first.body)["id"];

  // Both keys in the ring: rows sealed and indexed under key 1 are still read and still match.
  Stop(*invitations);
  invitations = &StartInvitations({"--field-key-file", BothRing()});
  auto status = FieldKeyStatus(*invitations);
  EXPECT_EQ(status["write_key"], "2");
  EXPECT_GE(status["remaining"].get<int>(), 3) << status.dump();  // passport, birth date, indexes
  const auto twice = nominate(*invitations, "Tran", "VN1234567");
  EXPECT_EQ(twice.status, 409) << "the same person in the same year, indexed under key 1: "
                               << twice.body;
  auto admin_view = Call(*invitations, "GET", "/v1/nominations/" + id, {}, admin_);
  EXPECT_EQ(json::parse(admin_view.body)["candidate"]["passport_number"], "VN1234567");

  // Writes keep coming while the rotation runs.
  std::atomic<bool> stop_writes{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int n = 0; !stop_writes && n < 200; ++n) {
      if (nominate(*invitations,
                   "Writer" + std::string(1, static_cast<char>('A' + n % 26)) + std::to_string(n),
                   "VW" + std::to_string(1000000 + n))
              .status == 201) {
        ++written;
      }
    }
  });
  while (written < 3) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  status = Rekey(*invitations);
  stop_writes = true;
  writer.join();
  EXPECT_GT(written.load(), 0);
  EXPECT_EQ(status["remaining"], 0) << status.dump();
  for (const auto& value : StoredColumn(*invitations,
                                        "SELECT passport_number FROM nomination_personal UNION ALL "
                                        "SELECT date_of_birth FROM nomination_personal")) {
    EXPECT_EQ(value.rfind("v2:2:", 0), 0u) << value;
  }
  for (const auto& key : StoredColumn(*invitations, "SELECT index_key FROM nominations")) {
    EXPECT_EQ(key, "2");
  }

  // Only the new key left: the data reads back and the person is still recognised.
  Stop(*invitations);
  invitations = &StartInvitations({"--field-key-file", NewRing()});
  admin_view = Call(*invitations, "GET", "/v1/nominations/" + id, {}, admin_);
  ASSERT_EQ(admin_view.status, 200) << admin_view.body;
  EXPECT_EQ(json::parse(admin_view.body)["candidate"]["passport_number"], "VN1234567");
  EXPECT_EQ(json::parse(admin_view.body)["candidate"]["date_of_birth"], "1991-02-03");
  EXPECT_EQ(nominate(*invitations, "Tran", "VN1234567").status, 409);
  // Without a birth date the passport's blind index still finds the first nomination.
  const json no_birth = {{"candidate",
                          {{"family_name", "Different"},
                           {"given_name", "Person"},
                           {"nationality", "VN"},
                           {"email", "other@example.org"},
                           {"union", "Other"},
                           {"position", "Member"},
                           {"passport_number", "VN1234567"}}},
                         {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}};
  const auto possible = Call(*invitations, "POST", "/v1/programmes/" + programme + "/nominations",
                             no_birth.dump(), staff_token_);
  ASSERT_EQ(possible.status, 201) << possible.body;
  EXPECT_NE(possible.body.find(id), std::string::npos) << possible.body;
  Stop(*invitations);
}

}  // namespace
}  // namespace jilaf::e2e
