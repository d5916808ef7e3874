// The aggregate layer (common/aggregate): document tables, the event publisher and the request
// sequences, on a real SQLite store.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/domain/error.hpp"
#include "common/domain/state_machine.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/store.hpp"
#include "common/store/write_hook.hpp"
#include "tests/support/process.hpp"

namespace jilaf::aggregate {
namespace {

const DocTable& Things() {
  static const DocTable table({"things",
                               "thing",
                               "/v1/things",
                               {{"status", "status"},
                                {"year", "year", Column::Type::kInteger},
                                {"owner_id", "owner.id", Column::Type::kText, true}},
                               {{"country", {"country", "countries[]"}}}});
  return table;
}

const Publisher& Events() {
  static const Publisher publisher("projects");
  return publisher;
}

class AggregateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-aggregate");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(),
                                         {"test", {{1, "things", Things().CreateSql()}}}});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  nlohmann::json InsertThing(nlohmann::json doc) {
    Stamp(doc);
    store_->Write([&](store::Db& tx) { Things().Insert(tx, doc); });
    return doc;
  }

  static http::Request Req(http::Method method, std::string if_match = {}) {
    http::Request request;
    request.method = method;
    request.principal.subject = "officer-1";
    if (!if_match.empty()) request.headers.emplace_back("if-match", std::move(if_match));
    return request;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AggregateTest, InsertGetUpdateDeleteRoundTrip) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}, {"owner", {{"id", "o1"}}}});
  auto loaded =
      store_->Read([&](store::Db& db) { return Things().Get(db, doc["id"].get<std::string>()); });
  EXPECT_EQ(loaded, doc);
  EXPECT_EQ(loaded["version"], 1);
  loaded["status"] = "open";
  store_->Write([&](store::Db& tx) { Things().Update(tx, loaded); });
  EXPECT_EQ(loaded["version"], 2);
  const auto stored = store_->Read(
      [&](store::Db& db) { return Things().FindStored(db, doc["id"].get<std::string>()); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(nlohmann::json::parse(stored->json)["status"], "open");
  // The mirrored column follows the document; the generated one is computed by the engine.
  EXPECT_EQ(store_->Read([&](store::Db& db) {
    return Things().Count(db, {{"status", std::string("open")}, {"owner_id", std::string("o1")}});
  }),
            1);
  EXPECT_TRUE(store_->Write(
      [&](store::Db& tx) { return Things().Delete(tx, doc["id"].get<std::string>()); }));
  try {
    store_->Read([&](store::Db& db) { return Things().Get(db, doc["id"].get<std::string>()); });
    FAIL() << "Get of a deleted document answered";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 404);
    EXPECT_EQ(error.detail(), "no thing with id " + doc["id"].get<std::string>());
  }
}

TEST_F(AggregateTest, TwoUpdatesFromTheSameVersionExactlyOneWins) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}});
  const std::string id = doc["id"];
  // Both writers read version 1 before either writes, then both write: the store's writer runs
  // them one after the other, and the second finds version 2 where it read 1.
  std::latch both_read(2);
  auto update = [&](const std::string& status) {
    return std::async(std::launch::async, [&, status] {
      auto mine = store_->Read([&](store::Db& db) { return Things().Get(db, id); });
      both_read.arrive_and_wait();
      mine["status"] = status;
      try {
        store_->Write([&](store::Db& tx) { Things().Update(tx, mine); });
        return 200;
      } catch (const http::ApiError& error) {
        return error.status();
      }
    });
  };
  auto first = update("open");
  auto second = update("closed");
  const std::multiset<int> outcomes = {first.get(), second.get()};
  EXPECT_EQ(outcomes, (std::multiset<int>{200, 412}));
  const auto final_doc = store_->Read([&](store::Db& db) { return Things().Get(db, id); });
  EXPECT_EQ(final_doc["version"], 2);
}

TEST_F(AggregateTest, ModifyWithTheSameIfMatchTwiceAppliesOnce) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}});
  const Kind kind{Things(), Events(), "thing"};
  const auto rename = [&](const std::string& status) {
    auto request = Req(http::Method::kPatch, "\"v1\"");
    return Modify(*store_, request, kind, doc["id"].get<std::string>(),
                  [&](Change&, nlohmann::json& d) { d["status"] = status; }, {});
  };
  EXPECT_EQ(rename("open").status, 200);
  try {
    rename("closed");
    FAIL() << "a second update from v1 was applied";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 412);
  }
  try {
    auto request = Req(http::Method::kPatch);
    Modify(*store_, request, kind, doc["id"].get<std::string>(), {}, {});
    FAIL() << "an update without If-Match was applied";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 428);
  }
}

