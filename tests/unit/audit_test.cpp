#include "common/audit/audit.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "common/util/digest.hpp"
#include "tests/support/process.hpp"

namespace jilaf::audit {
namespace {

using nlohmann::json;

// A job's result whose answer is built after the commit: it names the created id, no body.
struct AnsweredLater {
  int status = 201;
  std::string id;
};
[[maybe_unused]] store::JobOutcome DescribeOutcome(const AnsweredLater& result) {
  return {result.status, {}, result.id};
}

std::vector<store::MigrationSet> TestMigrations() {
  return {Migrations(),
          {"test", {{1, "things", "CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT)"}}}};
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-audit");
    store_ =
        std::make_unique<store::Store>(store::StoreOptions{dir_ + "/audit.db"}, TestMigrations());
    http::Router router;
    // A creating POST that writes its row and answers from inside the transaction.
    router.Add(http::Method::kPost, "/v1/things", auth::Access::kWrite,
               [this](http::Request& request) {
                 return store_->Write([&](store::Db& db) {
                   if (request.body == "conflict") {
                     Insert(db, "doomed");
                     throw http::ApiError::Conflict("no");
                   }
                   if (request.body == "answered-422") {
                     return http::Response::Json(422, {{"title", "key reused"}});
                   }
                   Insert(db, request.body);
                   // Sorted keys put the nested object first: the created id is the top one.
                   return http::Response::Json(
                       201, {{"id", request.body}, {"a_nested", {{"id", "inner"}}}, {"name", "x"}});
                 });
               });
    // A creating POST whose answer is serialised after the commit, as aggregate::Create does.
    router.Add(http::Method::kPost, "/v1/later", auth::Access::kWrite,
               [this](http::Request& request) {
                 const auto result = store_->Write([&](store::Db& db) {
                   Insert(db, request.body);
                   return AnsweredLater{201, request.body};
                 });
                 return http::Response::Json(result.status, {{"id", result.id}});
               });
    // An update whose job returns a plain value: the status is built after the commit.
    router.Add(http::Method::kPut, "/v1/things/{id}", auth::Access::kWrite,
               [this](http::Request& request) {
                 store_->Write([&](store::Db& db) { Insert(db, request.Param("id") + "-v2"); });
                 return http::Response::Json(200, {{"id", request.Param("id")}});
               });
    router.Add(http::Method::kGet, "/v1/things/{id}", auth::Access::kRead,
               [](http::Request&) { return http::Response::Json(200, json::object()); });
    // A read that discloses personal data: recorded like a write.
    router
        .Add(
            http::Method::kGet, "/v1/people/{id}", auth::Access::kRead,
            [](http::Request& request) {
              if (request.Param("id") == "missing")
                throw http::ApiError::NotFound("no such person");
              return http::Response::Json(200, {{"id", request.Param("id")}, {"passport", "X1"}});
            },
            http::Router::Execution::kIoThread)
        .PersonalData();
    api_ = Instrument(router, *store_);
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static void Insert(store::Db& db, const std::string& id) {
    auto stmt = db.Prepare("INSERT INTO things(id, name) VALUES (?, 'x')");
    stmt.Bind(1, id);
    stmt.Run();
  }

  // What the pipeline does before the handler: route, params, principal, request id.
  http::Response Call(http::Method method, const std::string& path, std::string body = {},
                      std::string query_key = {}, std::string query_value = {}) {
    http::Request request;
    request.method = method;
    request.path = path;
    request.body = std::move(body);
    if (!query_key.empty()) request.query[query_key] = query_value;
    request.request_id = "req-" + std::to_string(++calls_);
    request.principal.subject = "alice";
    request.principal.roles = {auth::Role::kStaff, auth::Role::kAdmin};
    request.principal.authenticated = true;
    const auto match = api_.Find(method, path);
    EXPECT_EQ(match.kind, http::Router::Match::Kind::kFound) << path;
    request.route = match.route->pattern;
    request.params = match.params;
    try {
      return match.route->handler(request);
    } catch (...) {
      return http::ResponseForException(std::current_exception(), request);
    }
  }

  std::int64_t Count(const std::string& sql) {
    return store_->Read([&](store::Db& db) {
      auto stmt = db.Prepare(sql);
      return stmt.Step() ? stmt.Int(0) : -1;
    });
  }

  json List(std::string key = {}, std::string value = {}) {
    const auto response = Call(http::Method::kGet, "/v1/audit", {}, key, value);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body);
  }

