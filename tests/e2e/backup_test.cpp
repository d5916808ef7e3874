// Online backup and restore against the real broker (docs/operations.md, "Backup and restore"):
// a copy taken under write load holds every write answered before it, and a service started on
// the restored copy publishes the events the copy had not yet published, re-sends none it had,
// and a consumer with an inbox applies each event once even when both the original and the
// restored store publish the same row.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/events/consumer.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/store.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using namespace std::chrono_literals;

class BackupE2e : public E2eTest {
 protected:
  template <typename Predicate>
  static bool Eventually(Predicate done, std::chrono::seconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }

  std::int64_t OutboxPending(const RunningService& service) {
    const auto ready = Admin(service, "/readyz");
    return nlohmann::json::parse(ready.body)["kafka"]["outbox_pending"].get<std::int64_t>();
  }

  std::string CreatePartner(testing::HttpClient& client, int n) {
    const nlohmann::json body = {{"name", "Backup partner " + std::to_string(n)},
                                 {"acronym", "BP"},
                                 {"country", "KH"},
                                 {"kind", "federation"},
                                 {"contact", {{"name", "Ms Dara"}, {"email", "dara@example.org"}}}};
    const auto result = client.Request(
        "POST", "/v1/partners", body.dump(),
        {{"Authorization", "Bearer " + staff_token_}, {"Content-Type", "application/json"}});
    if (result.status != 201) return {};
    return nlohmann::json::parse(result.body)["id"].get<std::string>();
  }
};

struct OutboxRow {
  std::string event_id;
  std::string key;
  std::optional<std::int64_t> sent_ms;
};

std::vector<OutboxRow> ReadOutbox(const std::string& file) {
  store::Db db(file, store::Db::Options{true, 5000});
  auto stmt = db.Prepare("SELECT event_id, msg_key, sent_ms FROM outbox ORDER BY seq");
  std::vector<OutboxRow> rows;
  while (stmt.Step()) rows.push_back({stmt.Text(0), stmt.Text(1), stmt.OptInt(2)});
  return rows;
}

