// The field-encryption key ring (common/crypto/field_cipher) and its online rotation
// (common/crypto/rekey) on a real SQLite store.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "common/crypto/field_cipher.hpp"
#include "common/crypto/rekey.hpp"
#include "common/store/store.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"

namespace jilaf::crypto {
namespace {

FieldKey Key(const std::string& id, unsigned char fill) {
  FieldKey key{id, {}};
  key.bytes.fill(fill);
  return key;
}

TEST(FieldCipher, SealsPerFieldAndRecordWithTheKeyId) {
  const FieldCipher cipher({Key("k7", 7)});
  const auto sealed = cipher.Encrypt("C1234567", "n1/passport_number");
  EXPECT_EQ(sealed.find("C1234567"), std::string::npos);
  EXPECT_EQ(sealed.rfind("v2:k7:", 0), 0u);
  EXPECT_EQ(FieldCipher::KeyIdOf(sealed), "k7");
  EXPECT_NE(sealed, cipher.Encrypt("C1234567", "n1/passport_number"));  // fresh nonce
  EXPECT_EQ(cipher.Decrypt(sealed, "n1/passport_number"), "C1234567");
  EXPECT_FALSE(cipher.Decrypt(sealed, "n2/passport_number").has_value());
  const FieldCipher other({Key("k7", 8)});  // same id, another key: the tag refuses it
  EXPECT_FALSE(other.Decrypt(sealed, "n1/passport_number").has_value());
  EXPECT_FALSE(cipher.Decrypt("v2:k7:garbage", "n1/passport_number").has_value());
  EXPECT_FALSE(cipher.Decrypt("v2:unknown:AAAA", "n1/passport_number").has_value());
  EXPECT_EQ(cipher.BlindIndex("x"), cipher.BlindIndex("x"));
  EXPECT_NE(cipher.BlindIndex("x"), other.BlindIndex("x"));
  EXPECT_EQ(cipher.BlindIndex("x").size(), 64u);
}

TEST(FieldCipher, NewestKeySealsEveryKeyOpens) {
  const FieldCipher old_ring({Key("1", 1)});
  const FieldCipher ring({Key("1", 1), Key("2", 2)});
  const FieldCipher new_ring({Key("2", 2)});
  const auto before = old_ring.Encrypt("1990-04-01", "n1/date_of_birth");
  const auto after = ring.Encrypt("1990-04-01", "n1/date_of_birth");
  EXPECT_EQ(ring.write_key_id(), "2");
  EXPECT_EQ(FieldCipher::KeyIdOf(after), "2");
  EXPECT_EQ(ring.Decrypt(before, "n1/date_of_birth"), "1990-04-01");
  EXPECT_EQ(ring.Decrypt(after, "n1/date_of_birth"), "1990-04-01");
  EXPECT_FALSE(ring.IsCurrent(before));
  EXPECT_TRUE(ring.IsCurrent(after));
  EXPECT_FALSE(new_ring.Decrypt(before, "n1/date_of_birth").has_value());
  EXPECT_EQ(new_ring.Decrypt(after, "n1/date_of_birth"), "1990-04-01");
  // Lookups during a rotation: the newest key's index first, then the older ones.
  EXPECT_EQ(ring.BlindIndexes("x"),
            (std::vector<std::string>{new_ring.BlindIndex("x"), old_ring.BlindIndex("x")}));
  EXPECT_THROW(FieldCipher({Key("1", 1), Key("1", 2)}), std::invalid_argument);
  EXPECT_THROW(FieldCipher(std::vector<FieldKey>{}), std::invalid_argument);
}

// Values sealed before ciphertexts carried a key id ("v1:") still open, with any key of the ring.
TEST(FieldCipher, OpensValuesSealedBeforeKeyIds) {
  // The first format was "v1:" + base64(nonce || ciphertext || tag), the same AEAD and data.
  const FieldCipher ring({Key("1", 0xaa), Key("2", 2)});
  const FieldCipher sealer({Key("x", 0xaa)});
  const auto v2 = sealer.Encrypt("C1234567", "n1/passport_number");
  const std::string v1 = "v1:" + v2.substr(std::string("v2:x:").size());
  EXPECT_EQ(ring.Decrypt(v1, "n1/passport_number"), "C1234567");
  EXPECT_FALSE(ring.IsCurrent(v1));
  EXPECT_FALSE(FieldCipher::KeyIdOf(v1).has_value());
  EXPECT_TRUE(FieldCipher::LooksSealed(v1));
  EXPECT_FALSE(FieldCipher::LooksSealed("whsec_0123456789abcdef"));
}

TEST(FieldCipher, KeyFileHoldsOneKeyOrARingWithIds) {
  const auto dir = testing::MakeTempDir("jilaf-key");
  testing::WriteFile(dir + "/bare", std::string(64, 'a') + "\n");
  testing::WriteFile(dir + "/ring", "# rotated 2026-12-05\n1:" + std::string(64, 'a') +
                                        "\n\n2026-12: " + std::string(64, 'b') + "\n");
  testing::WriteFile(dir + "/short", "abcd");
  testing::WriteFile(dir + "/twice", "a:" + std::string(64, 'a') + "\na:" + std::string(64, 'b'));
  testing::WriteFile(dir + "/bad-id", "a b:" + std::string(64, 'a'));
  testing::WriteFile(dir + "/empty", "# nothing\n");
  const auto bare = FieldCipher::ReadKeyFile(dir + "/bare");
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].id, "1");
  EXPECT_EQ(bare[0].bytes[0], 0xaa);
  const auto ring = FieldCipher::ReadKeyFile(dir + "/ring");
  ASSERT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring[1].id, "2026-12");
  EXPECT_EQ(ring[1].bytes[31], 0xbb);
  for (const char* bad : {"short", "twice", "bad-id", "empty", "missing"}) {
    try {
      (void)FieldCipher::ReadKeyFile(dir + "/" + bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(dir + "/" + bad), std::string::npos) << message;
      EXPECT_EQ(message.find(std::string(64, 'a')), std::string::npos) << message;
    }
  }
  std::filesystem::remove_all(dir);
}

