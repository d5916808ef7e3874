#include "tests/support/test_database.hpp"

#include <cstdlib>
#include <stdexcept>

#include "common/store/postgres.hpp"
#include "common/util/ids.hpp"

namespace jilaf::testing {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

store::pg::ConnectionOptions Server() {
  store::pg::ConnectionOptions options;
  options.url = TestDatabase::ServerUrl();
  options.password_file = TestDatabase::PasswordFile();
  return options;
}

}  // namespace

bool TestDatabase::Available() { return !ServerUrl().empty(); }
std::string TestDatabase::ServerUrl() { return Env("JILAF_TEST_DATABASE_URL"); }
std::string TestDatabase::PasswordFile() { return Env("JILAF_TEST_DATABASE_PASSWORD_FILE"); }

TestDatabase::TestDatabase() : name_("jilaf_test_" + util::RandomHex(8)) {
  if (!Available()) {
    throw std::runtime_error(
        "JILAF_TEST_DATABASE_URL is not set: run this test through scripts/test, which starts a "
        "PostgreSQL server for the `postgres` label");
  }
  store::pg::Db admin(Server());
  admin.Exec("CREATE DATABASE " + name_);
}

TestDatabase::~TestDatabase() {
  try {
    store::pg::Db admin(Server());
    admin.Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {  // the server is gone: its directory goes with it
  }
}

store::StoreOptions TestDatabase::StoreOptions() const {
  store::StoreOptions options;
  options.engine = store::Engine::kPostgres;
  options.database_url = ServerUrl();
  options.database_password_file = PasswordFile();
  options.database_name = name_;
  return options;
}

std::string TestDatabase::url() const {
  const std::string server = ServerUrl();
  const auto slash = server.find('/', server.find("://") + 3);
  const auto query = server.find('?');
  std::string out = server.substr(0, slash) + "/" + name_;
  if (query != std::string::npos) out += server.substr(query);
  return out;
}

}  // namespace jilaf::testing
