// What several replicas of a service share on one PostgreSQL database: the cluster locks that
// elect one relay and one scheduler per service, and the inbox row that keeps a consumer's
// effect single when two replicas receive the same event during a rebalance.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/service/scheduler.hpp"
#include "common/store/change_signal.hpp"
#include "common/store/cluster_lock.hpp"
#include "common/store/postgres.hpp"
#include "common/store/store.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/test_database.hpp"

namespace jilaf::store {
namespace {

using std::chrono::milliseconds;

class Replicas : public testing::PostgresTest {
 protected:
  // Runs `sql` (a count) on a connection of its own to this test's database.
  [[nodiscard]] std::int64_t Count(const std::string& sql) const {
    pg::ConnectionOptions options{database_->url(), testing::TestDatabase::PasswordFile(), {}, 5};
    pg::Db db(options);
    auto stmt = db.Prepare(sql);
    return stmt.Step() ? stmt.Int(0) : -1;
  }

  // Polls `sql` until it counts at least one row (bounded), instead of sleeping.
  [[nodiscard]] bool Eventually(const std::string& sql) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Count(sql) > 0) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
};

TEST_F(Replicas, OneReplicaHoldsAClusterLockAndAnotherTakesItOverWhenItIsGivenUp) {
  ClusterLock first(Options(), "jilaf.outbox.test", milliseconds(0));
  ClusterLock second(Options(), "jilaf.outbox.test", milliseconds(0));
  ClusterLock other(Options(), "jilaf.scheduler.test", milliseconds(0));
  EXPECT_TRUE(first.Hold());
  EXPECT_FALSE(second.Hold());
  EXPECT_TRUE(first.Hold());  // kept, not taken again
  EXPECT_TRUE(other.Hold());  // another name is another lock
  first.Release();
  EXPECT_TRUE(second.Hold());
  EXPECT_FALSE(first.Hold());
}

TEST_F(Replicas, AClusterLockIsLostWithItsSessionAndTakenOverByAnotherReplica) {
  ClusterLock leader(Options(), "jilaf.outbox.test", milliseconds(0));
  ClusterLock standby(Options(), "jilaf.outbox.test", milliseconds(0));
  ASSERT_TRUE(leader.Hold());
  ASSERT_FALSE(standby.Hold());
  // The leader's process dies: the server ends its session (here: terminated by the admin).
  EXPECT_EQ(Count("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype ="
                  " 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE"
                  " datname = current_database())"),
            1);
  ASSERT_TRUE(Eventually(
      "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
      " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"));
  EXPECT_TRUE(standby.Hold());
  EXPECT_FALSE(leader.Hold());  // its new session finds the lock taken
}

TEST_F(Replicas, TheSchedulerRunsItsTasksOnTheReplicaHoldingTheLockOnly) {
  std::atomic<int> runs_a = 0;
  std::atomic<int> runs_b = 0;
  service::Scheduler a;
  service::Scheduler b;
  a.SetClusterLock(std::make_unique<ClusterLock>(Options(), "jilaf.scheduler.test"));
  b.SetClusterLock(std::make_unique<ClusterLock>(Options(), "jilaf.scheduler.test"));
  a.Every("scan", milliseconds(10), [&] { ++runs_a; });
  b.Every("scan", milliseconds(10), [&] { ++runs_b; });
  a.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (runs_a < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  b.Start();
  const int before = runs_a;
  while (runs_a < before + 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(runs_a, before + 20);
  EXPECT_EQ(runs_b, 0);  // every tick of b found the lock held by a
  a.Stop();              // gives the lock up: b takes the tasks over
  while (runs_b == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  b.Stop();
  EXPECT_GT(runs_b, 0);
}

TEST_F(Replicas, TwoReplicasApplyingTheSameEventTakeItsEffectOnce) {
  // Two stores on one database: two replicas. During a rebalance both may receive an event;
  // the second one's inbox insert waits for the first's transaction, then finds its row.
  const std::vector<MigrationSet> migrations = {
      events::InboxMigrations(),
      {"test.effects",
       {{1, "effects", "CREATE TABLE effects (event_id TEXT NOT NULL)",
         "CREATE TABLE effects (event_id TEXT NOT NULL)"}}}};
  Store first(Options(), migrations);
  Store second(Options(), migrations);
  events::CloudEvent event;
  event.id = "ev-rebalance";
  const events::EventHandler effect = [](Db& tx, const events::CloudEvent& e,
                                         const events::MessageOrigin&) {
    auto insert = tx.Prepare("INSERT INTO effects(event_id) VALUES (?)");
    insert.Bind(1, e.id);
    insert.Run();
  };
  std::promise<void> release;
  std::promise<void> applied;
  auto held = release.get_future().share();
  auto one = first.WriteAsync([&](Db& tx) {
    const auto outcome = events::ApplyOnce(tx, "test", event, {"jilaf.test.events", 0, 7}, effect);
    applied.set_value();
    held.wait();  // the transaction stays open while the other replica tries
    return outcome;
  });
  // The first replica's inbox row exists, not yet committed.
  const bool first_applied =
      applied.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  if (!first_applied) release.set_value();
  ASSERT_TRUE(first_applied);
  auto two = std::async(std::launch::async, [&] {
    return second.Write([&](Db& tx) {
      return events::ApplyOnce(tx, "test", event, {"jilaf.test.events", 0, 7}, effect);
    });
  });
  const bool waited = Eventually(
      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname ="
      " current_database()");
  release.set_value();
  EXPECT_TRUE(waited);  // the second insert waited on the first's uncommitted row
  EXPECT_EQ(one.get(), events::ApplyOutcome::kApplied);
  EXPECT_EQ(two.get(), events::ApplyOutcome::kDuplicate);
  EXPECT_EQ(Count("SELECT count(*) FROM effects"), 1);
  first.Stop();
  second.Stop();
}

TEST_F(Replicas, AClusterLockLostWithItsSessionIsTakenAgainWithoutWaitingForItsCheckInterval) {
  // The relay checks its lock every second; after a store failure (a server restart ends every
  // session) it asks for a check at once, and a failed check is retried within 100 ms.
  ClusterLock lock(Options(), "jilaf.outbox.test", std::chrono::seconds(60));
  ASSERT_TRUE(lock.Hold());
  ASSERT_EQ(Count("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype ="
                  " 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE"
                  " datname = current_database())"),
            1);
  lock.CheckSoon();
  EXPECT_FALSE(lock.Hold());  // its session is gone, and the lock with it
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool held = false;
  while (!held && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    held = lock.Hold();
  }
  EXPECT_TRUE(held);  // taken again on a new session, not 60 s later
}

// Counts the change signal's calls and lets a test wait for the next one.
struct SignalCounter {
  std::mutex mutex;
  std::condition_variable cv;
  int calls = 0;

  void Add() {
    std::lock_guard guard(mutex);
    ++calls;
    cv.notify_all();
  }
  [[nodiscard]] int Calls() {
    std::lock_guard guard(mutex);
    return calls;
  }
  [[nodiscard]] bool WaitBeyond(int seen) {
    std::unique_lock guard(mutex);
    return cv.wait_for(guard, std::chrono::seconds(10), [&] { return calls > seen; });
  }
};

events::CloudEvent OutboxEvent(const std::string& id) {
  return events::MakeEvent("/jilaf/test", "jilaf.test.thing.done", id, "things/" + id,
                           "/schemas/test/thing.done/v1.json", nlohmann::json::object());
}

TEST_F(Replicas, AnOutboxRowCommittedByAnotherReplicaWakesTheChangeSignal) {
  Store writer(Options(), {events::OutboxMigrations()});
  SignalCounter counter;
  ChangeSignal signal(Options(), "jilaf_outbox", [&] { counter.Add(); });
  signal.Start();
  ASSERT_TRUE(counter.WaitBeyond(0));  // called once it listens: what came before it
  ASSERT_TRUE(signal.Listening());
  const int before = counter.Calls();
  writer.Write([](Db& tx) { events::AppendToOutbox(tx, "jilaf.test.events", OutboxEvent("a")); });
  EXPECT_TRUE(counter.WaitBeyond(before));  // the outbox trigger's NOTIFY, at the commit
  signal.Stop();
  writer.Stop();
}

TEST_F(Replicas, TheChangeSignalListensAgainAfterItsSessionEnds) {
  Store writer(Options(), {events::OutboxMigrations()});
  SignalCounter counter;
  ChangeSignal signal(Options(), "jilaf_outbox", [&] { counter.Add(); });
  signal.Start();
  ASSERT_TRUE(counter.WaitBeyond(0));
  const int listening = counter.Calls();
  // A server restart ends the session; here the administrator ends it.
  ASSERT_EQ(Count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname ="
                  " current_database() AND query LIKE 'LISTEN%'"),
            1);
  ASSERT_TRUE(counter.WaitBeyond(listening));  // listens again, and says so
  ASSERT_TRUE(signal.Listening());
  const int again = counter.Calls();
  writer.Write([](Db& tx) { events::AppendToOutbox(tx, "jilaf.test.events", OutboxEvent("b")); });
  EXPECT_TRUE(counter.WaitBeyond(again));
  signal.Stop();
  writer.Stop();
}

}  // namespace
}  // namespace jilaf::store