TEST_F(BackupE2e, CopyUnderLoadRestoresEveryAnsweredWriteAndTheOutboxWithoutDoubleEffects) {
  const std::string backups = dir_ + "/backups";
  std::filesystem::create_directories(backups);
  const std::string admin = Token("admin");
  const std::vector<std::string> common_flags = {"--backup-dir", backups, "--rate-limit-write-rps",
                                                 "0"};

  // A consumer with an inbox, as every service's consumer has: the effect (a row per event,
  // counting applications) commits with the inbox row.
  store::Store consumer_store(
      {dir_ + "/consumer.db"},
      {events::InboxMigrations(),
       {"test.applied",
        {{1, "applied",
          "CREATE TABLE applied (event_id TEXT PRIMARY KEY, times INTEGER NOT NULL)"}}}});
  metrics::Metrics metrics;
  events::ConsumerOptions options;
  options.name = group_ + "-backup";
  options.topics = {"jilaf.projects.events"};
  options.brokers = bootstrap_;
  options.dead_letter_topic = "jilaf.analytics.dlq";
  events::Consumer consumer(
      consumer_store, options,
      [](store::Db& tx, const events::CloudEvent& event, const events::MessageOrigin&) {
        auto stmt = tx.Prepare(
            "INSERT INTO applied(event_id, times) VALUES (?, 1)"
            " ON CONFLICT(event_id) DO UPDATE SET times = times + 1");
        stmt.Bind(1, event.id);
        stmt.Run();
      },
      metrics);
  consumer.Start();
  auto& duplicates =
      metrics.events_duplicates.Add({{"consumer", options.name}, {"topic", options.topics[0]}});
  auto applied = [&consumer_store] {
    return consumer_store.Read([](store::Db& db) {
      std::map<std::string, std::int64_t> times;
      auto stmt = db.Prepare("SELECT event_id, times FROM applied");
      while (stmt.Step()) times[stmt.Text(0)] = stmt.Int(1);
      return times;
    });
  };
  auto applied_all = [&](const std::vector<OutboxRow>& rows) {
    const auto times = applied();
    for (const auto& row : rows) {
      if (times.count(row.event_id) == 0) return false;
    }
    return true;
  };

  // 1. Events published before the backup: in the copy they are marked sent.
  auto& first = StartProjects(common_flags);
  const std::string original_db = first.db;
  {
    testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(first.http_port));
    for (int n = 0; n < 10; ++n) ASSERT_FALSE(CreatePartner(client, n).empty());
  }
  ASSERT_TRUE(Eventually([&] { return OutboxPending(first) == 0; }));
  Stop(first);

  // 2. The backup, taken while two clients keep writing. The relay cannot reach a broker (a
  // closed port), so every event of this phase is still pending in the copy.
  auto flags = common_flags;
  flags.insert(flags.end(),
               {"--kafka-brokers", "127.0.0.1:" + std::to_string(testing::FreePort())});
  auto& loaded = StartProjects(flags);
  std::atomic<bool> stop_load{false};
  std::atomic<int> written{0};
  std::mutex answered_mutex;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> answered;
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(loaded.http_port));
      for (int n = 0; !stop_load; ++n) {
        const std::string id = CreatePartner(client, 1000 * (w + 1) + n);
        if (id.empty()) continue;
        const auto at = std::chrono::steady_clock::now();
        std::lock_guard lock(answered_mutex);
        answered.emplace_back(id, at);
        ++written;
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return written >= 40; }, 60s));
  const auto backup_asked = std::chrono::steady_clock::now();
  testing::HttpClient admin_client("127.0.0.1", static_cast<std::uint16_t>(loaded.admin_port));
  const auto backup =
      admin_client.Request("POST", "/v1/admin/backups", {}, {{"Authorization", "Bearer " + admin}});
  const int written_at_backup = written;
  ASSERT_TRUE(Eventually([&] { return written >= written_at_backup + 40; }, 60s));
  stop_load = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(backup.status, 201) << backup.body;
  const auto answer = nlohmann::json::parse(backup.body);
  const std::string backup_file = answer["path"].get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(backup_file));
  EXPECT_EQ(std::filesystem::path(backup_file).parent_path(), std::filesystem::path(backups));
  EXPECT_EQ(answer["bytes"].get<std::int64_t>(),
            static_cast<std::int64_t>(std::filesystem::file_size(backup_file)));
  EXPECT_EQ(
      admin_client
          .Request("POST", "/v1/admin/backups", {}, {{"Authorization", "Bearer " + staff_token_}})
          .status,
      403);
  EXPECT_EQ(admin_client.Request("POST", "/v1/admin/backups").status, 401);
  EXPECT_EQ(Metric(loaded, "jilaf_store_backups_total{outcome=\"written\"}"), 1);
  EXPECT_GT(Metric(loaded, "jilaf_store_last_backup_timestamp_seconds"), 1.7e9);
  Stop(loaded);

  std::vector<std::string> answered_before;  // answered before the backup was asked for
  for (const auto& [id, at] : answered) {
    if (at < backup_asked) answered_before.push_back(id);
  }
  ASSERT_GE(answered_before.size(), 40U);
  const auto copied = ReadOutbox(backup_file);
  std::set<std::string> copied_pending;
  std::set<std::string> copied_keys;
  std::size_t copied_sent = 0;
  for (const auto& row : copied) {
    copied_keys.insert(row.key);
    if (row.sent_ms) {
      ++copied_sent;
    } else {
      copied_pending.insert(row.event_id);
    }
  }
  EXPECT_EQ(copied_sent, 10U);  // phase 1, all acknowledged before the backup
  EXPECT_EQ(answer["outbox_pending"].get<std::size_t>(), copied_pending.size());
  ASSERT_GE(copied_pending.size(), answered_before.size());
  for (const auto& id : answered_before) EXPECT_EQ(copied_keys.count(id), 1U) << id;

  // 3. The original store goes on after the backup: it publishes every pending row, including
  // those the copy holds as pending, and the consumer applies them.
  auto& resumed = StartProjects(common_flags);
  ASSERT_TRUE(Eventually([&] { return OutboxPending(resumed) == 0; }));
  Stop(resumed);
  const auto original = ReadOutbox(original_db);
  ASSERT_TRUE(Eventually([&] { return applied_all(original); })) << "consumer did not catch up";
  const double duplicates_before_restore = duplicates.Value();

  // 4. Restore: the copy becomes the database of a service in a fresh directory.
  const std::string restored_dir = testing::MakeTempDir("jilaf-restore");
  const std::string restored_db = restored_dir + "/projects.db";
  std::filesystem::copy_file(backup_file, restored_db);
  const std::int64_t restore_started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count();
  auto& restored = StartProjects({"--db", restored_db});
  for (const auto& id : answered_before) {
    EXPECT_EQ(Call(restored, "GET", "/v1/partners/" + id, {}, staff_token_).status, 200) << id;
  }
  ASSERT_TRUE(Eventually([&] { return OutboxPending(restored) == 0; }));
  // Every event pending in the copy arrives again and is recognised by the inbox.
  ASSERT_TRUE(Eventually([&] {
    return duplicates.Value() - duplicates_before_restore >=
           static_cast<double>(copied_pending.size());
  })) << duplicates.Value() - duplicates_before_restore
      << " of " << copied_pending.size();
  Stop(restored);

  // The restored service sent exactly the rows pending in the copy, and none marked sent.
  const auto after = ReadOutbox(restored_db);
  ASSERT_EQ(after.size(), copied.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].event_id, copied[i].event_id);
    ASSERT_TRUE(after[i].sent_ms.has_value()) << after[i].event_id;
    if (copied[i].sent_ms) {
      EXPECT_EQ(*after[i].sent_ms, *copied[i].sent_ms) << "re-sent " << after[i].event_id;
    } else {
      EXPECT_GE(*after[i].sent_ms, restore_started_ms);
    }
  }
  EXPECT_EQ(duplicates.Value() - duplicates_before_restore,
            static_cast<double>(copied_pending.size()));
  // Each event took effect once, whichever store published it and however often.
  const auto times = applied();
  for (const auto& row : original) {
    ASSERT_EQ(times.count(row.event_id), 1U) << row.event_id;
    EXPECT_EQ(times.at(row.event_id), 1) << row.event_id;
  }
  consumer.Stop();
  std::filesystem::remove_all(restored_dir);
}

}  // namespace
}  // namespace jilaf::e2e