  json VerifyBody() { return json::parse(Call(http::Method::kGet, "/v1/audit/verify").body); }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  http::Router api_;
  int calls_ = 0;
};

TEST_F(AuditTest, SuccessfulWriteRecordsWhoWhatWhenAndOutcomeInItsTransaction) {
  ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "t1").status, 201);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 1u);
  const auto& row = items[0];
  EXPECT_EQ(row["seq"], 1);
  EXPECT_EQ(row["actor"]["subject"], "alice");
  EXPECT_EQ(row["actor"]["roles"], json({"staff", "admin"}));
  EXPECT_EQ(row["method"], "POST");
  EXPECT_EQ(row["route"], "/v1/things");
  EXPECT_EQ(row["entity_id"], "t1");
  EXPECT_EQ(row["status"], 201);
  EXPECT_EQ(row["outcome"], "committed");
  EXPECT_EQ(row["request_id"], "req-1");
  EXPECT_EQ(row["prev_hash"], kGenesisHash);
  EXPECT_FALSE(row["at"].get<std::string>().empty());
}

TEST_F(AuditTest, CreationAnsweredAfterTheCommitRecordsTheIdItsJobNamed) {
  ASSERT_EQ(Call(http::Method::kPost, "/v1/later", "t9").status, 201);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 1u);  // the committed row tells the outcome: no row of its own
  EXPECT_EQ(items[0]["entity_id"], "t9");
  EXPECT_EQ(items[0]["status"], 201);
  EXPECT_EQ(items[0]["outcome"], "committed");
  EXPECT_EQ(VerifyBody()["intact"], true);
}

TEST_F(AuditTest, ReadsAreNotAudited) {
  ASSERT_EQ(Call(http::Method::kGet, "/v1/things/a").status, 200);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 0);
}

TEST_F(AuditTest, ReadsOfPersonalDataAreAuditedWithoutTheirBodies) {
  ASSERT_EQ(Call(http::Method::kGet, "/v1/people/p7").status, 200);
  EXPECT_EQ(Call(http::Method::kGet, "/v1/people/missing").status, 404);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["method"], "GET");
  EXPECT_EQ(items[1]["route"], "/v1/people/{id}");
  EXPECT_EQ(items[1]["entity_id"], "p7");
  EXPECT_EQ(items[1]["actor"]["subject"], "alice");
  EXPECT_EQ(items[1]["status"], 200);
  EXPECT_EQ(items[1]["outcome"], "ok");
  EXPECT_EQ(items[0]["entity_id"], "missing");
  EXPECT_EQ(items[0]["outcome"], "rejected");
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE instr(route || coalesce(entity_id, '')"
                  " || outcome, 'X1') > 0"),
            0);
  EXPECT_TRUE(VerifyBody()["intact"]);
  // Its audit row is a store write: the route never runs on an io thread.
  const auto match = api_.Find(http::Method::kGet, "/v1/people/p7");
  EXPECT_TRUE(match.route->personal_data);
  EXPECT_EQ(match.route->execution, http::Router::Execution::kWorkerPool);
}

TEST_F(AuditTest, RejectedWriteIsRolledBackButRecordedInItsOwnTransaction) {
  ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "conflict").status, 409);
  EXPECT_EQ(Count("SELECT count(*) FROM things"), 0);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["status"], 409);
  EXPECT_EQ(items[0]["outcome"], "rejected");
  EXPECT_EQ(items[0]["entity_id"], nullptr);
}

TEST_F(AuditTest, RejectionAnsweredFromInsideTheJobIsOneRejectedRow) {
  ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "answered-422").status, 422);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["status"], 422);
  EXPECT_EQ(items[0]["outcome"], "rejected");
}

