// The aggregate layer's document tables (common/aggregate/doc_table) on a real PostgreSQL 15
// server: the same DocTable, specs and calls as on SQLite, with the table created by
// CreateSql(Engine::kPostgres). Search pins only what both engines promise: which documents
// match (every word, Latin words as prefixes, Japanese as phrases, masked callers not matching
// restricted paths) and the order: newest first, keyset-paged.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/search.hpp"
#include "common/domain/error.hpp"
#include "common/http/problem.hpp"
#include "common/store/store.hpp"
#include "tests/support/postgres_fixture.hpp"

namespace jilaf::aggregate {
namespace {

DocTable People() {
  return DocTable({.name = "people",
                   .what = "person",
                   .collection = "/v1/people",
                   .columns = {{"status", "status"},
                               {"year", "year", Column::Type::kInteger, true},
                               {"active", "active", Column::Type::kInteger}},
                   .filters = {{"tag", {"tags[]"}}, {"city", {"address.city"}}},
                   .search = {"name", "tags[]"},
                   .search_restricted = {"passport"}});
}

class PostgresDocTable : public testing::PostgresTest {
 protected:
  void SetUpOnDatabase() override {
    store_ = std::make_unique<store::Store>(
        Options(),
        std::vector<store::MigrationSet>{
            {"test.people",
             {{1, "people", People().CreateSql(), People().CreateSql(store::Engine::kPostgres)},
              {2, "seats", "CREATE TABLE seats (person_id TEXT NOT NULL, n BIGINT)"}}}});
  }

  void TearDownBeforeDrop() override { store_.reset(); }

  nlohmann::json Add(const std::string& name, int year, const std::string& city,
                     std::vector<std::string> tags, bool active = true) {
    nlohmann::json doc = {{"name", name},          {"year", year}, {"status", "open"},
                          {"active", active},      {"tags", tags}, {"address", {{"city", city}}},
                          {"passport", "X" + name}};
    Stamp(doc, "alice");
    store_->Write([&](store::Db& tx) { table_.Insert(tx, doc); });
    return doc;
  }

  std::vector<std::string> Names(const nlohmann::json& page) const {
    std::vector<std::string> names;
    for (const auto& item : page.at("items")) names.push_back(item.at("name"));
    std::sort(names.begin(), names.end());
    return names;
  }

  nlohmann::json Search(const std::string& q, bool masked = false, const Filters& filters = {}) {
    SearchPage page;
    page.match = MatchExpression(q);
    page.masked = masked;
    page.fingerprint = "test";
    return store_->Read([&](store::Db& db) { return table_.Search(db, page, filters); });
  }

