// common/events/snapshot: one event per row, in pages, keyed and typed as the source says.
#include "common/events/snapshot.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/events/outbox.hpp"
#include "tests/support/process.hpp"

namespace jilaf::events {
namespace {

class Snapshots : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-snapshot");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/s.db"},
        std::vector<store::MigrationSet>{OutboxMigrations(),
                                         {"things",
                                          {{1, "things",
                                            "CREATE TABLE things (seq INTEGER PRIMARY KEY "
                                            "AUTOINCREMENT, doc TEXT NOT NULL)"}}}});
  }
  void TearDown() override {
    store_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(Snapshots, PublishesOneEventPerRowAcrossPages) {
  store_->Write([](store::Db& tx) {
    for (int i = 0; i < 45; ++i) {
      auto insert = tx.Prepare("INSERT INTO things(doc) VALUES (?)");
      insert.Bind(1, nlohmann::json{{"id", "t" + std::to_string(i)}, {"n", i}}.dump());
      insert.Run();
    }
  });
  const SnapshotOptions options{"demo", "/jilaf/demo", "jilaf.demo.events", 10, {}};
  const std::vector<SnapshotSource> sources = {
      {"thing", "SELECT seq, doc FROM things WHERE seq > ?1 ORDER BY seq LIMIT ?2",
       [](store::Db&, const nlohmann::json& doc) {
         return SnapshotItem{doc["id"],
                             "things/" + doc["id"].get<std::string>(),
                             {{"thing_id", doc["id"]}, {"n", doc["n"]}}};
       }}};
  const auto counts = PublishSnapshots(*store_, options, sources);
  EXPECT_EQ(counts.at("thing"), 45);
  EXPECT_EQ(SnapshotSummary(options, counts)["published"], 45);
  store_->Read([](store::Db& db) {
    auto stmt = db.Prepare("SELECT topic, msg_key, headers, payload FROM outbox ORDER BY seq");
    int n = 0;
    while (stmt.Step()) {
      EXPECT_EQ(stmt.Text(0), "jilaf.demo.events");
      EXPECT_EQ(stmt.Text(1), "t" + std::to_string(n));  // keyed by the aggregate, in order
      EXPECT_NE(stmt.Text(2).find("jilaf.demo.thing.snapshot"), std::string::npos);
      EXPECT_NE(stmt.Text(2).find("/schemas/demo/thing.snapshot/v1.json"), std::string::npos);
      EXPECT_EQ(nlohmann::json::parse(stmt.Text(3))["n"], n);
      ++n;
    }
    EXPECT_EQ(n, 45);
    return 0;
  });
}

TEST_F(Snapshots, AnEmptyTablePublishesNothing) {
  const SnapshotOptions options{"demo", "/jilaf/demo", "jilaf.demo.events", 10, {}};
  const auto counts = PublishSnapshots(
      *store_, options,
      {{"thing", "SELECT seq, doc FROM things WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        [](store::Db&, const nlohmann::json&) { return SnapshotItem{}; }}});
  EXPECT_EQ(counts.at("thing"), 0);
}

}  // namespace
}  // namespace jilaf::events
