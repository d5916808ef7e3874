// The engine-neutral store (store::Store, store::Db) running on a real PostgreSQL 15 server, with
// the platform's bookkeeping (outbox, inbox, idempotency keys, audit chain) through the same code
// the services run on SQLite. Each test works in a database of its own (TestDatabase).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/audit/audit.hpp"
#include "common/domain/error.hpp"
#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/store/dialect.hpp"
#include "common/store/postgres.hpp"
#include "common/store/store.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/test_database.hpp"

namespace jilaf::store {
namespace {

MigrationSet Widgets() {
  return {"test.widgets",
          {{1, "create widgets",
            "CREATE TABLE widgets (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE widgets (id TEXT PRIMARY KEY, n BIGINT NOT NULL)"}}};
}

std::int64_t Count(Db& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  return stmt.Step() ? stmt.Int(0) : -1;
}

void AddWidget(Db& tx, const std::string& id, std::int64_t n) {
  auto insert = tx.Prepare("INSERT INTO widgets(id, n) VALUES (?, ?)");
  insert.Bind(1, id).Bind(2, n);
  insert.Run();
}

class PostgresEngine : public testing::PostgresTest {
 protected:
  void SetUpOnDatabase() override {
    store_ = std::make_unique<Store>(Options(), std::vector<MigrationSet>{
                                                    events::OutboxMigrations(),
                                                    events::InboxMigrations(),
                                                    http::IdempotencyMigrations(),
                                                    audit::Migrations(),
                                                    Widgets(),
                                                });
  }

  void TearDownBeforeDrop() override {
    store_.reset();  // its connections close before the database is dropped
  }

