#include "common/store/store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <thread>

#include <sqlite3.h>

#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/util/thread_role.hpp"
#include "tests/support/process.hpp"

namespace jilaf::store {
namespace {

std::vector<MigrationSet> TestMigrations() {
  return {
      events::OutboxMigrations(),
      events::InboxMigrations(),
      {"test", {{1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"}}}};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("jilaf-store"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return dir_ + "/test.db"; }

  static std::int64_t Count(Store& store, const std::string& table) {
    return store.Read([&](Db& db) {
      auto stmt = db.Prepare("SELECT count(*) FROM " + table);
      return stmt.Step() ? stmt.Int(0) : -1;
    });
  }

  static void Insert(Db& db, const std::string& name) {
    auto stmt = db.Prepare("INSERT INTO items(name) VALUES (?)");
    stmt.Bind(1, name);
    stmt.Run();
  }

  std::string dir_;
};

TEST_F(StoreTest, MigrationsRunOnceAndRefuseNewerSchema) {
  { Store store({Path()}, TestMigrations()); }
  { Store again({Path()}, TestMigrations()); }  // does not re-run (would fail: table exists)
  auto older = TestMigrations();
  older[2].migrations.clear();
  older[2].migrations.push_back({0, "none", ""});
  EXPECT_THROW(Store({Path()}, older), StoreError);
}

TEST_F(StoreTest, UsesWalAndFullSync) {
  Store store({Path()}, TestMigrations());
  store.Write([](Db& db) {
    auto mode = db.Prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.Step());
    EXPECT_EQ(mode.Text(0), "wal");
    auto sync = db.Prepare("PRAGMA synchronous");
    ASSERT_TRUE(sync.Step());
    EXPECT_EQ(sync.Int(0), 2);  // FULL
  });
}

TEST_F(StoreTest, WriteIsVisibleAfterItReturns) {
  Store store({Path()}, TestMigrations());
  store.Write([](Db& db) { Insert(db, "a"); });
  EXPECT_EQ(Count(store, "items"), 1);
}

TEST_F(StoreTest, IoThreadReadsShareOneTransactionPerRoundYetSeeEveryCompletedCommit) {
  Store store({Path()}, TestMigrations());
  store.Write([](Db& db) { Insert(db, "a"); });
  std::promise<void> read_once;
  std::promise<void> written;
  // WAL readers block a TRUNCATE checkpoint, so it tells whether a snapshot is still held.
  auto truncate = [&] {
    Db probe(Path(), {false, 50});
    auto stmt = probe.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    return stmt.Step() ? stmt.Int(0) : -1;  // 1: busy, a reader holds the WAL
  };
  std::thread io([&] {
    util::MarkIoThread();
    EXPECT_EQ(Count(store, "items"), 1);
    // The next read of the same round starts inside the transaction the first one left open.
    store.Read([](Db& db) { EXPECT_EQ(sqlite3_txn_state(db.handle(), nullptr), SQLITE_TXN_READ); });
    read_once.set_value();
    written.get_future().wait();
    // A commit completed since: same round, yet the read sees it.
    EXPECT_EQ(Count(store, "items"), 2);
    EXPECT_EQ(truncate(), 1);
    util::EndRound();  // what http::Runtime's io loop does before it waits again
    EXPECT_EQ(truncate(), 0);
  });
  read_once.get_future().wait();
  store.Write([](Db& db) { Insert(db, "b"); });
  written.set_value();
  io.join();
}

TEST_F(StoreTest, NestedIoThreadReadsShareTheSnapshotAndSurviveAFailedStatement) {
  Store store({Path()}, TestMigrations());
  store.Write([](Db& db) { Insert(db, "a"); });
  std::thread io([&] {
    util::MarkIoThread();
    store.Read([&](Db& outer) {
      EXPECT_EQ(Count(store, "items"), 1);  // nested: the same connection and snapshot
      // A failing statement in a nested Read closes the connection only once the outer Read
      // is done with it: the outer one goes on using it.
      EXPECT_THROW(store.Read([](Db& db) { db.Exec("SELECT * FROM no_such_table"); }), StoreError);
      auto stmt = outer.Prepare("SELECT count(*) FROM items");
      ASSERT_TRUE(stmt.Step());
      EXPECT_EQ(stmt.Int(0), 1);
    });
    EXPECT_EQ(Count(store, "items"), 1);  // a fresh connection and transaction
    util::EndRound();
  });
  io.join();
}

TEST_F(StoreTest, ConcurrentWritesShareOneCommitAndFailuresStayIsolated) {
  Store store({Path()}, TestMigrations());
  std::vector<std::size_t> batches;
  store.SetCommitObserver([&](std::size_t jobs, double) { batches.push_back(jobs); });
  // Hold the writer on a first job so that the next ones queue up behind it.
  std::latch entered(1);
  std::latch release(1);
  auto blocker = store.WriteAsync([&](Db& db) {
    entered.count_down();
    release.wait();
    Insert(db, "first");
  });
  entered.wait();
  std::vector<std::future<void>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(store.WriteAsync([i](Db& db) {
      Insert(db, "item-" + std::to_string(i));
      if (i == 7) throw std::runtime_error("job 7 refuses");
    }));
  }
  release.count_down();
  blocker.get();
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      futures[i].get();
    } catch (const std::runtime_error& error) {
      ++failures;
      EXPECT_EQ(i, 7);
      EXPECT_STREQ(error.what(), "job 7 refuses");
    }
  }
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(Count(store, "items"), 20);  // first + 19 good ones
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], 1u);
  EXPECT_EQ(batches[1], 20u);
}

