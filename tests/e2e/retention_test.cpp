// The inbox pruned against the real broker: a consumer forgets the events whose messages Kafka
// no longer holds, and only those, so a replay from the log start applies nothing twice and an
// event produced afterwards is still applied once.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "common/events/consumer.hpp"
#include "common/events/people.hpp"
#include "common/metrics/metrics.hpp"
#include "common/util/ids.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using namespace std::chrono_literals;

class InboxRetentionE2e : public E2eTest {
 protected:
  // Polls `done` for up to `timeout` (the broker and the consumer's prune timer set the pace).
  template <typename Predicate>
  static bool Eventually(Predicate done, std::chrono::seconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }

  // A consumer of `topic` under a group of this test's own.
  events::ConsumerOptions ConsumerOn(const std::string& topic, const std::string& name) const {
    events::ConsumerOptions options;
    options.name = group_ + "-" + name;
    options.topics = {topic};
    options.brokers = bootstrap_;
    options.dead_letter_topic = "jilaf.analytics.dlq";
    return options;
  }
};

TEST_F(InboxRetentionE2e, RowsOfMessagesGoneFromThePartitionArePrunedAndNothingAppliesTwice) {
  const std::string topic = "test.inbox-retention." + util::RandomHex(6);
  CreateTopic(topic);
  ProduceTestEvents(topic, 20);

  // On the engine of the registration: the pruning's SQL differs between them.
  std::unique_ptr<testing::TestDatabase> database;
  if (OnPostgres()) database = std::make_unique<testing::TestDatabase>();
  store::Store store(
      database ? database->StoreOptions() : store::StoreOptions{dir_ + "/consumer.db"},
      {events::InboxMigrations()});
  metrics::Metrics metrics;
  std::atomic<int> applied{0};
  auto options = ConsumerOn(topic, "retention");
  options.inbox_prune_interval = 200ms;
  auto inbox_rows = [&] {
    return store.Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT count(*), coalesce(min(\"offset\"), -1) FROM inbox");
      return stmt.Step() ? std::make_pair(stmt.Int(0), stmt.Int(1))
                         : std::make_pair(std::int64_t{-1}, std::int64_t{-1});
    });
  };
  auto run = [&] {
    return std::make_unique<events::Consumer>(
        store, options,
        [&](store::Db&, const events::CloudEvent&, const events::MessageOrigin&) { ++applied; },
        metrics);
  };

  auto consumer = run();
  consumer->Start();
  ASSERT_TRUE(Eventually([&] { return applied == 20; })) << applied;
  EXPECT_EQ(inbox_rows().first, 20);

  DeleteRecordsBefore(topic, 12);
  ASSERT_TRUE(Eventually([&] { return inbox_rows().first == 8; })) << inbox_rows().first;
  EXPECT_EQ(inbox_rows().second, 12);
  consumer->Stop();
  consumer.reset();

  // A replay from the log start (offsets 12..19) finds every event in the inbox.
  KafkaCtl("reset-offsets " + options.name + " " + topic);
  ProduceTestEvents(topic, 1);
  consumer = run();
  consumer->Start();
  auto& duplicates = metrics.events_duplicates.Add({{"consumer", options.name}, {"topic", topic}});
  ASSERT_TRUE(Eventually([&] { return applied == 21 && duplicates.Value() >= 8; }))
      << applied << " applied, " << duplicates.Value() << " duplicates";
  EXPECT_EQ(applied, 21);
  EXPECT_EQ(duplicates.Value(), 8);
  EXPECT_EQ(inbox_rows().first, 9);
  consumer->Stop();
}

// Events that wait for another consumer of the service (the people copy) were each retried after
// the backoff in turn: a batch fetched before the copy caught up held its partition for
// 200 ms per event (429 events held a PostgreSQL e2e test's notifications for 90 s). Now the first
// retry of each is immediate, so the batch goes through as soon as the copy has caught up; and
// the waiting events of a batch are retried together, in one group commit, not in one
// transaction each (on PostgreSQL one flushed commit each).
TEST_F(InboxRetentionE2e, ABatchWaitingForAnotherConsumerGoesThroughOnceItHasCaughtUp) {
  const std::string topic = "test.waiting-batch." + util::RandomHex(6);
  CreateTopic(topic);  // one partition: the whole batch in one fetch, in order
  constexpr int kEvents = 60;
  ProduceTestEvents(topic, kEvents);

  store::Store store({dir_ + "/consumer.db"}, {events::InboxMigrations()});
  metrics::Metrics metrics;
  std::atomic<bool> caught_up{false};
  std::mutex mutex;
  std::set<std::string> waited;  // the events whose attempt found the other consumer behind
  std::atomic<int> applied{0};
  const auto options = ConsumerOn(topic, "waiting");
  std::atomic<int> commits_caught_up{0};  // commits once the other consumer has caught up
  store.SetCommitObserver([&](std::size_t, double) {
    if (caught_up) ++commits_caught_up;
  });
  events::Consumer consumer(
      store, options,
      [&](store::Db&, const events::CloudEvent& event, const events::MessageOrigin&) {
        if (!caught_up) {
          std::lock_guard lock(mutex);
          waited.insert(event.id);
          throw events::NotYetApplicable("the other consumer is behind");
        }
        ++applied;
      },
      metrics);
  consumer.Start();
  // Every event of the batch has failed its first attempt (they came in one fetch: nothing
  // after a waiting event is fetched before it is settled).
  const auto waiting = [&] {
    std::lock_guard lock(mutex);
    return static_cast<int>(waited.size());
  };
  ASSERT_TRUE(Eventually([&] { return waiting() == kEvents; }, 60s)) << waiting();
  caught_up = true;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return applied == kEvents; }, 60s)) << applied;
  const auto took = std::chrono::steady_clock::now() - start;
  // One backoff (200 ms) per waiting event would take kEvents x 200 ms; allow half of that.
  EXPECT_LT(took, kEvents * 100ms)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms for "
      << kEvents << " waiting events";
  // One commit per event retried in turn would be kEvents commits.
  EXPECT_LT(commits_caught_up, kEvents / 4) << commits_caught_up << " commits";
  consumer.Stop();
  EXPECT_EQ(applied, kEvents);
}

