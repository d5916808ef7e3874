// Retention of the bookkeeping tables (common/service/housekeeping.hpp): what is pruned, and
// that pruning never loses an event still to publish nor lets one be applied twice.
#include "common/service/housekeeping.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "tests/support/process.hpp"

namespace jilaf::service {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-retention");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), events::InboxMigrations(),
                                         http::IdempotencyMigrations()});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // An outbox row for a new event; `sent_ms` 0 leaves it unpublished.
  std::string Outbox(std::int64_t sent_ms, std::size_t payload_bytes = 10) {
    auto event =
        events::MakeEvent("/jilaf/test", "jilaf.test.thing.created", "k", "things/k",
                          "/schemas/test.json", {{"filler", std::string(payload_bytes, 'x')}});
    store_->Write([&](store::Db& tx) {
      events::AppendToOutbox(tx, "jilaf.test.events", event);
      if (sent_ms != 0) {
        auto mark = tx.Prepare("UPDATE outbox SET sent_ms = ? WHERE event_id = ?");
        mark.Bind(1, sent_ms).Bind(2, event.id);
        mark.Run();
      }
    });
    return event.id;
  }

  std::int64_t Scalar(const std::string& sql) {
    return store_->Read([&](store::Db& db) {
      auto stmt = db.Prepare(sql);
      return stmt.Step() ? stmt.Int(0) : -1;
    });
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(RetentionTest, OnlyPublishedOutboxRowsPastTheRetentionArePruned) {
  const std::int64_t now = util::NowUnixMs();
  RetentionOptions options;
  options.outbox_retention_s = 3600;
  options.batch = 2;                                          // several write jobs for one pass
  for (int i = 0; i < 5; ++i) Outbox(now - 2 * 3600 * 1000);  // published two hours ago
  const auto recent = Outbox(now - 60 * 1000);                // published a minute ago
  const auto pending = Outbox(0);                             // still to publish
  store_->Write([&](store::Db& tx) {  // committed long ago and never acknowledged
    tx.Exec("UPDATE outbox SET created_ms = 0 WHERE sent_ms IS NULL");
  });

  const auto result = RunHousekeeping(*store_, options, nullptr, now);
  EXPECT_EQ(result.outbox_rows, 5);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox"), 2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE event_id = '" + recent + "'"), 1);
  EXPECT_EQ(
      Scalar("SELECT count(*) FROM outbox WHERE event_id = '" + pending + "' AND sent_ms IS NULL"),
      1);
  EXPECT_EQ(RunHousekeeping(*store_, options, nullptr, now).outbox_rows, 0);
}

