// The PostgreSQL store engine against a real PostgreSQL 15 server (scripts/test starts one for
// the `postgres` label and exports JILAF_TEST_DATABASE_URL and JILAF_TEST_DATABASE_PASSWORD_FILE).
// Each test works in a database of its own (testing::PostgresTest).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/store/postgres.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

namespace jilaf::store::pg {
namespace {

class PostgresStore : public jilaf::testing::PostgresTest {
 protected:
  void SetUpOnDatabase() override {
    server_.url = jilaf::testing::TestDatabase::ServerUrl();
    server_.password_file = jilaf::testing::TestDatabase::PasswordFile();
    options_ = server_;
    options_.database = database_->name();
  }

  static std::int64_t Count(Db& db, const std::string& sql) {
    auto stmt = db.Prepare(sql);
    return stmt.Step() ? stmt.Int(0) : -1;
  }

  ConnectionOptions server_;
  ConnectionOptions options_;
};

MigrationSet Widgets() {
  return {"test.widgets",
          {{1, "create widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"},
           {2, "widget colour", "ALTER TABLE widgets ADD COLUMN colour TEXT"}}};
}

TEST(PostgresPlaceholders, NumbersQuestionMarksOutsideQuotedText) {
  EXPECT_EQ(NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(NumberPlaceholders("DELETE FROM t WHERE a = ?1 AND b IN (SELECT b WHERE c = ?1)"),
            "DELETE FROM t WHERE a = $1 AND b IN (SELECT b WHERE c = $1)");
  EXPECT_EQ(NumberPlaceholders("SELECT '?', \"odd?name\" FROM t WHERE x = ?"),
            "SELECT '?', \"odd?name\" FROM t WHERE x = $1");
}

TEST_F(PostgresStore, ConnectsWithTheUrlAndThePasswordFile) {
  Db db(options_);
  EXPECT_EQ(Count(db, "SELECT 1"), 1);
  auto stmt = db.Prepare("SELECT current_database()");
  ASSERT_TRUE(stmt.Step());
  EXPECT_EQ(stmt.Text(0), database_->name());
}

TEST_F(PostgresStore, RefusesAWrongPasswordAndAMissingPasswordFile) {
  const std::string dir = testing::MakeTempDir("jilaf-pg");
  std::ofstream(dir + "/wrong") << "not-the-password\n";
  auto wrong = options_;
  wrong.password_file = dir + "/wrong";
  try {
    Db db(wrong);
    FAIL() << "connected with a wrong password";
  } catch (const PgError& error) {
    EXPECT_NE(std::string(error.what()).find("password authentication failed"), std::string::npos)
        << error.what();
  }
  auto missing = options_;
  missing.password_file = dir + "/absent";
  try {
    Db db(missing);
    FAIL() << "connected without its password file";
  } catch (const PgError& error) {
    EXPECT_NE(std::string(error.what()).find("password file"), std::string::npos) << error.what();
  }
}

TEST_F(PostgresStore, BindsAndReadsEveryColumnKind) {
  Db db(options_);
  db.Exec("CREATE TABLE kinds (i BIGINT, d DOUBLE PRECISION, t TEXT, b BOOLEAN, n TEXT)");
  auto insert = db.Prepare("INSERT INTO kinds VALUES (?, ?, ?, ?, ?)");
  insert.Bind(1, std::int64_t{-9007199254740993}).Bind(2, 2.5).Bind(3, "日本 'quoted' ?");
  insert.Bind(4, "true").Bind(5, nullptr);
  insert.Run();
  EXPECT_EQ(db.Changes(), 1);
  auto select = db.Prepare("SELECT i, d, t, b, n FROM kinds");
  ASSERT_TRUE(select.Step());
  EXPECT_EQ(select.Int(0), -9007199254740993);
  EXPECT_DOUBLE_EQ(select.Double(1), 2.5);
  EXPECT_EQ(select.Text(2), "日本 'quoted' ?");
  EXPECT_EQ(select.Int(3), 1);
  EXPECT_TRUE(select.IsNull(4));
  EXPECT_EQ(select.OptText(4), std::nullopt);
  EXPECT_FALSE(select.Step());
}

TEST_F(PostgresStore, MigrationsApplyOnceAndRefuseANewerSchema) {
  Db db(options_);
  Migrate(db, {Widgets()});
  Migrate(db, {Widgets()});
  EXPECT_EQ(Count(db, "SELECT count(*) FROM schema_migrations WHERE component = 'test.widgets'"),
            2);
  EXPECT_EQ(Count(db,
                  "SELECT count(*) FROM information_schema.columns"
                  " WHERE table_name = 'widgets' AND column_name = 'colour'"),
            1);
  auto older = Widgets();
  older.migrations.pop_back();
  EXPECT_THROW(Migrate(db, {older}), StoreError);
}

TEST_F(PostgresStore, MigrationsFromReplicasStartingTogetherApplyEachStepOnce) {
  constexpr int kReplicas = 6;
  std::vector<std::thread> replicas;
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  for (int r = 0; r < kReplicas; ++r) {
    replicas.emplace_back([&] {
      try {
        Db db(options_);
        while (!go) std::this_thread::yield();
        Migrate(db, {{"test.gadgets",
                      {{1, "create gadgets", "CREATE TABLE gadgets (id TEXT PRIMARY KEY)"},
                       {2, "gadget size", "ALTER TABLE gadgets ADD COLUMN size BIGINT"}}},
                     Widgets()});
      } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
        ++failures;
      }
    });
  }
  go = true;
  for (auto& replica : replicas) replica.join();
  EXPECT_EQ(failures, 0);
  Db db(options_);
  // 2 gadgets + 2 widgets steps, each recorded once.
  EXPECT_EQ(Count(db, "SELECT count(*) FROM schema_migrations"), 4);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
}

TEST_F(PostgresStore, ATransactionCommitsWholeOrNotAtAll) {
  Db db(options_);
  Migrate(db, {Widgets()});
  Transaction(db, [](Db& tx) {
    auto stmt = tx.Prepare("INSERT INTO widgets(id, n) VALUES (?, ?)");
    stmt.Bind(1, "kept").Bind(2, 1);
    stmt.Run();
  });
  EXPECT_THROW(Transaction(db,
                           [](Db& tx) {
                             auto stmt = tx.Prepare("INSERT INTO widgets(id, n) VALUES (?, ?)");
                             stmt.Bind(1, "lost").Bind(2, 1);
                             stmt.Run();
                             stmt.Bind(1, "kept").Bind(2, 2);  // duplicate key: the whole fails
                             stmt.Run();
                           }),
               PgError);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM widgets"), 1);
  EXPECT_EQ(Count(db, "SELECT n FROM widgets WHERE id = 'kept'"), 1);
  // The connection is usable after the rollback.
  const auto n = Transaction(db, [](Db& tx) { return Count(tx, "SELECT count(*) FROM widgets"); });
  EXPECT_EQ(n, 1);
}

TEST_F(PostgresStore, AUniqueViolationCarriesItsSqlState) {
  Db db(options_);
  Migrate(db, {Widgets()});
  db.Exec("INSERT INTO widgets(id, n) VALUES ('a', 1)");
  try {
    db.Exec("INSERT INTO widgets(id, n) VALUES ('a', 2)");
    FAIL() << "duplicate accepted";
  } catch (const PgError& error) {
    EXPECT_EQ(error.sqlstate(), "23505");
  }
}

}  // namespace
}  // namespace jilaf::store::pg