// A handler that may run again (ConsumerOptions::handler_reruns_safely, the notifications
// service's): the events of a fetch are applied by one store job, and one failing event makes
// that job leave nothing and its events run again one job each. Each event's effect lands once,
// through the failure, its retry and a replay of the whole partition.
TEST_F(InboxRetentionE2e, ARerunnableHandlersBatchAppliesEachEventOnceThroughAFailureAndAReplay) {
  const std::string topic = "test.rerunnable." + util::RandomHex(6);
  CreateTopic(topic);  // one partition: the events in few fetches
  constexpr int kEvents = 40;
  ProduceTestEvents(topic, kEvents);

  std::unique_ptr<testing::TestDatabase> database;
  if (OnPostgres()) database = std::make_unique<testing::TestDatabase>();
  store::Store store(
      database ? database->StoreOptions() : store::StoreOptions{dir_ + "/consumer.db"},
      {events::InboxMigrations(),
       {"test", {{1, "effects", "CREATE TABLE effects (event_id TEXT NOT NULL)"}}}});
  metrics::Metrics metrics;
  auto options = ConsumerOn(topic, "rerunnable");
  options.handler_reruns_safely = true;
  options.retry_backoff = 50ms;
  std::atomic<int> runs{0};
  std::mutex mutex;
  std::string failing;  // the tenth event run fails its first two attempts
  int failures = 0;
  int seen = 0;
  const auto handler = [&](store::Db& tx, const events::CloudEvent& event,
                           const events::MessageOrigin&) {
    ++runs;
    auto insert = tx.Prepare("INSERT INTO effects(event_id) VALUES (?)");
    insert.Bind(1, event.id);
    insert.Run();
    std::lock_guard lock(mutex);
    if (failing.empty() && ++seen == 10) failing = event.id;
    if (event.id == failing && failures < 2) {
      ++failures;
      throw std::runtime_error("a transient failure");
    }
  };
  const auto effects = [&] {
    return store.Read([](store::Db& db) {
      auto stmt = db.Prepare(
          "SELECT count(*), count(DISTINCT event_id), coalesce(max(n), 0) FROM"
          " (SELECT event_id, count(*) AS n FROM effects GROUP BY event_id) AS per_event");
      return stmt.Step() ? std::make_tuple(stmt.Int(0), stmt.Int(1), stmt.Int(2))
                         : std::make_tuple(std::int64_t{-1}, std::int64_t{-1}, std::int64_t{-1});
    });
  };
  auto consumer = std::make_unique<events::Consumer>(store, options, handler, metrics);
  consumer->Start();
  ASSERT_TRUE(Eventually([&] { return std::get<0>(effects()) == kEvents; }))
      << std::get<0>(effects());
  consumer->Stop();
  consumer.reset();
  EXPECT_EQ(effects(), std::make_tuple(std::int64_t{kEvents}, std::int64_t{kEvents},
                                       std::int64_t{1}));  // each event once
  EXPECT_EQ(failures, 2);
  // The failure ran the other events of its fetch again (they were in the same job).
  EXPECT_GT(runs, kEvents + 1) << runs;

  // A replay of the whole partition finds every event applied: nothing runs, nothing is added.
  KafkaCtl("reset-offsets " + options.name + " " + topic);
  const int runs_before = runs;
  consumer = std::make_unique<events::Consumer>(store, options, handler, metrics);
  consumer->Start();
  auto& duplicates = metrics.events_duplicates.Add({{"consumer", options.name}, {"topic", topic}});
  ASSERT_TRUE(Eventually([&] { return duplicates.Value() >= kEvents; })) << duplicates.Value();
  consumer->Stop();
  EXPECT_EQ(runs, runs_before);
  EXPECT_EQ(effects(),
            std::make_tuple(std::int64_t{kEvents}, std::int64_t{kEvents}, std::int64_t{1}));
}

}  // namespace
}  // namespace jilaf::e2e
