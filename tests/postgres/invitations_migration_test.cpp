// The invitations schema's PostgreSQL steps on rows stored before them, on the real server
// scripts/test starts for the `postgres` label.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/store/store.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/schema.hpp"
#include "services/invitations/tables.hpp"
#include "tests/support/postgres_fixture.hpp"

namespace jilaf::invitations {
namespace {

class PostgresInvitationsMigration : public testing::PostgresTest {};

// Version 13 rewrites the possible duplicates a document copied into ids and matched bits, in
// their order, and a page renders them from the other nominations as they are now.
TEST_F(PostgresInvitationsMigration, Version13KeepsOnlyTheIdsOfPossibleDuplicates) {
  {
    auto up_to = Migrations();
    up_to.migrations.resize(12);
    store::Store old(Options(), {up_to});
    old.Write([](store::Db& tx) {
      tx.Exec(
          "INSERT INTO programmes(id, fiscal_year, track, status, version, doc, created_at,"
          " updated_at) VALUES ('p1', 2025, 'developing', 'open', 1, '{\"id\":\"p1\"}', 't', 't');"
          "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
          " created_at, updated_at, fiscal_year) VALUES"
          " ('n1', 'p1', 'VN', 'selected', 1, '{\"id\":\"n1\"}', 't', 't', 2025),"
          " ('n2', 'p1', 'VN', 'submitted', 1, '{\"id\":\"n2\"}', 't', 't', 2025),"
          " ('n3', 'p1', 'VN', 'submitted', 1, '{\"id\":\"n3\",\"possible_duplicates\":["
          "{\"nomination_id\":\"n2\",\"programme_id\":\"p1\",\"fiscal_year\":2025,"
          "\"status\":\"submitted\",\"matched_on\":[\"name_nationality_union\"]},"
          "{\"nomination_id\":\"n1\",\"programme_id\":\"p1\",\"fiscal_year\":2025,"
          "\"status\":\"submitted\",\"matched_on\":[\"email\",\"passport\"]}]}',"
          " 't', 't', 2025);");
    });
    old.Stop();
  }
  store::Store store(Options(), {Migrations()});
  store.Read([](store::Db& db) {
    auto n3 = Nominations().Get(db, "n3");
    EXPECT_FALSE(n3.contains("possible_duplicates")) << n3.dump();
    EXPECT_EQ(n3["duplicates"], nlohmann::json::parse(R"([["n2", 2], ["n1", 5]])"));
    EXPECT_FALSE(Nominations().Get(db, "n1").contains("duplicates"));
    auto items = nlohmann::json::array({n3});
    ExpandPossibleDuplicates(db, items);
    const auto& found = items[0]["possible_duplicates"];
    ASSERT_EQ(found.size(), 2U) << items.dump();
    EXPECT_EQ(found[0]["nomination_id"], "n2");
    EXPECT_EQ(found[0]["matched_on"], nlohmann::json::parse(R"(["name_nationality_union"])"));
    EXPECT_EQ(found[1]["status"], "selected");  // the other nomination's status now
    EXPECT_EQ(found[1]["fiscal_year"], 2025);
    EXPECT_EQ(found[1]["matched_on"], nlohmann::json::parse(R"(["email", "passport"])"));
  });
  store.Stop();
}

}  // namespace
}  // namespace jilaf::invitations