TEST_F(AggregateTest, KeysetPagesAreStableUnderInserts) {
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i)
    before.push_back(InsertThing({{"status", "draft"}, {"year", 2026}})["id"]);
  http::PageRequest page;
  page.page_size = 2;
  std::vector<std::string> seen;
  for (int round = 0;; ++round) {
    const auto body = store_->Read([&](store::Db& db) {
      return Things().List(db, page, {{"year", std::int64_t{2026}}});
    });
    for (const auto& item : body["items"]) seen.push_back(item["id"]);
    // Inserts between pages (newer rows and rows of another year) change nothing already paged.
    InsertThing({{"status", "draft"}, {"year", 2025}});
    if (round == 0) before.push_back(InsertThing({{"status", "draft"}, {"year", 2026}})["id"]);
    if (!body.contains("next_page_token")) break;
    std::string token = body["next_page_token"];
    http::Request request;
    request.query["page_token"] = token;
    page.after = http::ParsePage(request).after;
  }
  EXPECT_EQ(seen, before);  // every row once, in order, including the one added mid-way
}

TEST_F(AggregateTest, FiltersOnColumnsAndOnDocumentFieldsIncludingArrays) {
  InsertThing({{"status", "draft"}, {"year", 2026}, {"country", "VN"}});
  InsertThing({{"status", "draft"}, {"year", 2026}, {"countries", {"TH", "VN"}}});
  InsertThing({{"status", "open"}, {"year", 2026}, {"countries", {"TH"}}});
  const auto count = [&](Filters filters) {
    return store_->Read([&](store::Db& db) { return Things().Count(db, filters); });
  };
  EXPECT_EQ(count({{"country", std::string("VN")}}), 2);
  EXPECT_EQ(count({{"country", std::string("TH")}, {"status", std::string("open")}}), 1);
  EXPECT_EQ(count({{"country", Maybe(std::optional<std::string>())}}), 3);
  EXPECT_THROW(count({{"colour", std::string("red")}}), std::invalid_argument);
}

TEST_F(AggregateTest, TransitionChecksTheMachineRecordsHistoryAndPublishes) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}});
  static const domain::StateMachine machine("thing", {{"draft", {"open"}}, {"open", {"closed"}}});
  const Kind kind{Things(), Events(), "thing"};
  const Lifecycle lifecycle{machine, "status_history",
                            [](Change&, const nlohmann::json& d, const std::string& from) {
                              return EventFacts{"thing",
                                                d["status"],
                                                d["id"],
                                                "things/" + d["id"].get<std::string>(),
                                                {{"from", from}, {"version", d["version"]}}};
                            }};
  auto request = Req(http::Method::kPost, "\"v1\"");
  const auto response = Transition(*store_, request, kind, lifecycle, doc["id"].get<std::string>(),
                                   {"open", "approved at the board"});
  ASSERT_EQ(response.status, 200);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "open");
  ASSERT_EQ(body["status_history"].size(), 1u);
  const auto& entry = body["status_history"][0];
  EXPECT_EQ(entry["from"], "draft");
  EXPECT_EQ(entry["to"], "open");
  EXPECT_EQ(entry["by"], "officer-1");
  EXPECT_EQ(entry["reason"], "approved at the board");
  // The event is in the outbox, in the same commit, with the stored version.
  const auto outbox = store_->Read([&](store::Db& db) {
    auto stmt = db.Prepare("SELECT count(*) FROM outbox WHERE topic = 'jilaf.projects.events'");
    return stmt.Step() ? stmt.Int(0) : -1;
  });
  EXPECT_EQ(outbox, 1);
  // A move the machine forbids is 409 and changes nothing.
  auto again = Req(http::Method::kPost, "\"v2\"");
  try {
    Transition(*store_, again, kind, lifecycle, doc["id"].get<std::string>(), {"draft", {}});
    FAIL() << "open -> draft was allowed";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.kind(), domain::Error::Kind::kConflict);
  }
}

TEST_F(AggregateTest, RemoveNeedsIfMatchAndAnnouncesTheDeletedDocument) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}});
  const std::string id = doc["id"];
  const Kind kind{Things(), Events(), "thing"};
  std::string announced;
  const auto announce = [&](Change&, const nlohmann::json& d) { announced = d["id"]; };
  try {
    auto request = Req(http::Method::kDelete);
    Remove(*store_, request, kind, id, {}, announce);
    FAIL() << "a delete without If-Match was applied";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 428);
  }
  auto request = Req(http::Method::kDelete, "\"v1\"");
  EXPECT_EQ(Remove(*store_, request, kind, id, {}, announce).status, 204);
  EXPECT_EQ(announced, id);
  EXPECT_FALSE(store_->Read([&](store::Db& db) { return Things().Find(db, id); }));
}