TEST_F(StoreTest, BatchEndWorkRunsAfterTheLastJobAndLeavesWithAFailedJob) {
  Store store({Path()}, TestMigrations());
  std::latch entered(1);
  std::latch release(1);
  auto blocker = store.WriteAsync([&](Db&) {
    entered.count_down();
    release.wait();
  });
  entered.wait();
  // Each job inserts its item and queues a second one for the batch's end; the queued item
  // is only written once every job has run (it sees the last job's item).
  std::vector<std::future<void>> futures;
  for (int i = 0; i < 5; ++i) {
    futures.push_back(store.WriteAsync([i](Db& db) {
      Insert(db, "job-" + std::to_string(i));
      db.AtBatchEnd([i](Db& tx) {
        auto last = tx.Prepare("SELECT count(*) FROM items WHERE name = 'job-4'");
        ASSERT_TRUE(last.Step());
        Insert(tx, "end-" + std::to_string(i) + "-saw-" + std::to_string(last.Int(0)));
      });
      if (i == 2) throw std::runtime_error("job 2 refuses");
    }));
  }
  release.count_down();
  blocker.get();
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      EXPECT_THROW(futures[i].get(), std::runtime_error);
    } else {
      futures[i].get();
    }
  }
  const auto names = store.Read([](Db& db) {
    std::vector<std::string> out;
    auto stmt = db.Prepare("SELECT name FROM items ORDER BY id");
    while (stmt.Step()) out.push_back(stmt.Text(0));
    return out;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"job-0", "job-1", "job-3", "job-4", "end-0-saw-1",
                                             "end-1-saw-1", "end-3-saw-1", "end-4-saw-1"}));
}

TEST_F(StoreTest, FailedBatchEndWorkFailsTheWholeBatch) {
  Store store({Path()}, TestMigrations());
  EXPECT_THROW(store.Write([](Db& db) {
    Insert(db, "kept-only-if-committed");
    db.AtBatchEnd([](Db& tx) { Insert(tx, "kept-only-if-committed"); });  // UNIQUE
  }),
               StoreError);
  EXPECT_EQ(Count(store, "items"), 0);
  // Outside the writer's batch (a connection of its own), the work runs at once.
  Db db(Path(), {});
  bool ran = false;
  db.AtBatchEnd([&](Db&) { ran = true; });
  EXPECT_TRUE(ran);
}

TEST_F(StoreTest, TheWriterAloneHasALargePageCache) {
  Store store({Path()}, TestMigrations());
  const auto cache_size = [](Db& db) {
    auto stmt = db.Prepare("PRAGMA cache_size");
    return stmt.Step() ? stmt.Int(0) : 0;
  };
  // 64 MiB (negative: KiB) on the writer's connection, SQLite's default of 2 MiB on a reader's.
  EXPECT_EQ(store.Write(cache_size), -64 * 1024);
  EXPECT_EQ(store.Read(cache_size), -2000);
}

TEST_F(StoreTest, CheckpointsRunOffTheWriterAndKeepTheWalBounded) {
  Store store({Path()}, TestMigrations());
  // The writer's own automatic checkpoint is off (its WAL hook is the store's)...
  EXPECT_EQ(store.Write([](Db& db) {
    auto stmt = db.Prepare("PRAGMA wal_autocheckpoint");
    return stmt.Step() ? stmt.Int(0) : -1;
  }),
            0);
  // ...yet about 5,000 pages of WAL, written in 2,000 commits of two or three pages, leave
  // a WAL file near the 1,000-page threshold: the checkpoint thread copies it back and the
  // writer starts it again from the beginning. (The file keeps its high-water size.)
  const std::string filler(3000, 'x');
  for (int i = 0; i < 2000; ++i) {
    store.Write([&](Db& db) { Insert(db, std::to_string(i) + filler); });
  }
  EXPECT_LT(std::filesystem::file_size(Path() + "-wal"), 2500u * 4096u);
  EXPECT_EQ(Count(store, "items"), 2000);
}