// A table of sealed values like nomination_personal, on a real store.
class FieldRekeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-rekey");
    store_ = OpenStore();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<store::Store> OpenStore() {
    return std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/rekey.db"},
        std::vector<store::MigrationSet>{
            FieldRekey::Migrations(),
            {"test.people",
             {{1, "people", "CREATE TABLE people (id TEXT PRIMARY KEY, secret TEXT);"}}}});
  }

  static std::string Context(const std::string& id) { return id + "/secret"; }

  void Insert(const FieldCipher& cipher, const std::string& id, const std::string& value) {
    store_->Write([&](store::Db& tx) {
      auto stmt = tx.Prepare(
          "INSERT INTO people(id, secret) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET"
          " secret = excluded.secret");
      stmt.Bind(1, id).Bind(2, cipher.Encrypt(value, Context(id)));
      stmt.Run();
    });
  }

  std::optional<std::string> Read(const FieldCipher& cipher, const std::string& id) {
    return store_->Read([&](store::Db& db) -> std::optional<std::string> {
      auto stmt = db.Prepare("SELECT secret FROM people WHERE id = ?");
      stmt.Bind(1, id);
      if (!stmt.Step()) return std::nullopt;
      return cipher.Decrypt(stmt.Text(0), Context(id));
    });
  }

  std::vector<RekeyTarget> Targets(const FieldCipher& cipher) {
    return {SealedColumn(cipher, "people", "id", "secret", "id || '/secret'")};
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(FieldRekeyTest, ReencryptsWhileReadsAndWritesContinue) {
  const FieldCipher old_ring({Key("1", 1)});
  constexpr int kRows = 3000;
  store_->Write([&](store::Db& tx) {
    auto stmt = tx.Prepare("INSERT INTO people(id, secret) VALUES (?, ?)");
    for (int i = 0; i < kRows; ++i) {
      const std::string id = "p" + std::to_string(i);
      stmt.Bind(1, id).Bind(2, old_ring.Encrypt("value " + id, Context(id)));
      stmt.Run();
    }
  });
  const FieldCipher ring({Key("1", 1), Key("2", 2)});
  FieldRekey rekey(*store_, ring, Targets(ring), {50, std::chrono::milliseconds(2)});
  EXPECT_EQ(rekey.Status()["remaining"], kRows);
  EXPECT_FALSE(rekey.Status()["older_keys_removable"]);
  ASSERT_TRUE(rekey.Start());
  EXPECT_FALSE(rekey.Start());  // one run at a time

  // The service keeps serving: reads of any row open with the ring, writes (updates of old rows
  // and new rows) seal with the newest key, until the rotation is done.
  int reads = 0;
  int writes = 0;
  int rewritten_seen_midway = 0;
  std::mt19937 random(7);
  while (rekey.Status()["running"].get<bool>()) {
    const std::string id = "p" + std::to_string(random() % kRows);
    const auto value = Read(ring, id);
    ASSERT_TRUE(value.has_value()) << id;
    EXPECT_TRUE(*value == "value " + id || *value == "updated " + id) << *value;
    ++reads;
    if (reads % 5 == 0) {
      Insert(ring, id, "updated " + id);
      Insert(ring, "new" + std::to_string(writes), "new value");
      ++writes;
    }
    const auto status = rekey.Status();
    if (status["targets"][0].contains("run")) {
      rewritten_seen_midway = status["targets"][0]["run"]["rewritten"].get<int>();
    }
  }
  rekey.Wait();
  EXPECT_GT(reads, 0);
  EXPECT_GT(writes, 0) << "the rotation ended before any write interleaved with it";
  EXPECT_LT(rewritten_seen_midway, kRows) << "no status was read while the rotation ran";

  const auto status = rekey.Status();
  EXPECT_EQ(status["remaining"], 0) << status.dump();
  EXPECT_TRUE(status["older_keys_removable"]) << status.dump();
  EXPECT_EQ(status["write_key"], "2");
  EXPECT_FALSE(status["targets"][0]["run"]["finished_at"].is_null());
  EXPECT_EQ(status["targets"][0]["run"]["unreadable"], 0);
  // Rows updated during the run were already under the newest key: not rewritten again.
  EXPECT_LE(status["targets"][0]["run"]["rewritten"].get<int>(), kRows);

  // The old key can now leave the ring: every row opens with the new key alone.
  const FieldCipher new_ring({Key("2", 2)});
  store_->Read([&](store::Db& db) {
    auto stmt = db.Prepare("SELECT id, secret FROM people");
    int rows = 0;
    while (stmt.Step()) {
      EXPECT_EQ(FieldCipher::KeyIdOf(stmt.Text(1)), "2");
      EXPECT_TRUE(new_ring.Decrypt(stmt.Text(1), Context(stmt.Text(0))).has_value())
          << stmt.Text(0);
      ++rows;
    }
    EXPECT_EQ(rows, kRows + writes);
  });
}

TEST_F(FieldRekeyTest, ResumesWhereARestartLeftOff) {
  const FieldCipher old_ring({Key("1", 1)});
  constexpr int kRows = 2000;
  for (int i = 0; i < kRows; i += 500) {
    store_->Write([&](store::Db& tx) {
      auto stmt = tx.Prepare("INSERT INTO people(id, secret) VALUES (?, ?)");
      for (int j = i; j < i + 500; ++j) {
        const std::string id = "p" + std::to_string(j);
        stmt.Bind(1, id).Bind(2, old_ring.Encrypt("value " + id, Context(id)));
        stmt.Run();
      }
    });
  }
  // A row sealed with a key the ring does not hold: counted, never lost or overwritten.
  const FieldCipher stranger({Key("9", 9)});
  Insert(stranger, "zz-stranger", "kept");

  const FieldCipher ring({Key("1", 1), Key("2", 2)});
  std::string position;  // the last key rewritten
  std::string started_at;
  {
    FieldRekey first(*store_, ring, Targets(ring), {20, std::chrono::milliseconds(5)});
    ASSERT_TRUE(first.Start());
    // Stop ("the process ends") once some batches have committed.
    for (int i = 0; i < 2000 && position.empty(); ++i) {
      const auto status = first.Status();
      position = status["targets"][0]["run"]["position"].get<std::string>();
      if (position.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    first.Stop();
    const auto status = first.Status();
    position = status["targets"][0]["run"]["position"];
    started_at = status["targets"][0]["run"]["started_at"];
    ASSERT_FALSE(position.empty());
    ASSERT_GT(status["remaining"].get<int>(), 0) << "the run finished before it was stopped";
    EXPECT_TRUE(status["targets"][0]["run"]["finished_at"].is_null());
  }
  // A new process on the same file: the position survived, and the run goes on from it.
  store_ = OpenStore();
  FieldRekey second(*store_, ring, Targets(ring), {200, std::chrono::milliseconds(0)});
  EXPECT_GE(second.Status()["targets"][0]["run"]["position"].get<std::string>(), position);
  second.ResumeIfUnfinished();
  second.Wait();
  const auto status = second.Status();
  EXPECT_EQ(status["targets"][0]["run"]["started_at"], started_at) << "started over";
  EXPECT_EQ(status["targets"][0]["run"]["unreadable"], 1);
  EXPECT_EQ(status["remaining"], 1) << status.dump();  // the stranger's row
  EXPECT_FALSE(status["older_keys_removable"]);
  EXPECT_EQ(Read(stranger, "zz-stranger"), "kept");
  for (int i = 0; i < kRows; i += 97) {
    EXPECT_EQ(Read(FieldCipher({Key("2", 2)}), "p" + std::to_string(i)),
              "value p" + std::to_string(i));
  }
  // Nothing unfinished is resumed twice.
  FieldRekey third(*store_, ring, Targets(ring));
  third.ResumeIfUnfinished();
  third.Wait();
  EXPECT_EQ(third.Status()["targets"][0]["run"]["started_at"], started_at);
}

}  // namespace
}  // namespace jilaf::crypto