TEST_F(AggregateTest, ListUnderIs404WithoutTheParentAndFiltersOnTheLink) {
  const auto owner = InsertThing({{"status", "draft"}, {"year", 2026}});
  InsertThing({{"status", "draft"}, {"year", 2026}, {"owner", {{"id", owner["id"]}}}});
  InsertThing({{"status", "draft"}, {"year", 2026}, {"owner", {{"id", "someone-else"}}}});
  http::Request request;
  const auto page =
      ListUnder(*store_, request, Things(), owner["id"].get<std::string>(), Things(), "owner_id");
  EXPECT_EQ(nlohmann::json::parse(page.body)["items"].size(), 1u);
  try {
    ListUnder(*store_, request, Things(), "missing", Things(), "owner_id");
    FAIL() << "a list under a missing parent answered";
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), 404);
  }
}

TEST_F(AggregateTest, AmendChangesWithoutIfMatchButStillAsTheNextVersion) {
  const auto doc = InsertThing({{"status", "draft"}, {"year", 2026}});
  const Kind kind{Things(), Events(), "thing"};
  auto request = Req(http::Method::kPost);
  const auto response = Amend(*store_, request, kind, doc["id"].get<std::string>(),
                              [](Change&, nlohmann::json& d) { d["status"] = "open"; }, {});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("ETag"), "\"v2\"");
}

TEST_F(AggregateTest, VersionOfAndExtraColumnsOfAnInsert) {
  const DocTable keyed({"keyed", "keyed thing", "/v1/keyed", {{"status", "status"}}, {}});
  store_->Write([&](store::Db& tx) {
    tx.Exec(keyed.CreateSql());
    tx.Exec("ALTER TABLE keyed ADD COLUMN blind TEXT; ALTER TABLE keyed ADD COLUMN other TEXT");
  });
  nlohmann::json doc = {{"status", "open"}};
  Stamp(doc);
  const std::string id = doc["id"];
  store_->Write([&](store::Db& tx) {
    keyed.Insert(tx, doc, {{"blind", "b1"}, {"other", std::nullopt}});
    EXPECT_EQ(keyed.VersionOf(tx, id), 1);
    keyed.Update(tx, doc);
    EXPECT_EQ(keyed.VersionOf(tx, id), 2);
    EXPECT_EQ(keyed.VersionOf(tx, "missing"), std::nullopt);
    auto row = tx.Prepare("SELECT blind, other, status FROM keyed WHERE id = ?");
    row.Bind(1, id);
    ASSERT_TRUE(row.Step());
    EXPECT_EQ(row.Text(0), "b1");
    EXPECT_EQ(row.OptText(1), std::nullopt);
    EXPECT_EQ(row.Text(2), "open");
  });
}