TEST_F(StoreTest, MaxBatchOfOneCommitsEachJobAlone) {
  Store store({Path(), 1}, TestMigrations());
  std::atomic<int> commits{0};
  store.SetCommitObserver([&](std::size_t jobs, double) {
    EXPECT_EQ(jobs, 1u);
    ++commits;
  });
  std::vector<std::future<void>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(store.WriteAsync([i](Db& db) { Insert(db, std::to_string(i)); }));
  }
  for (auto& f : futures) f.get();
  EXPECT_EQ(commits.load(), 10);
}

TEST_F(StoreTest, ConstraintViolationFailsOnlyThatJob) {
  Store store({Path()}, TestMigrations());
  store.Write([](Db& db) { Insert(db, "dup"); });
  EXPECT_THROW(store.Write([](Db& db) { Insert(db, "dup"); }), StoreError);
  store.Write([](Db& db) { Insert(db, "other"); });
  EXPECT_EQ(Count(store, "items"), 2);
}

TEST_F(StoreTest, OutboxRowCommitsWithTheStateChangeOrNotAtAll) {
  Store store({Path()}, TestMigrations());
  const auto event = events::MakeEvent("/test", "jilaf.test.created", "k1", "items/1", "", {});
  store.Write([&](Db& db) {
    Insert(db, "x");
    events::AppendToOutbox(db, "jilaf.test.events", event);
  });
  EXPECT_THROW(store.Write([&](Db& db) {
    Insert(db, "y");
    events::AppendToOutbox(db, "jilaf.test.events", events::MakeEvent("/t", "t", "k2", "", "", {}));
    throw std::runtime_error("domain rule says no");
  }),
               std::runtime_error);
  EXPECT_EQ(Count(store, "items"), 1);
  EXPECT_EQ(Count(store, "outbox"), 1);
  store.Read([&](Db& db) {
    auto stmt = db.Prepare("SELECT event_id, topic, msg_key, sent_ms FROM outbox");
    ASSERT_TRUE(stmt.Step());
    EXPECT_EQ(stmt.Text(0), event.id);
    EXPECT_EQ(stmt.Text(1), "jilaf.test.events");
    EXPECT_EQ(stmt.Text(2), "k1");
    EXPECT_TRUE(stmt.IsNull(3));
  });
}

TEST_F(StoreTest, InboxAppliesAnEventOnce) {
  Store store({Path()}, TestMigrations());
  const auto event = events::MakeEvent("/test", "jilaf.test.created", "k", "", "", {});
  int applied = 0;
  const events::EventHandler handler = [&](Db& db, const events::CloudEvent& e,
                                           const events::MessageOrigin&) {
    ++applied;
    Insert(db, e.id);
  };
  const events::MessageOrigin origin{"jilaf.test.events", 0, 5};
  EXPECT_EQ(store.Write([&](Db& db) { return events::ApplyOnce(db, "c", event, origin, handler); }),
            events::ApplyOutcome::kApplied);
  EXPECT_EQ(store.Write([&](Db& db) { return events::ApplyOnce(db, "c", event, origin, handler); }),
            events::ApplyOutcome::kDuplicate);
  // Another consumer has an inbox of its own.
  EXPECT_EQ(store.Write([&](Db& db) {
    return events::ApplyOnce(db, "other", event, origin, [](Db&, auto&, auto&) {});
  }),
            events::ApplyOutcome::kApplied);
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(Count(store, "items"), 1);
}

TEST_F(StoreTest, FailedHandlerLeavesNoInboxRowSoARetryApplies) {
  Store store({Path()}, TestMigrations());
  const auto event = events::MakeEvent("/test", "t", "k", "", "", {});
  const events::MessageOrigin origin{"t", 0, 1};
  EXPECT_THROW(store.Write([&](Db& db) {
    return events::ApplyOnce(db, "c", event, origin,
                             [](Db&, auto&, auto&) { throw std::runtime_error("transient"); });
  }),
               std::runtime_error);
  EXPECT_EQ(Count(store, "inbox"), 0);
  EXPECT_EQ(store.Write([&](Db& db) {
    return events::ApplyOnce(db, "c", event, origin, [](Db&, auto&, auto&) {});
  }),
            events::ApplyOutcome::kApplied);
}

TEST_F(StoreTest, WritesAfterStopFailCleanly) {
  Store store({Path()}, TestMigrations());
  store.Stop();
  EXPECT_THROW(store.Write([](Db& db) { Insert(db, "late"); }), StoreError);
}

}  // namespace
}  // namespace jilaf::store