TEST_F(AuditTest, ChangeIsNotCommittedWhenItsAuditRowCannotBe) {
  // The audit row is part of the change's transaction: no row, no change.
  store_->Write([](store::Db& db) { db.Exec("ALTER TABLE audit_log RENAME TO audit_gone"); });
  EXPECT_EQ(Call(http::Method::kPost, "/v1/things", "t1").status, 500);
  EXPECT_EQ(Count("SELECT count(*) FROM things"), 0);
}

TEST_F(AuditTest, WriteWhoseJobReturnsNoResponseIsCommittedWithPathEntity) {
  ASSERT_EQ(Call(http::Method::kPut, "/v1/things/abc").status, 200);
  const auto items = List()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["entity_id"], "abc");
  EXPECT_EQ(items[0]["outcome"], "committed");
  EXPECT_EQ(items[0]["status"], nullptr);
}

TEST_F(AuditTest, ListsNewestFirstWithPagesAndFilters) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "p" + std::to_string(i)).status, 201);
  }
  ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "conflict").status, 409);
  auto first = Call(http::Method::kGet, "/v1/audit", {}, "page_size", "4");
  const auto page = json::parse(first.body);
  ASSERT_EQ(page["items"].size(), 4u);
  EXPECT_EQ(page["items"][0]["seq"], 6);
  ASSERT_TRUE(page.contains("next_page_token"));
  EXPECT_EQ(List("outcome", "rejected")["items"].size(), 1u);
  EXPECT_EQ(List("actor", "alice")["items"].size(), 6u);
  EXPECT_EQ(List("actor", "bob")["items"].size(), 0u);
  EXPECT_EQ(List("since", "2000-01-01T00:00:00Z")["items"].size(), 6u);
  EXPECT_EQ(List("since", "2999-01-01T00:00:00.5Z")["items"].size(), 0u);
  EXPECT_EQ(Call(http::Method::kGet, "/v1/audit", {}, "since", "yesterday").status, 400);
  EXPECT_EQ(Call(http::Method::kGet, "/v1/audit", {}, "outcome", "maybe").status, 400);
  const auto rest = Call(http::Method::kGet, "/v1/audit", {}, "page_token",
                         page["next_page_token"].get<std::string>());
  const auto tail = json::parse(rest.body)["items"];
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0]["seq"], 2);
  EXPECT_EQ(tail[1]["seq"], 1);
}

// The row text as it was built before it was written by hand: chains already on disk must keep
// verifying, so the two must agree byte for byte.
std::string NlohmannRow(std::int64_t seq, const Entry& entry) {
  json row = {{"seq", seq},
              {"at", entry.at},
              {"request_id", entry.request_id},
              {"subject", entry.subject},
              {"roles", entry.roles},
              {"method", entry.method},
              {"route", entry.route},
              {"entity_id", nullptr},
              {"status", nullptr},
              {"outcome", entry.outcome}};
  if (entry.entity_id) row["entity_id"] = *entry.entity_id;
  if (entry.status) row["status"] = *entry.status;
  return row.dump(-1, ' ', true, json::error_handler_t::replace);
}

TEST(AuditCanonicalRow, IsTheSortedCompactDumpOfTheRowForEveryKindOfText) {
  Entry plain{"2026-12-05T07:00:00.123Z",        "req-1",    "staff-1", {"staff", "admin"}, "POST",
              "/v1/programmes/{id}/nominations", "0190-abc", 201,       "committed"};
  Entry awkward = plain;
  awkward.subject = "quote \" backslash \\ tab \t nl \n del \x7f";
  awkward.request_id = "名前 ünïcode";
  awkward.route = std::string("bad utf-8 \xc3\x28 end");
  awkward.roles = {};
  awkward.entity_id.reset();
  awkward.status.reset();
  for (const auto& entry : {plain, awkward}) {
    for (const std::int64_t seq :
         {std::int64_t{1}, std::int64_t{42}, std::int64_t{9007199254740993}}) {
      EXPECT_EQ(CanonicalRow(seq, entry), NlohmannRow(seq, entry));
    }
  }
}

TEST_F(AuditTest, VerifyReportsAnIntactChain) {
  for (int i = 0; i < 3; ++i) Call(http::Method::kPost, "/v1/things", "v" + std::to_string(i));
  const auto body = VerifyBody();
  EXPECT_TRUE(body["intact"]);
  EXPECT_EQ(body["rows"], 3);
  EXPECT_EQ(body["last_seq"], 3);
  EXPECT_EQ(body["first_broken_seq"], nullptr);
}

