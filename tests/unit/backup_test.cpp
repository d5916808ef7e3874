// store::BackupDatabase on real SQLite files: the copy is one consistent snapshot while writes
// go on, and a failed or refused backup leaves no file behind.
#include "common/store/backup.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/config/flags.hpp"
#include "common/service/service.hpp"
#include "common/store/store.hpp"
#include "tests/support/process.hpp"

namespace jilaf::store {
namespace {

std::vector<MigrationSet> Items() {
  return {{"test", {{1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"}}}};
}

TEST(StoreBackup, CopyTakenDuringWritesHoldsExactlyAPrefixOfTheCommits) {
  const std::string dir = testing::MakeTempDir("jilaf-backup");
  Store store({dir + "/live.db"}, Items());
  std::atomic<std::int64_t> committed{0};
  std::atomic<bool> stop{false};
  // One write per commit, in order: any consistent snapshot holds ids 1..k with no gap.
  std::thread writer([&] {
    for (std::int64_t id = 1; !stop; ++id) {
      store.Write([id](Db& tx) {
        auto stmt = tx.Prepare("INSERT INTO items(id, name) VALUES (?, ?)");
        stmt.Bind(1, id).Bind(2, std::string(200, 'x'));
        stmt.Run();
      });
      committed = id;
    }
  });
  while (committed < 200) std::this_thread::yield();
  const std::int64_t before = committed;
  const std::int64_t bytes = BackupDatabase(store.options().path, dir + "/copy.db");
  const std::int64_t after = committed;
  while (committed < after + 50) std::this_thread::yield();  // writes went on after the copy
  stop = true;
  writer.join();

  EXPECT_EQ(bytes, static_cast<std::int64_t>(std::filesystem::file_size(dir + "/copy.db")));
  EXPECT_FALSE(std::filesystem::exists(dir + "/copy.db.partial"));
  Db copy(dir + "/copy.db", Db::Options{true, 1000});
  auto stmt = copy.Prepare("SELECT count(*), coalesce(max(id), 0) FROM items");
  ASSERT_TRUE(stmt.Step());
  const std::int64_t rows = stmt.Int(0);
  EXPECT_EQ(stmt.Int(1), rows) << "the copy has a gap: not one snapshot";
  EXPECT_GE(rows, before);
  EXPECT_LE(rows, after + 1);  // the write in flight when the copy began may be in it
  EXPECT_LT(rows, committed.load());
  std::filesystem::remove_all(dir);
}

TEST(StoreBackup, ACopyOpensAsAStoreWithItsRowsAndSchema) {
  const std::string dir = testing::MakeTempDir("jilaf-backup");
  {
    Store store({dir + "/live.db"}, Items());
    store.Write([](Db& tx) { tx.Exec("INSERT INTO items(id, name) VALUES (7, 'seven')"); });
    BackupDatabase(store.options().path, dir + "/copy.db");
  }
  Store restored({dir + "/copy.db"}, Items());  // no migration left to apply
  const auto name = restored.Read([](Db& db) {
    auto stmt = db.Prepare("SELECT name FROM items WHERE id = 7");
    return stmt.Step() ? stmt.Text(0) : std::string();
  });
  EXPECT_EQ(name, "seven");
  std::filesystem::remove_all(dir);
}

TEST(StoreBackup, RefusesAnExistingFileAndLeavesNothingWhenTheCopyFails) {
  const std::string dir = testing::MakeTempDir("jilaf-backup");
  Store store({dir + "/live.db"}, Items());
  std::ofstream(dir + "/taken.db") << "an older backup";
  EXPECT_THROW(BackupDatabase(store.options().path, dir + "/taken.db"), StoreError);
  std::ifstream kept(dir + "/taken.db");
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "an older backup");
  EXPECT_THROW(BackupDatabase(store.options().path, dir + "/missing-dir/copy.db"), StoreError);
  EXPECT_FALSE(std::filesystem::exists(dir + "/missing-dir"));
  std::filesystem::remove_all(dir);
}

TEST(StoreBackup, AMissingBackupDirectoryStopsTheServiceNamingTheSetting) {
  const std::string dir = testing::MakeTempDir("jilaf-backup");
  auto validate = [](const std::string& backup_dir) {
    service::ServiceConfig config;
    config.db_path = "test.db";
    config::Flags flags("jilaf-test", "test");
    config.Register(flags);
    bool help = false;
    const auto parse_error = flags.Parse(
        {"--jwt-public-key=key.pem", "--backup-dir=" + backup_dir},
        [](const char*) -> const char* { return nullptr; }, help);
    EXPECT_FALSE(parse_error) << *parse_error;
    return config.Validate();
  };
  const auto error = validate(dir + "/absent");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--backup-dir (JILAF_BACKUP_DIR)"), std::string::npos) << *error;
  EXPECT_FALSE(validate(dir)) << *validate(dir);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jilaf::store