TEST_F(RetentionTest, AnIdempotencyKeyAnswersRetriesForADayThenIsANewRequest) {
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/things";
  request.body = R"({"name": "a"})";
  request.headers = {{"idempotency-key", "key-1"}};
  request.principal.subject = "alice";
  int created = 0;
  auto post = [&] {
    return store_->Write([&](store::Db& tx) {
      return http::RunIdempotent(tx, request, [&] {
        ++created;
        http::Response response;
        response.status = 201;
        response.body = "{\"n\": " + std::to_string(created) + "}";
        return response;
      });
    });
  };
  EXPECT_EQ(post().body, "{\"n\": 1}");
  const auto replay = post();
  EXPECT_EQ(replay.body, "{\"n\": 1}");
  EXPECT_EQ(replay.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(created, 1);

  // A day and a minute later: the key is a new request, and housekeeping removes old records.
  const std::int64_t day = http::kIdempotencyKeyLifetimeMs;
  store_->Write([&](store::Db& tx) {
    auto age = tx.Prepare("UPDATE idempotency_keys SET created_ms = created_ms - ?");
    age.Bind(1, day + 60 * 1000);
    age.Run();
  });
  EXPECT_EQ(post().body, "{\"n\": 2}");
  EXPECT_EQ(created, 2);
  request.headers = {{"idempotency-key", "key-2"}};
  post();
  store_->Write([&](store::Db& tx) {
    tx.Exec("UPDATE idempotency_keys SET created_ms = 0 WHERE idem_key = 'key-2'");
  });
  EXPECT_EQ(RunHousekeeping(*store_, {}, nullptr, util::NowUnixMs()).idempotency_keys, 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM idempotency_keys WHERE idem_key = 'key-1'"), 1);
}

// The inbox forgets an event only below its partition's log start; a later copy of the event
// (the relay sent it twice) keeps the row until that copy is gone too, so it is never applied
// a second time.
TEST_F(RetentionTest, InboxRowsGoOnlyBelowTheLogStartOfTheirOwnPartition) {
  int applied = 0;
  const events::EventHandler count = [&](store::Db&, const events::CloudEvent&,
                                         const events::MessageOrigin&) { ++applied; };
  auto apply = [&](const std::string& id, const std::string& topic, int partition,
                   std::int64_t offset) {
    events::CloudEvent event;
    event.id = id;
    return store_->Write([&](store::Db& tx) {
      return events::ApplyOnce(tx, "analytics", event, {topic, partition, offset}, count);
    });
  };
  for (int offset = 0; offset < 10; ++offset) {
    apply("e" + std::to_string(offset), "jilaf.a.events", 0, offset);
  }
  apply("other-partition", "jilaf.a.events", 1, 2);
  apply("other-topic", "jilaf.b.events", 0, 2);
  // e3 comes again at offset 12 (sent twice), and is recognised as a duplicate.
  EXPECT_EQ(apply("e3", "jilaf.a.events", 0, 12), events::ApplyOutcome::kDuplicate);
  ASSERT_EQ(applied, 12);

  const auto pruned = store_->Write([](store::Db& tx) {
    return events::PruneInbox(tx, "analytics", "jilaf.a.events", 0, 5, 1000);
  });
  EXPECT_EQ(pruned, 4);  // e0, e1, e2, e4; e3's row follows its copy at 12
  EXPECT_EQ(apply("e3", "jilaf.a.events", 0, 12), events::ApplyOutcome::kDuplicate);
  for (const char* kept : {"e5", "e9", "other-partition", "other-topic"}) {
    EXPECT_EQ(Scalar(std::string("SELECT count(*) FROM inbox WHERE event_id = '") + kept + "'"), 1)
        << kept;
  }
  EXPECT_EQ(applied, 12);
}

TEST_F(RetentionTest, PrunedSpaceIsHandedBackSoTheFileShrinks) {
  EXPECT_EQ(Scalar("PRAGMA auto_vacuum"), 2);  // incremental
  const std::int64_t now = util::NowUnixMs();
  for (int i = 0; i < 400; ++i) Outbox(now - 7200 * 1000, 4000);
  const auto pages_before = Scalar("PRAGMA page_count");
  RetentionOptions options;
  options.vacuum_pages = 1 << 20;
  const auto result = RunHousekeeping(*store_, options, nullptr, now);
  EXPECT_EQ(result.outbox_rows, 400);
  EXPECT_GT(result.pages, 300);
  EXPECT_LT(Scalar("PRAGMA page_count"), pages_before - 300);
  EXPECT_EQ(Scalar("PRAGMA freelist_count"), 0);
}

// A file made before incremental vacuum is switched over when a store opens it.
TEST(RetentionMigration, AnExistingFileIsSwitchedToIncrementalVacuum) {
  const std::string dir = testing::MakeTempDir("jilaf-retention-vacuum");
  const std::string path = dir + "/old.db";
  {
    store::Db db(path, {});
    db.Exec("PRAGMA auto_vacuum = NONE; CREATE TABLE t (x); INSERT INTO t VALUES (1)");
  }
  {
    store::Store store({path}, {});
    EXPECT_EQ(store.Read([](store::Db& db) {
      auto stmt = db.Prepare("PRAGMA auto_vacuum");
      return stmt.Step() ? stmt.Int(0) : -1;
    }),
              2);
    EXPECT_EQ(store.Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT x FROM t");
      return stmt.Step() ? stmt.Int(0) : -1;
    }),
              1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jilaf::service