  const DocTable table_ = People();
  std::unique_ptr<store::Store> store_;
};

TEST_F(PostgresDocTable, UpdatesBumpTheVersionAndAStaleOneIs412) {
  auto doc = Add("Lan", 2026, "Hanoi", {"alumni"});
  auto stale = doc;
  store_->Write([&](store::Db& tx) {
    doc["status"] = "closed";
    table_.Update(tx, doc);
  });
  EXPECT_EQ(doc["version"], 2);
  const auto stored =
      store_->Read([&](store::Db& db) { return table_.Get(db, doc["id"].get<std::string>()); });
  EXPECT_EQ(stored, doc);  // the text as written
  try {
    store_->Write([&](store::Db& tx) { table_.Update(tx, stale); });
    FAIL() << "an update from version 1 replaced version 2";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 412);
  }
  EXPECT_TRUE(store_->Write(
      [&](store::Db& tx) { return table_.Delete(tx, doc["id"].get<std::string>()); }));
  EXPECT_FALSE(store_->Read(
      [&](store::Db& db) { return table_.Find(db, doc["id"].get<std::string>()).has_value(); }));
}

TEST_F(PostgresDocTable, FiltersOnColumnsGeneratedColumnsMembersAndArrays) {
  Add("Lan", 2026, "Hanoi", {"alumni", "engineer"});
  Add("Minh", 2025, "Hue", {"engineer"}, false);
  Add("Siân", 2026, "Cardiff", {});
  store_->Read([&](store::Db& db) {
    EXPECT_EQ(table_.Count(db, {{"year", std::int64_t{2026}}}), 2);  // generated column
    EXPECT_EQ(table_.Count(db, {{"active", std::int64_t{0}}}), 1);   // a boolean as 0/1
    EXPECT_EQ(table_.Count(db, {{"tag", std::string("engineer")}}), 2);
    EXPECT_EQ(table_.Count(db, {{"city", std::string("Hue")}}), 1);
    EXPECT_EQ(
        table_.Count(db, {{"status", std::string("open")}, {"year", Maybe<std::int64_t>({})}}), 3);
    const auto where = table_.Where(db, {{"tag", std::string("alumni")}});
    ASSERT_EQ(where.size(), 1U);
    EXPECT_EQ(where[0]["name"], "Lan");
  });
}

TEST_F(PostgresDocTable, ListsPageByPageInInsertionOrder) {
  for (const char* name : {"a", "b", "c"}) Add(name, 2026, "Hue", {});
  http::PageRequest request{2, std::nullopt};
  const auto first = store_->Read([&](store::Db& db) { return table_.List(db, request, {}); });
  ASSERT_EQ(first["items"].size(), 2U);
  EXPECT_EQ(first["items"][0]["name"], "a");
  ASSERT_TRUE(first.contains("next_page_token"));
  request.after = store_->Read([](store::Db& db) {
    auto stmt = db.Prepare("SELECT seq FROM people ORDER BY seq LIMIT 1 OFFSET 1");
    return stmt.Step() ? stmt.Int(0) : 0;
  });
  const auto second = store_->Read([&](store::Db& db) { return table_.List(db, request, {}); });
  ASSERT_EQ(second["items"].size(), 1U);
  EXPECT_EQ(second["items"][0]["name"], "c");
  EXPECT_FALSE(second.contains("next_page_token"));
}

TEST_F(PostgresDocTable, SearchMatchesEveryWordAsBothEnginesPromise) {
  auto lan = Add("Nguyễn Thị Lan", 2026, "Hanoi", {"engineer"});
  Add("Nguyen Minh", 2025, "Hue", {"teacher"});
  Add("グエン・ラン", 2026, "Tokyo", {});
  EXPECT_EQ(Names(Search("nguy")), (std::vector<std::string>{"Nguyen Minh", "Nguyễn Thị Lan"}));
  EXPECT_EQ(Names(Search("NGUYEN lan")), (std::vector<std::string>{"Nguyễn Thị Lan"}));
  EXPECT_EQ(Names(Search("teach")), (std::vector<std::string>{"Nguyen Minh"}));
  EXPECT_EQ(Names(Search("グエン")), (std::vector<std::string>{"グエン・ラン"}));
  EXPECT_TRUE(Names(Search("エグ")).empty());  // a phrase, not a bag of characters
  EXPECT_EQ(Names(Search("nguyen", false, {{"year", std::int64_t{2025}}})),
            (std::vector<std::string>{"Nguyen Minh"}));
  // The passport is restricted: whole-record callers find it, masked ones do not.
  EXPECT_EQ(Names(Search("xnguyen minh")), (std::vector<std::string>{"Nguyen Minh"}));
  EXPECT_TRUE(Names(Search("xnguyen minh", true)).empty());
  // The index follows updates and deletes in the same transaction.
  store_->Write([&](store::Db& tx) {
    lan["name"] = "Tran Lan";
    table_.Update(tx, lan);
  });
  EXPECT_TRUE(Names(Search("nguyen lan")).empty());
  EXPECT_EQ(Names(Search("tran")), (std::vector<std::string>{"Tran Lan"}));
  store_->Write([&](store::Db& tx) { (void)table_.Delete(tx, lan["id"].get<std::string>()); });
  EXPECT_TRUE(Names(Search("tran")).empty());
  // Rows written without the index are indexed once by IndexMissing.
  store_->Write([](store::Db& tx) { tx.Exec("DELETE FROM people_search"); });
  EXPECT_TRUE(Names(Search("nguyen")).empty());
  EXPECT_EQ(store_->Write([&](store::Db& tx) { return table_.IndexMissing(tx); }), 2);
  EXPECT_EQ(Names(Search("nguyen")).size(), 1U);
}

// The order both engines share: newest first, each page resuming below the last one's seq, so
// a match written between pages neither shifts nor repeats them.
TEST_F(PostgresDocTable, SearchPagesNewestFirstByKeyset) {
  for (int i = 0; i < 5; ++i) Add("Lan " + std::to_string(i), 2026, "Hue", {});
  Add("Minh", 2026, "Hue", {});
  const auto request = [](const std::string& token) {
    http::Request get;
    get.query = {{"q", "lan"}, {"page_size", "2"}};
    if (!token.empty()) get.query["page_token"] = token;
    return ReadListQuery(get, {});
  };
  auto query = request("");
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    const auto body =
        store_->Read([&](store::Db& db) { return table_.Search(db, query.page, {}); });
    for (const auto& item : body["items"]) seen.push_back(item["name"]);
    if (seen.size() == 2) Add("Lan new", 2026, "Hue", {});
    if (!body.contains("next_page_token")) break;
    query = request(body["next_page_token"]);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Lan 4", "Lan 3", "Lan 2", "Lan 1", "Lan 0"}));
}

// Two processes' stores (two replicas) take seats of one record at once: the record a write
// reads through the table stays locked until that write commits, so a limit checked against a
// count holds across processes, as it does for one process's single writer.
TEST_F(PostgresDocTable, ARuleCheckedInOneReplicaHoldsAgainstWritesFromAnother) {
  const auto room = Add("room", 2026, "Hue", {});
  const std::string id = room["id"];
  constexpr std::int64_t kSeats = 5;
  store::Store other(Options(), {});
  const auto take = [&](store::Store& store, int n) {
    return store.WriteAsync([&table = table_, id, n](store::Db& tx) {
      (void)table.Get(tx, id);  // the parent record: locked on PostgreSQL until the commit
      auto count = tx.Prepare("SELECT count(*) FROM seats WHERE person_id = ?");
      count.Bind(1, id);
      if (!count.Step() || count.Int(0) >= kSeats) {
        throw domain::Error::Conflict("no seat left");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // widen the race
      auto insert = tx.Prepare("INSERT INTO seats(person_id, n) VALUES (?, ?)");
      insert.Bind(1, id).Bind(2, n);
      insert.Run();
    });
  };
  std::vector<std::future<void>> attempts;
  for (int n = 0; n < 12; ++n) {
    attempts.push_back(take(n % 2 == 0 ? *store_ : other, n));
  }
  int taken = 0;
  int refused = 0;
  for (auto& attempt : attempts) {
    try {
      attempt.get();
      ++taken;
    } catch (const domain::Error&) {
      ++refused;
    }
  }
  EXPECT_EQ(taken, kSeats);
  EXPECT_EQ(refused, 12 - kSeats);
  EXPECT_EQ(store_->Read([&](store::Db& db) {
    auto count = db.Prepare("SELECT count(*) FROM seats WHERE person_id = ?");
    count.Bind(1, id);
    return count.Step() ? count.Int(0) : -1;
  }),
            kSeats);
}

}  // namespace
}  // namespace jilaf::aggregate
