#pragma once

#include <string>

#include "common/store/store.hpp"

namespace jilaf::testing {

/// A PostgreSQL database of its own for one test, on the server scripts/test starts for the
/// `postgres` label (JILAF_TEST_DATABASE_URL, JILAF_TEST_DATABASE_PASSWORD_FILE): created by the
/// constructor, dropped (connections and all) by the destructor.
class TestDatabase {
 public:
  /// True when scripts/test has exported a server for the tests to use.
  static bool Available();
  /// The server's URL and password file (tests that need no database of their own).
  static std::string ServerUrl();
  static std::string PasswordFile();

  TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  ~TestDatabase();

  [[nodiscard]] const std::string& name() const { return name_; }
  /// The server's URL with this database in place of the URL's own.
  [[nodiscard]] std::string url() const;
  /// A PostgreSQL store's settings for this database.
  [[nodiscard]] store::StoreOptions StoreOptions() const;

 private:
  std::string name_;
};

}  // namespace jilaf::testing
