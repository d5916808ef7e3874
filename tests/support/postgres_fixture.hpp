#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "common/store/store.hpp"
#include "tests/support/test_database.hpp"

namespace jilaf::testing {

/// A gtest fixture whose every test has a PostgreSQL database of its own (TestDatabase) on the
/// server scripts/test starts for the `postgres` label; without that server the test fails with a
/// message saying so. A fixture that opens a store or connections on the database does it in
/// SetUpOnDatabase() and closes them in TearDownBeforeDrop(), since the drop ends every session.
class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() final {
    ASSERT_TRUE(TestDatabase::Available())
        << "JILAF_TEST_DATABASE_URL is not set: run through scripts/test -L postgres";
    database_ = std::make_unique<TestDatabase>();
    SetUpOnDatabase();
  }

  void TearDown() final {
    TearDownBeforeDrop();
    database_.reset();
  }

  /// Runs once the test's database exists.
  virtual void SetUpOnDatabase() {}
  /// Runs before the test's database is dropped (also after a failed set-up).
  virtual void TearDownBeforeDrop() {}

  /// A PostgreSQL store's settings for the test's database.
  [[nodiscard]] store::StoreOptions Options() const { return database_->StoreOptions(); }

  std::unique_ptr<TestDatabase> database_;
};

}  // namespace jilaf::testing