  // Ends every server connection of this test's database, as a server restart would.
  void TerminateConnections() const {
    pg::ConnectionOptions admin;
    admin.url = testing::TestDatabase::ServerUrl();
    admin.password_file = testing::TestDatabase::PasswordFile();
    pg::Db db(admin);
    auto stmt = db.Prepare(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?");
    stmt.Bind(1, database_->name());
    ASSERT_TRUE(stmt.Step());
    EXPECT_GE(stmt.Int(0), 1);
  }

  std::unique_ptr<Store> store_;
};

TEST_F(PostgresEngine, MigrationsAreRecordedOnceInPostgresDialect) {
  EXPECT_EQ(store_->Read([](Db& db) { return db.engine(); }), Engine::kPostgres);
  EXPECT_EQ(store_->Read([](Db& db) {
    return Count(db, "SELECT count(*) FROM schema_migrations WHERE component LIKE 'common.%'");
  }),
            7);  // outbox 2, inbox 2, idempotency 2, audit 1
  // Each step ran in its PostgreSQL text: 64-bit offsets, an identity column for the outbox.
  EXPECT_EQ(store_->Read([](Db& db) {
    auto stmt = db.Prepare(
        "SELECT data_type FROM information_schema.columns WHERE table_name = ? AND column_name = "
        "?");
    stmt.Bind(1, "inbox").Bind(2, "offset");
    return stmt.Step() ? stmt.Text(0) : "";
  }),
            "bigint");
  EXPECT_EQ(store_->Read([](Db& db) {
    return Count(db,
                 "SELECT count(*) FROM information_schema.columns WHERE table_name = 'outbox'"
                 " AND column_name = 'seq' AND is_identity = 'YES'");
  }),
            1);
  // A second store on the same database (a second replica) finds everything applied.
  Store again(Options(), {events::OutboxMigrations(), Widgets()});
  EXPECT_EQ(again.Read([](Db& db) { return Count(db, "SELECT count(*) FROM schema_migrations"); }),
            8);  // the seven above and the widgets' one
}

TEST_F(PostgresEngine, AnOutboxRowCommitsWithItsChangeOrNotAtAll) {
  events::CloudEvent event;
  event.id = "ev-1";
  event.type = "jilaf.test.widget.added";
  event.source = "/jilaf/test";
  event.key = "w1";
  store_->Write([&](Db& tx) {
    AddWidget(tx, "w1", 1);
    events::AppendToOutbox(tx, "jilaf.test.events", event);
  });
  EXPECT_THROW(store_->Write([&](Db& tx) {
    AddWidget(tx, "w2", 2);
    event.id = "ev-2";
    events::AppendToOutbox(tx, "jilaf.test.events", event);
    throw domain::Error::Conflict("the change failed after its event");
  }),
               domain::Error);
  store_->Read([](Db& db) {
    EXPECT_EQ(Count(db, "SELECT count(*) FROM widgets"), 1);
    auto row = db.Prepare("SELECT event_id, msg_key FROM outbox WHERE sent_ms IS NULL");
    ASSERT_TRUE(row.Step());
    EXPECT_EQ(row.Text(0), "ev-1");
    EXPECT_EQ(row.Text(1), "w1");
    EXPECT_FALSE(row.Step());
  });
  store_->Write([](Db& tx) { tx.Exec("UPDATE outbox SET sent_ms = 1000"); });
  EXPECT_EQ(store_->Write([](Db& tx) { return events::PruneSentOutbox(tx, 2000, 10); }), 1);
}

TEST_F(PostgresEngine, QueuedWritesShareOneCommitAndAFailingJobRollsBackAlone) {
  std::atomic<std::size_t> largest{0};
  store_->SetCommitObserver([&](std::size_t jobs, double) {
    std::size_t seen = largest.load();
    while (jobs > seen && !largest.compare_exchange_weak(seen, jobs)) {
    }
  });
  // The first job holds the writer while the others queue behind it.
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto first = store_->WriteAsync([gate](Db& tx) {
    gate.wait();
    AddWidget(tx, "w0", 0);
  });
  std::vector<std::future<void>> jobs;
  for (int i = 1; i <= 40; ++i) {
    const std::string id = i == 7 ? "w0" : "w" + std::to_string(i);  // w0 twice: 23505
    jobs.push_back(store_->WriteAsync([id, i](Db& tx) { AddWidget(tx, id, i); }));
  }
  release.set_value();
  first.get();
  int failed = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    try {
      jobs[i].get();
    } catch (const pg::PgError& error) {
      ++failed;
      EXPECT_EQ(i, 6U);
      EXPECT_EQ(error.sqlstate(), "23505");
      EXPECT_FALSE(error.Transient());
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_GT(largest.load(), 1U);  // the queued jobs were folded into a commit together
  EXPECT_EQ(store_->Read([](Db& db) { return Count(db, "SELECT count(*) FROM widgets"); }), 40);
}

TEST_F(PostgresEngine, AJobReadsWhatItQueuedAndAQueuedFailureIsItsOwnAtItsNextRead) {
  // The writer's connection is pipelined: the inserts below are only queued, and go to the
  // server with the count that follows them, which must see them.
  const auto seen = store_->Write([](Db& tx) {
    for (int i = 0; i < 300; ++i) AddWidget(tx, "p" + std::to_string(i), i);  // past a flush
    auto update = tx.Prepare("UPDATE widgets SET n = n + 1 WHERE n < 10");
    update.Run();
    const auto changed = tx.Changes();
    return std::make_pair(Count(tx, "SELECT count(*) FROM widgets"), changed);
  });
  EXPECT_EQ(seen.first, 300);
  EXPECT_EQ(seen.second, 10);
  // A queued insert that fails is thrown by the job's next read, not by a later job's, and the
  // statements after it in the pipeline did not run.
  bool read_reached = false;
  EXPECT_THROW(store_->Write([&](Db& tx) {
    AddWidget(tx, "p1", 1);  // 23505, reported by the count below
    AddWidget(tx, "q1", 1);
    read_reached = true;
    (void)Count(tx, "SELECT count(*) FROM widgets");
    ADD_FAILURE() << "the duplicate was not reported at the read";
  }),
               pg::PgError);
  EXPECT_TRUE(read_reached);
  store_->Write([](Db& tx) { AddWidget(tx, "q2", 2); });
  EXPECT_EQ(store_->Read([](Db& db) { return Count(db, "SELECT count(*) FROM widgets"); }), 301);
}

TEST_F(PostgresEngine, AStatementMarkedPlanPerRunIsNotPreparedAndAnswersLikeAnother) {
  // A prepared statement may keep a generic plan made while its table was empty (a sequential
  // scan); one marked kPlanPerRun is planned with its values at each run instead. Both the
  // writer's pipelined connection and a reader's run it unprepared, with the same answers.
  const std::string marked = std::string(kPlanPerRun) + "SELECT count(*) FROM widgets WHERE n >= ?";
  const std::string plain = "SELECT count(*) FROM widgets WHERE n < ?";
  const auto prepared_texts = [](Db& db) {
    auto stmt = db.Prepare("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?");
    stmt.Bind(1, "%FROM widgets WHERE n %");
    return stmt.Step() ? stmt.Int(0) : -1;
  };
  const auto run = [&](Db& db) {
    std::vector<std::int64_t> counts;
    for (int i = 0; i < 7; ++i) {  // past the five runs after which a generic plan may stick
      for (const auto& sql : {marked, plain}) {
        auto stmt = db.Prepare(sql);
        stmt.Bind(1, 2);
        counts.push_back(stmt.Step() ? stmt.Int(0) : -1);
      }
    }
    return std::make_pair(counts, prepared_texts(db));
  };
  const auto written = store_->Write([&](Db& tx) {
    for (int i = 0; i < 5; ++i) AddWidget(tx, "w" + std::to_string(i), i);
    return run(tx);
  });
  const auto read = store_->Read(run);
  for (const auto& [counts, prepared] : {written, read}) {
    ASSERT_EQ(counts.size(), 14U);
    for (std::size_t i = 0; i < counts.size(); i += 2) {
      EXPECT_EQ(counts[i], 3);      // n >= 2 among 0..4
      EXPECT_EQ(counts[i + 1], 2);  // n < 2
    }
    EXPECT_EQ(prepared, 1) << "only the unmarked statement is prepared on the server";
  }
}

TEST_F(PostgresEngine, TheInboxAppliesAnEventOnce) {
  events::CloudEvent event;
  event.id = "ev-9";
  int effects = 0;
  const events::EventHandler handler = [&](Db& tx, const events::CloudEvent&,
                                           const events::MessageOrigin&) {
    ++effects;
    AddWidget(tx, "from-event", 1);
  };
  const auto apply = [&](std::int64_t offset) {
    return store_->Write([&](Db& tx) {
      return events::ApplyOnce(tx, "test", event, {"jilaf.test.events", 0, offset}, handler);
    });
  };
  EXPECT_EQ(apply(5), events::ApplyOutcome::kApplied);
  EXPECT_EQ(apply(8), events::ApplyOutcome::kDuplicate);  // redelivered later in the partition
  EXPECT_EQ(effects, 1);
  EXPECT_EQ(store_->Read([](Db& db) {
    return Count(db, "SELECT \"offset\" FROM inbox WHERE event_id = 'ev-9'");
  }),
            8);
  EXPECT_EQ(store_->Write([](Db& tx) {
    return events::PruneInbox(tx, "test", "jilaf.test.events", 0, 9, 10);
  }),
            1);
}

TEST_F(PostgresEngine, AnIdempotencyKeyReplaysTheFirstAnswer) {
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/widgets";
  request.body = R"({"n":1})";
  request.principal.subject = "alice";
  request.headers.emplace_back("idempotency-key", "key-1");
  int created = 0;
  const auto post = [&] {
    return store_->Write([&](Db& tx) {
      return http::RunIdempotent(tx, request, [&] {
        ++created;
        AddWidget(tx, "w" + std::to_string(created), created);
        return http::Response::Json(201, {{"id", created}});
      });
    });
  };
  const auto first = post();
  const auto again = post();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  request.body = R"({"n":2})";
  try {
    post();
    FAIL() << "a reused key with another body was accepted";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 422);
  }
}

TEST_F(PostgresEngine, TheAuditChainVerifiesAcrossCommits) {
  for (int i = 0; i < 3; ++i) {
    store_->Write([i](Db& tx) {
      audit::Entry entry;
      entry.request_id = "r" + std::to_string(i);
      entry.subject = "alice";
      entry.roles = {"staff"};
      entry.method = "POST";
      entry.route = "/v1/widgets";
      entry.outcome = "committed";
      audit::Append(tx, entry);
    });
  }
  const auto verification = store_->Read([](Db& db) { return audit::Verify(db); });
  EXPECT_TRUE(verification.intact);
  EXPECT_EQ(verification.rows, 3);
  EXPECT_EQ(verification.last_seq, 3);
}

audit::Entry AuditEntry(const std::string& request_id) {
  audit::Entry entry;
  entry.request_id = request_id;
  entry.subject = "alice";
  entry.roles = {"staff"};
  entry.method = "POST";
  entry.route = "/v1/widgets";
  entry.outcome = "committed";
  return entry;
}

TEST_F(PostgresEngine, PrefetchedReadsSeeWhatTheJobQueuedAndAnswerInTheirOwnOrder) {
  store_->Write([](Db& tx) {
    for (int i = 0; i < 5; ++i) AddWidget(tx, "a" + std::to_string(i), i);
  });
  const auto answers = store_->Write([](Db& tx) {
    AddWidget(tx, "b0", 100);  // queued: the reads below, sent after it, must see it
    auto large = tx.Prepare("SELECT count(*) FROM widgets WHERE n >= ?");
    large.Bind(1, 100);
    large.Prefetch();
    auto names = tx.Prepare("SELECT id FROM widgets WHERE n < ? ORDER BY id");
    names.Bind(1, 2);
    names.Prefetch();
    // Taken in the other order than sent, then one run again as an ordinary statement.
    std::vector<std::string> ids;
    while (names.Step()) ids.push_back(names.Text(0));
    const std::int64_t before = large.Step() ? large.Int(0) : -1;
    AddWidget(tx, "b1", 101);
    large.Reset();
    const std::int64_t after = large.Step() ? large.Int(0) : -1;
    return std::make_tuple(ids, before, after);
  });
  EXPECT_EQ(std::get<0>(answers), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(std::get<1>(answers), 1);
  EXPECT_EQ(std::get<2>(answers), 2);
}

TEST_F(PostgresEngine, AQueuedInsertThatFailsBeforeAPrefetchedReadFailsOnlyItsOwnJob) {
  store_->Write([](Db& tx) { AddWidget(tx, "taken", 1); });
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto first = store_->WriteAsync([gate](Db& tx) {
    gate.wait();
    AddWidget(tx, "c0", 0);
  });
  auto failing = store_->WriteAsync([](Db& tx) {
    AddWidget(tx, "taken", 2);  // 23505, reported when the read's answer is taken
    auto read = tx.Prepare("SELECT count(*) FROM widgets");
    read.Prefetch();
    (void)read.Step();
    ADD_FAILURE() << "the duplicate was not reported at the prefetched read";
  });
  auto after = store_->WriteAsync([](Db& tx) {
    auto read = tx.Prepare("SELECT count(*) FROM widgets WHERE id = ?");
    read.Bind(1, "c0");
    read.Prefetch();
    AddWidget(tx, "c2", read.Step() ? read.Int(0) : -1);
  });
  release.set_value();
  first.get();
  try {
    failing.get();
    ADD_FAILURE() << "the job with the duplicate committed";
  } catch (const pg::PgError& error) {
    EXPECT_EQ(error.sqlstate(), "23505");
  }
  after.get();
  EXPECT_EQ(store_->Read([](Db& db) { return Count(db, "SELECT n FROM widgets WHERE id = 'c2'"); }),
            1);
  EXPECT_EQ(store_->Read([](Db& db) { return Count(db, "SELECT count(*) FROM widgets"); }), 3);
}

TEST_F(PostgresEngine, TheKeptAuditTailIsDroppedWhenAJobRollsBackAndFollowsAnotherReplica) {
  // Jobs of one group commit append to the chain from the tail the writer kept; one of them
  // appends and then fails (its row rolls back), so the next must not build on that row.
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto first = store_->WriteAsync([gate](Db& tx) {
    gate.wait();
    audit::Append(tx, AuditEntry("r0"));
  });
  std::vector<std::future<void>> jobs;
  for (int i = 1; i <= 6; ++i) {
    jobs.push_back(store_->WriteAsync([i](Db& tx) {
      audit::Append(tx, AuditEntry("r" + std::to_string(i)));
      if (i == 3) throw std::runtime_error("rejected after its audit row");
    }));
  }
  release.set_value();
  first.get();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (i == 2) {
      EXPECT_THROW(jobs[i].get(), std::runtime_error);
    } else {
      jobs[i].get();
    }
  }
  // Another replica (a store of its own on the same database) appends between two batches of
  // this one; each batch reads the tail again under the chain's lock.
  {
    Store other(Options(), {events::OutboxMigrations(), events::InboxMigrations(),
                            http::IdempotencyMigrations(), audit::Migrations(), Widgets()});
    for (int round = 0; round < 3; ++round) {
      other.Write([round](Db& tx) { audit::Append(tx, AuditEntry("o" + std::to_string(round))); });
      std::vector<std::future<void>> mine;
      for (int i = 0; i < 3; ++i) {
        mine.push_back(store_->WriteAsync([round, i](Db& tx) {
          audit::Append(tx, AuditEntry("m" + std::to_string(round) + std::to_string(i)));
        }));
      }
      for (auto& job : mine) job.get();
    }
  }
  const auto verification = store_->Read([](Db& db) { return audit::Verify(db); });
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.rows, 6 + 3 + 9);
  EXPECT_EQ(verification.last_seq, 18);
}

TEST_F(PostgresEngine, ALostConnectionFailsTransientlyAndTheStoreReconnects) {
  store_->Write([](Db& tx) { AddWidget(tx, "before", 1); });
  EXPECT_EQ(store_->Read([](Db& db) { return Count(db, "SELECT count(*) FROM widgets"); }), 1);
  TerminateConnections();
  // The first use of each dead connection fails with a transient error, never hangs...
  try {
    store_->Write([](Db& tx) { AddWidget(tx, "lost", 2); });
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.Transient()) << error.what();
  }
  try {
    (void)store_->Read([](Db& db) { return Count(db, "SELECT count(*) FROM widgets"); });
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.Transient()) << error.what();
  }
  // ...and the next ones run on fresh connections.
  store_->Write([](Db& tx) { AddWidget(tx, "after", 3); });
  EXPECT_TRUE(store_->Healthy());
  EXPECT_EQ(store_->Read([](Db& db) {
    return Count(db, "SELECT count(*) FROM widgets WHERE id IN ('before', 'after')");
  }),
            2);
}

TEST(PostgresEngineStart, AnUnreachableServerIsATransientErrorNamingTheConnection) {
  StoreOptions options;
  options.engine = Engine::kPostgres;
  options.database_url = "postgresql://jilaf@127.0.0.1:1/none";  // nothing listens on port 1
  options.connect_timeout_s = 2;
  const auto started = std::chrono::steady_clock::now();
  try {
    Store store(options, {Widgets()});
    FAIL() << "a store opened on a closed port";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.Transient());
    EXPECT_NE(std::string(error.what()).find("cannot connect to the database"), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace jilaf::store