TEST_F(AggregateTest, CreateChildSeesAParentChangedAfterItsSnapshotWasRead) {
  const auto parent = InsertThing({{"status", "open"}, {"year", 2026}});
  const std::string parent_id = parent["id"];
  // The writer is held while the parent's change and then the child's job are queued: the
  // child reads its snapshot of the parent (version 1) before the change commits, and its job
  // runs after it.
  std::latch started(1);
  std::latch release(1);
  auto held = store_->WriteAsync([&](store::Db&) {
    started.count_down();
    release.wait();
  });
  started.wait();  // taken by the writer alone, not batched with what follows
  auto closing = store_->WriteAsync([&](store::Db& tx) {
    auto doc = Things().Get(tx, parent_id);
    doc["status"] = "closed";
    Things().Update(tx, doc);
  });
  const Kind kind{Things(), Events(), "thing"};
  std::string seen;
  // A job keeps a copy of its thread's write hook from the moment it is queued: the count of
  // this one's owners says when the child's job is in the queue.
  struct Marker : store::WriteHook {
    void InTransaction(store::Db&, const store::JobOutcome&) override {}
  };
  auto marker = std::make_shared<Marker>();
  auto child = std::async(std::launch::async, [&] {
    store::ScopedWriteHook scope(marker);
    return CreateChild(*store_, Req(http::Method::kPost), Things(), parent_id, kind,
                       {{"status", "draft"}, {"year", 2026}},
                       [&](Change&, const nlohmann::json& current, nlohmann::json&) {
                         seen = current.at("status");
                         if (seen != "open") {
                           throw http::ApiError::Conflict("the parent is " + seen);
                         }
                       },
                       {});
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (marker.use_count() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  // Owned by the test, the child's thread and its queued job (released either way, so that a
  // failure cannot leave the writer held).
  const bool queued = marker.use_count() >= 3;
  release.count_down();
  held.get();
  closing.get();
  EXPECT_TRUE(queued);
  EXPECT_THROW(child.get(), http::ApiError);
  EXPECT_EQ(seen, "closed");
  EXPECT_EQ(store_->Read([&](store::Db& db) {
    return Things().Count(db, {{"status", "draft"}});
  }),
            0);
}

TEST(TransitionBody, ReasonWithDeprecatedAliases) {
  const auto read = [](const nlohmann::json& body) {
    http::ObjectReader in(body);
    auto input = ReadTransition(in);
    in.Finish();
    return input;
  };
  EXPECT_EQ(read({{"to", "open"}, {"reason", "r"}}).reason, "r");
  EXPECT_EQ(read({{"to", "open"}, {"note", "n"}}).reason, "n");
  EXPECT_EQ(read({{"to", "open"}, {"comment", "c"}}).reason, "c");
  EXPECT_FALSE(read({{"to", "open"}}).reason);
  EXPECT_THROW(read({{"to", "open"}, {"reason", "r"}, {"note", "n"}}), http::ApiError);
  EXPECT_THROW(read({{"to", "open"}, {"why", "w"}}), http::ApiError);
}

// The envelope every message of docs/asyncapi.yaml promises, as the Publisher makes it: the
// document is read as text (its message blocks have one fixed layout).
struct Documented {
  std::string service, source, type, dataschema;
  std::vector<std::string> required_headers;
  int version = 1;
};

std::vector<Documented> DocumentedMessages() {
  std::ifstream file(std::string(JILAF_SOURCE_DIR) + "/docs/asyncapi.yaml");
  std::vector<Documented> out;
  const std::regex message(
      R"(^    (invitations|projects|missions|notifications)\.[a-z_]+\.[a-z_]+\.v([0-9]+):$)");
  std::string line;
  std::string pending;  // the header whose `const:` comes on the next line
  bool in_required = false;
  while (std::getline(file, line)) {
    std::smatch match;
    if (std::regex_match(line, match, message)) {
      out.push_back({match[1], {}, {}, {}, {}, std::stoi(match[2])});
      continue;
    }
    if (out.empty()) continue;
    auto& m = out.back();
    if (line == "        required:") {
      in_required = m.required_headers.empty();
      continue;
    }
    if (in_required && line.rfind("        - ", 0) == 0) {
      m.required_headers.push_back(line.substr(10));
      continue;
    }
    in_required = false;
    for (const char* header : {"ce_source", "ce_type", "ce_dataschema"}) {
      if (line == std::string("          ") + header + ":") pending = header;
    }
    const std::string constant = "            const: ";
    if (!pending.empty() && line.rfind(constant, 0) == 0) {
      const auto value = line.substr(constant.size());
      (pending == "ce_source" ? m.source : pending == "ce_type" ? m.type : m.dataschema) = value;
      pending.clear();
    }
  }
  return out;
}

TEST(Publisher, EnvelopeMatchesEveryMessageOfTheAsyncApiDocument) {
  const auto documented = DocumentedMessages();
  ASSERT_GT(documented.size(), 50u) << "docs/asyncapi.yaml was not read";
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  const std::regex traceparent("^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$");
  for (const auto& doc : documented) {
    SCOPED_TRACE(doc.type);
    const std::string prefix = "jilaf." + doc.service + ".";
    ASSERT_EQ(doc.type.rfind(prefix, 0), 0u);
    const auto name = doc.type.substr(prefix.size());  // aggregate.what
    const auto dot = name.find('.');
    const Publisher publisher(doc.service, {{name.substr(0, dot), doc.version}});
    EXPECT_EQ(publisher.topic(), "jilaf." + doc.service + ".events");
    EXPECT_EQ(publisher.people_topic(), "jilaf." + doc.service + ".people");
    const auto event = publisher.Make(
        {name.substr(0, dot), name.substr(dot + 1), "key-1", "things/1", {{"a", 1}}}, {});
    EXPECT_EQ(event.source, doc.source);
    EXPECT_EQ(event.type, doc.type);
    EXPECT_EQ(event.dataschema, doc.dataschema);
    EXPECT_EQ(event.key, "key-1");
    EXPECT_TRUE(std::regex_match(event.id, uuid)) << event.id;
    EXPECT_TRUE(std::regex_match(event.traceparent, traceparent)) << event.traceparent;
    events::Headers headers;
    std::string value;
    events::ToKafka(event, headers, value);
    std::set<std::string> names;
    for (const auto& [header, _] : headers) names.insert(header);
    ASSERT_FALSE(doc.required_headers.empty());
    for (const auto& required : doc.required_headers) {
      EXPECT_TRUE(names.count(required)) << "missing header " << required;
    }
  }
  // The caller's trace is carried, not replaced.
  const auto traced = Events().Make({"tranche", "paid", "k", "s", {}},
                                    "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01");
  EXPECT_EQ(traced.traceparent, "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01");
}

// What a write hook (the audit row) learns inside the transaction, and on which thread.
struct OutcomeRecorder : store::WriteHook {
  void InTransaction(store::Db&, const store::JobOutcome& outcome) override {
    status = outcome.status;
    body = std::string(outcome.body);
    created_id = std::string(outcome.created_id);
    thread = std::this_thread::get_id();
  }
  std::optional<int> status;
  std::string body;
  std::string created_id;
  std::thread::id thread;
};

class CreateAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-create-answer");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(),
                                         http::IdempotencyMigrations(),
                                         {"test", {{1, "things", Things().CreateSql()}}}});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A creation whose announcement answers through RespondAfterCommit; records where it ran.
  http::Response CreateWithLaterAnswer(const http::Request& request, std::thread::id& built_on) {
    const Kind kind{Things(), Events(), "thing"};
    store::ScopedWriteHook scope(hook_);
    return Create(*store_, request, kind, {{"status", "draft"}, {"year", 2026}}, {},
                  [&](Change& change, const nlohmann::json& doc) {
                    change.RespondAfterCommit([&doc, &built_on] {
                      built_on = std::this_thread::get_id();
                      auto body = doc;
                      body["rendered"] = true;
                      return CreatedResponse(Things(), body);
                    });
                  });
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<OutcomeRecorder> hook_ = std::make_shared<OutcomeRecorder>();
};

TEST_F(CreateAnswerTest, WithoutIdempotencyKeyTheAnswerIsBuiltAfterTheCommitOffTheWriter) {
  http::Request request;
  request.method = http::Method::kPost;
  request.principal.subject = "officer-1";
  const Kind kind{Things(), Events(), "thing"};
  store::ScopedWriteHook scope(hook_);
  const auto response =
      Create(*store_, request, kind, {{"status", "draft"}, {"year", 2026}}, {},
             [](Change& change, const nlohmann::json& doc) {
               change.Emit({"thing", "created", doc.at("id").get<std::string>(), "things/x", doc});
             });
  ASSERT_EQ(response.status, 201) << response.body;
  const auto body = nlohmann::json::parse(response.body);
  const std::string id = body.at("id");
  EXPECT_EQ(response.Header("Location"), "/v1/things/" + id);
  EXPECT_EQ(response.Header("ETag"), http::MakeEtag(1));
  // The hook ran in the transaction on the writer thread, knowing the id but no body yet.
  EXPECT_EQ(hook_->status, 201);
  EXPECT_EQ(hook_->created_id, id);
  EXPECT_EQ(hook_->body, "");
  EXPECT_NE(hook_->thread, std::this_thread::get_id());
  EXPECT_EQ(store_->Read([&](store::Db& db) { return Things().Get(db, id); }), body);
}

TEST_F(CreateAnswerTest, CustomAnswerIsBuiltOnTheCallersThreadAfterTheCommit) {
  http::Request request;
  request.method = http::Method::kPost;
  std::thread::id built_on;
  const auto response = CreateWithLaterAnswer(request, built_on);
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(built_on, std::this_thread::get_id());
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body.at("rendered"), true);
  EXPECT_EQ(hook_->created_id, body.at("id"));
  EXPECT_EQ(hook_->body, "");
}

TEST_F(CreateAnswerTest, WithIdempotencyKeyTheAnswerIsStoredInTheWriteAndReplayed) {
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/things";
  request.principal.subject = "officer-1";
  request.body = "{}";
  request.headers.emplace_back("idempotency-key", "k-1");
  std::thread::id built_on;
  const auto first = CreateWithLaterAnswer(request, built_on);
  ASSERT_EQ(first.status, 201) << first.body;
  // Built inside the job (on the writer), so the stored replay is the same answer.
  EXPECT_NE(built_on, std::this_thread::get_id());
  EXPECT_EQ(hook_->body, first.body);
  EXPECT_EQ(hook_->created_id, "");
  EXPECT_EQ(nlohmann::json::parse(first.body).at("rendered"), true);
  const auto replay = CreateWithLaterAnswer(request, built_on);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(store_->Read([&](store::Db& db) { return Things().Count(db, {}); }), 1);
}

}  // namespace
}  // namespace jilaf::aggregate