TEST_F(AuditTest, TamperingWithOneRowIsDetected) {
  for (int i = 0; i < 5; ++i) Call(http::Method::kPost, "/v1/things", "x" + std::to_string(i));
  store_->Write(
      [](store::Db& db) { db.Exec("UPDATE audit_log SET subject = 'eve' WHERE seq = 3"); });
  const auto body = VerifyBody();
  EXPECT_FALSE(body["intact"]);
  EXPECT_EQ(body["first_broken_seq"], 3);
}

TEST_F(AuditTest, RehashingATamperedRowStillBreaksTheNextLink) {
  for (int i = 0; i < 5; ++i) Call(http::Method::kPost, "/v1/things", "y" + std::to_string(i));
  // An attacker who recomputes the altered row's own hash still breaks the following row.
  store_->Write([](store::Db& db) {
    auto row = db.Prepare("SELECT prev_hash, at, request_id FROM audit_log WHERE seq = 2");
    ASSERT_TRUE(row.Step());
    Entry forged;
    forged.at = row.Text(1);
    forged.request_id = row.Text(2);
    forged.subject = "eve";
    forged.roles = {"admin"};
    forged.method = "POST";
    forged.route = "/v1/things";
    forged.status = 201;
    forged.outcome = "committed";
    const auto hash = util::Sha256Hex(row.Text(0) + CanonicalRow(2, forged));
    auto update = db.Prepare(
        "UPDATE audit_log SET subject = 'eve', roles = '[\"admin\"]', entity_id = NULL, hash = ?"
        " WHERE seq = 2");
    update.Bind(1, hash);
    update.Run();
  });
  const auto body = VerifyBody();
  EXPECT_FALSE(body["intact"]);
  EXPECT_EQ(body["first_broken_seq"], 3);
}

TEST_F(AuditTest, DeletingARowIsDetected) {
  for (int i = 0; i < 4; ++i) Call(http::Method::kPost, "/v1/things", "z" + std::to_string(i));
  store_->Write([](store::Db& db) { db.Exec("DELETE FROM audit_log WHERE seq = 2"); });
  const auto body = VerifyBody();
  EXPECT_FALSE(body["intact"]);
  EXPECT_EQ(body["first_broken_seq"], 3);
}

TEST_F(AuditTest, RowsNeverHoldBodiesOrQueries) {
  ASSERT_EQ(Call(http::Method::kPost, "/v1/things", "conflict", "token", "secret-q").status, 409);
  const auto dump = List().dump();
  EXPECT_EQ(dump.find("conflict"), std::string::npos);
  EXPECT_EQ(dump.find("secret-q"), std::string::npos);
}

TEST_F(AuditTest, InstrumentKeepsEachRoutesExecutionAndCost) {
  http::Router api;
  api.Add(
      http::Method::kGet, "/v1/quick", auth::Access::kRead,
      [](http::Request&) { return http::Response::Empty(204); },
      http::Router::Execution::kIoThread);
  api.Add(http::Method::kPost, "/v1/scans", auth::Access::kAdmin,
          [](http::Request&) { return http::Response::Empty(202); })
      .Expensive();
  const auto instrumented = audit::Instrument(api, *store_);
  const auto quick = instrumented.Find(http::Method::kGet, "/v1/quick");
  ASSERT_EQ(quick.kind, http::Router::Match::Kind::kFound);
  EXPECT_EQ(quick.route->execution, http::Router::Execution::kIoThread);
  EXPECT_EQ(quick.route->cost, http::Router::Cost::kNormal);
  const auto scans = instrumented.Find(http::Method::kPost, "/v1/scans");
  ASSERT_EQ(scans.kind, http::Router::Match::Kind::kFound);
  EXPECT_EQ(scans.route->execution, http::Router::Execution::kWorkerPool);
  EXPECT_EQ(scans.route->cost, http::Router::Cost::kExpensive);
}

}  // namespace
}  // namespace jilaf::audit
