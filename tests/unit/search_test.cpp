// Search (common/util/fold, common/aggregate/search) and CSV (common/http/csv) on a real SQLite
// store: folding, the full-text index kept with the documents, masked search, query reading and
// the CSV notation of list answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/search.hpp"
#include "common/auth/jwt.hpp"
#include "common/http/csv.hpp"
#include "common/http/problem.hpp"
#include "common/http/router.hpp"
#include "common/store/store.hpp"
#include "common/util/fold.hpp"
#include "tests/support/process.hpp"

namespace jilaf::aggregate {
namespace {

using Words = std::vector<std::vector<std::string>>;

TEST(SearchWords, FoldsLatinAndSplitsJapaneseIntoCharacters) {
  EXPECT_EQ(util::SearchWords("Nguyễn  THỊ-Lan"), (Words{{"nguyen"}, {"thi"}, {"lan"}}));
  EXPECT_EQ(util::SearchWords("グエン・ラン"), (Words{{"グ", "エ", "ン"}, {"ラ", "ン"}}));
  EXPECT_EQ(util::SearchWords("ぐえん"), (Words{{"グ", "エ", "ン"}}));   // hiragana → katakana
  EXPECT_EQ(util::SearchWords("ＶＧＣＬ"), (Words{{"vgcl"}}));           // full-width Latin
  EXPECT_EQ(util::SearchWords("a\"b*c"), (Words{{"a"}, {"b"}, {"c"}}));  // no FTS syntax leaks
  EXPECT_TRUE(util::SearchWords(" ,. ").empty());
}

TEST(SearchText, CollectsEveryStringUnderTheDeclaredPaths) {
  const nlohmann::json doc = {{"title", {{"ja", "調査団"}, {"en", "Research Mission"}}},
                              {"participants", {{{"name", "Siân"}}, {{"name", "Ólafur"}}}},
                              {"secret", "hidden"}};
  EXPECT_EQ(SearchText(doc, {"title", "participants[].name", "absent.path"}),
            "research mission 調 査 団 sian olafur");  // members in name order
}

TEST(MatchExpression, EveryWordMustMatchLatinAsPrefixJapaneseAsPhrase) {
  EXPECT_EQ(MatchExpression("Lan NGUYEN"), R"("lan"* AND "nguyen"*)");
  EXPECT_EQ(MatchExpression("グエン"), R"("グ エ ン")");
  EXPECT_EQ(MatchExpression("a"), R"("a")");
  EXPECT_EQ(MatchExpression(" , "), "");
}

http::Request Get(std::unordered_map<std::string, std::string> query) {
  http::Request request;
  request.query = std::move(query);
  return request;
}

int StatusOf(const std::function<void()>& fn, std::string* field = nullptr) {
  try {
    fn();
  } catch (const http::ApiError& error) {
    if (field != nullptr) *field = error.extensions().value("field", "");
    return error.status();
  }
  return 0;
}

TEST(ReadListQuery, RefusesUnknownParametersBadWordsAndForeignTokens) {
  std::string field;
  EXPECT_EQ(StatusOf(
                [] {
                  (void)ReadListQuery(Get({{"colour", "red"}}), {"status"});
                },
                &field),
            400);
  EXPECT_EQ(field, "colour");
  EXPECT_EQ(StatusOf(
                [] {
                  (void)ReadListQuery(Get({{"q", std::string(201, 'x')}}), {});
                },
                &field),
            400);
  EXPECT_EQ(field, "q");
  EXPECT_EQ(StatusOf([] { (void)ReadListQuery(Get({{"q", "a\tb"}}), {}); }, &field), 400);
  EXPECT_EQ(StatusOf([] { (void)ReadListQuery(Get({{"q", "--"}}), {}); }, &field), 400);
  const auto first = ReadListQuery(Get({{"q", "lan"}, {"status", "open"}}), {"status"});
  const auto token = SearchPageToken(first.page, 50);
  const auto next =
      ReadListQuery(Get({{"q", "lan"}, {"status", "open"}, {"page_token", token}}), {"status"});
  EXPECT_EQ(next.page.before, 50);
  // A token of the offset-paged search before keyset paging ("f:"): refused, not misread.
  const std::string offset_token = auth::Base64UrlEncode("f:" + first.page.fingerprint + ":50");
  EXPECT_EQ(StatusOf(
                [&] {
                  (void)ReadListQuery(
                      Get({{"q", "lan"}, {"status", "open"}, {"page_token", offset_token}}),
                      {"status"});
                },
                &field),
            400);
  EXPECT_EQ(field, "page_token");
  EXPECT_EQ(StatusOf(
                [&] {
                  (void)ReadListQuery(
                      Get({{"q", "lan"}, {"status", "closed"}, {"page_token", token}}), {"status"});
                },
                &field),
            400);
  EXPECT_EQ(field, "page_token");
  const auto plain =
      ReadListQuery(Get({{"status", "open"}, {"format", "csv"}, {"", ""}}), {"status"});
  EXPECT_TRUE(plain.q.empty());
}

const DocTable& People() {
  static const DocTable table({"people",
                               "person",
                               "/v1/people",
                               {{"status", "status"}},
                               {},
                               true,
                               {"name", "kana"},
                               {"union"}});
  return table;
}

// Pets are found by their owner's name too (a related record's words).
const DocTable& Pets() {
  static const DocTable table({"pets",
                               "pet",
                               "/v1/pets",
                               {{"owner_id", "owner_id"}},
                               {},
                               true,
                               {"name"},
                               {},
                               [](store::Db& tx, const nlohmann::json& doc) {
                                 const auto owner =
                                     People().Find(tx, doc["owner_id"].get<std::string>());
                                 return owner ? (*owner)["name"].get<std::string>() : std::string();
                               }});
  return table;
}

// People again, with their full-text rows written at the end of the writer's batch.
const DocTable& Members() {
  static const DocTable table(
      {"members", "member", "/v1/members", {}, {}, true, {"name"}, {}, {}, true});
  return table;
}

class SearchTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-search");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{{"test",
                                          {{1, "people", People().CreateSql()},
                                           {2, "pets", Pets().CreateSql()},
                                           {3, "members", Members().CreateSql()}}}});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  nlohmann::json Insert(nlohmann::json doc) {
    Stamp(doc);
    store_->Write([&](store::Db& tx) { People().Insert(tx, doc); });
    return doc;
  }

  std::vector<std::string> Search(const std::string& q, bool masked = false,
                                  const Filters& filters = {}) {
    SearchPage page{MatchExpression(q), 50, 0, "f", masked};
    const auto body =
        store_->Read([&](store::Db& db) { return People().Search(db, page, filters); });
    std::vector<std::string> names;
    for (const auto& item : body["items"]) names.push_back(item["name"]);
    return names;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

using Names = std::vector<std::string>;

TEST_F(SearchTableTest, TheIndexFollowsInsertsUpdatesAndDeletes) {
  auto lan = Insert({{"name", "Nguyễn Thị Lan"},
                     {"kana", "グエン・ティ・ラン"},
                     {"union", "VGCL"},
                     {"status", "open"}});
  Insert({{"name", "Trần Minh"}, {"union", "VGCL Metal"}, {"status", "closed"}});
  EXPECT_EQ(Search("lan nguyen"), Names{"Nguyễn Thị Lan"});
  EXPECT_EQ(Search("ティ"), Names{"Nguyễn Thị Lan"});
  EXPECT_EQ(Search("vgcl").size(), 2u);
  EXPECT_EQ(Search("vgcl", false, {{"status", std::string("closed")}}), Names{"Trần Minh"});
  EXPECT_TRUE(Search("vgcl", true).empty());  // masked: the union is not searched
  lan["name"] = "Nguyễn Thị Hoa";
  store_->Write([&](store::Db& tx) { People().Update(tx, lan); });
  EXPECT_TRUE(Search("lan nguyen").empty());
  EXPECT_EQ(Search("hoa"), Names{"Nguyễn Thị Hoa"});
  store_->Write([&](store::Db& tx) { People().Delete(tx, lan["id"].get<std::string>()); });
  EXPECT_TRUE(Search("hoa").empty());
}

TEST_F(SearchTableTest, IndexWrittenAtTheBatchEndFollowsEveryJobThatCommitted) {
  // Hold the writer so that the next jobs share one batch.
  std::promise<void> entered;
  std::promise<void> release;
  auto blocker = store_->WriteAsync([&](store::Db&) {
    entered.set_value();
    release.get_future().wait();
  });
  entered.get_future().wait();
  nlohmann::json lan = {{"name", "Nguyen Lan"}};
  nlohmann::json minh = {{"name", "Tran Minh"}};
  nlohmann::json hoa = {{"name", "Le Hoa"}};
  for (auto* doc : {&lan, &minh, &hoa}) Stamp(*doc);
  std::vector<std::future<void>> jobs;
  jobs.push_back(store_->WriteAsync([&](store::Db& tx) { Members().Insert(tx, lan); }));
  jobs.push_back(store_->WriteAsync([&](store::Db& tx) {  // renamed in the same batch
    auto renamed = lan;
    renamed["name"] = "Nguyen Thuy";
    Members().Update(tx, renamed);
  }));
  jobs.push_back(store_->WriteAsync([&](store::Db& tx) {  // rolled back: no terms stay
    Members().Insert(tx, minh);
    throw std::runtime_error("refused");
  }));
  jobs.push_back(store_->WriteAsync([&](store::Db& tx) {  // inserted and deleted
    Members().Insert(tx, hoa);
    Members().Delete(tx, hoa["id"].get<std::string>());
  }));
  release.set_value();
  blocker.get();
  jobs[0].get();
  jobs[1].get();
  EXPECT_THROW(jobs[2].get(), std::runtime_error);
  jobs[3].get();
  const auto found = [&](const std::string& q) {
    SearchPage page{MatchExpression(q), 50, 0, "f", false};
    const auto body = store_->Read([&](store::Db& db) { return Members().Search(db, page, {}); });
    Names names;
    for (const auto& item : body["items"]) names.push_back(item["name"]);
    return names;
  };
  EXPECT_EQ(found("nguyen"), Names{"Nguyen Thuy"});
  EXPECT_TRUE(found("lan").empty());
  EXPECT_TRUE(found("minh").empty());
  EXPECT_TRUE(found("hoa").empty());
  EXPECT_EQ(store_->Read([](store::Db& db) {
    auto stmt = db.Prepare("SELECT count(*) FROM members_search");
    return stmt.Step() ? stmt.Int(0) : -1;
  }),
            1);
}

TEST_F(SearchTableTest, RelatedWordsAreSearchedAndFollowARenameWhenReindexed) {
  auto owner = Insert({{"name", "Siti Rahma"}, {"status", "open"}});
  nlohmann::json pet = {{"name", "Kucing"}, {"owner_id", owner["id"]}};
  Stamp(pet);
  store_->Write([&](store::Db& tx) { Pets().Insert(tx, pet); });
  auto find = [&](const std::string& q) {
    SearchPage page{MatchExpression(q), 50, 0, "f", false};
    return store_->Read([&](store::Db& db) { return Pets().Search(db, page, {}); })["items"].size();
  };
  EXPECT_EQ(find("kucing"), 1u);
  EXPECT_EQ(find("rahma"), 1u);
  owner["name"] = "Siti Aminah";
  store_->Write([&](store::Db& tx) {
    People().Update(tx, owner);
    Pets().IndexDocument(tx, pet);
  });
  EXPECT_EQ(find("rahma"), 0u);
  EXPECT_EQ(find("aminah kucing"), 1u);
}

TEST_F(SearchTableTest, IndexMissingFillsRowsWrittenBeforeTheIndex) {
  Insert({{"name", "Aiko"}, {"status", "open"}});
  store_->Write([&](store::Db& tx) { tx.Exec("DELETE FROM people_search"); });
  EXPECT_TRUE(Search("aiko").empty());
  IndexForSearch(*store_, {&People()});
  EXPECT_EQ(Search("aiko"), Names{"Aiko"});
  IndexForSearch(*store_, {&People()});  // a second run adds nothing twice
  EXPECT_EQ(Search("aiko").size(), 1u);
}

TEST_F(SearchTableTest, PagesNewestFirstByKeysetUnmovedByInsertsBetweenPages) {
  for (int i = 0; i < 5; ++i) Insert({{"name", "Lan " + std::to_string(i)}, {"status", "open"}});
  const auto request = [](const std::string& token) {
    std::unordered_map<std::string, std::string> query = {{"q", "lan"}, {"page_size", "2"}};
    if (!token.empty()) query["page_token"] = token;
    return Get(query);
  };
  auto query = ReadListQuery(request(""), {});
  Names seen;
  while (true) {
    const auto body =
        store_->Read([&](store::Db& db) { return People().Search(db, query.page, {}); });
    for (const auto& item : body["items"]) seen.push_back(item["name"]);
    // A match added between pages is newer than every page already served: it neither shifts
    // the next page nor appears in it.
    if (seen.size() == 2) Insert({{"name", "Lan new"}, {"status", "open"}});
    if (!body.contains("next_page_token")) break;
    query = ReadListQuery(request(body["next_page_token"]), {});
  }
  EXPECT_EQ(seen, (Names{"Lan 4", "Lan 3", "Lan 2", "Lan 1", "Lan 0"}));
  EXPECT_EQ(Search("lan").front(), "Lan new");
}

TEST(Csv, QuotesNeutralisesFormulasAndFlattensNestedMembers) {
  const nlohmann::json items = {
      {{"id", "a"}, {"name", {{"ja", "山田"}, {"en", "Yamada, \"Hana\""}}}, {"tags", {"x", "y"}}},
      {{"id", "b"}, {"name", {{"en", "=1+2"}}}, {"note", "@home"}, {"score", -3}}};
  EXPECT_EQ(http::ToCsv(items),
            "\xEF\xBB\xBF"
            "id,name.en,name.ja,tags,note,score\r\n"
            "a,\"Yamada, \"\"Hana\"\"\",山田,x; y,,\r\n"
            "b,'=1+2,,,'@home,-3\r\n");
}

TEST(Csv, AskedByAcceptOrFormatAndOtherFormatsRefused) {
  http::Request request;
  EXPECT_FALSE(http::WantsCsv(request));
  request.headers.emplace_back("accept", "text/csv");
  EXPECT_TRUE(http::WantsCsv(request));
  request.query["format"] = "json";
  EXPECT_FALSE(http::WantsCsv(request));
  request.query["format"] = "xlsx";
  EXPECT_EQ(StatusOf([&] { (void)http::WantsCsv(request); }), 400);
}

// A list of `count` numbered items served in pages as a list handler does, reading `colour`
// (a filter); item 300 on has a member the earlier ones lack. Records the largest page asked.
http::Handler NumberedList(std::int64_t count, std::int64_t* largest_page = nullptr) {
  return [count, largest_page](http::Request& request) {
    (void)request.Query("colour");
    const auto page = http::ParsePage(request);
    if (largest_page) *largest_page = std::max(*largest_page, page.page_size);
    const std::int64_t start = page.after.value_or(0);
    nlohmann::json body = {{"items", nlohmann::json::array()}};
    for (std::int64_t i = start; i < std::min<std::int64_t>(start + page.page_size, count); ++i) {
      nlohmann::json item = {{"n", i}, {"name", i % 50 == 0 ? "=1+" + std::to_string(i) : "x"}};
      if (i >= 300) item["late"] = "yes";
      body["items"].push_back(item);
    }
    if (start + page.page_size < count)
      body["next_page_token"] = http::MakePageToken(start + page.page_size);
    return http::Response::Json(200, body);
  };
}

// The whole body of a response, its streamed pieces included; counts the pieces.
std::string Drain(const http::Response& response, int* pieces = nullptr) {
  std::string body = response.body;
  if (!response.stream) return body;
  while (auto piece = response.stream()) {
    body += *piece;
    if (pieces && !piece->empty()) ++*pieces;
  }
  return body;
}

TEST(Csv, TabularStreamsALongListAPageAtATimeWithEveryColumn) {
  std::int64_t largest_page = 0;
  const auto csv = http::Tabular(NumberedList(1000, &largest_page));
  http::Request request;
  request.path = "/v1/things";
  request.query["format"] = "csv";
  const auto all = csv(request);
  ASSERT_TRUE(all.stream) << "a list longer than a page is streamed";
  EXPECT_TRUE(all.body.empty());
  int pieces = 0;
  const auto body = Drain(all, &pieces);
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 1001);
  EXPECT_EQ(pieces, 1 + 5);  // the header, then one chunk per page of 200
  EXPECT_LE(largest_page, 200);
  // The header is the union of every page's columns, found before the first row is written.
  EXPECT_EQ(body.substr(0, body.find("\r\n")), "\xEF\xBB\xBFn,name,late");
  EXPECT_NE(body.find("\r\n0,'=1+0,\r\n"), std::string::npos);
  EXPECT_NE(body.find("\r\n999,x,yes\r\n"), std::string::npos);
  EXPECT_TRUE(all.Header("Link").empty());
}

TEST(Csv, TabularAnswersAShortListWholeOrOnePageWithALinkToTheNext) {
  const auto csv = http::Tabular(NumberedList(150));
  http::Request request;
  request.path = "/v1/things";
  request.query["format"] = "csv";
  const auto all = csv(request);
  EXPECT_FALSE(all.stream);
  EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '\n'), 151);
  request.query["page_size"] = "10";
  const auto one = csv(request);
  EXPECT_EQ(std::count(one.body.begin(), one.body.end(), '\n'), 11);
  EXPECT_NE(one.Header("Link").find("rel=\"next\""), std::string_view::npos);
  request.query.erase("format");
  EXPECT_EQ(csv(request).Header("Content-Type"), "application/json");
}

TEST(Tabular, RefusesAQueryParameterTheListDoesNotRead) {
  const auto list = http::Tabular(NumberedList(10));
  http::Request request;
  request.path = "/v1/things";
  request.query["colour"] = "red";
  EXPECT_EQ(list(request).status, 200);
  request.query["colur"] = "red";
  std::string field;
  EXPECT_EQ(StatusOf([&] { (void)list(request); }, &field), 400);
  EXPECT_EQ(field, "colur");
  request.query.erase("colur");
  request.query["format"] = "csv";
  request.query["nope"] = "1";
  EXPECT_EQ(StatusOf([&] { (void)list(request); }), 400);
}

TEST(Tabular, APageTokenServesOnlyTheQueryAndListThatIssuedIt) {
  const auto list = http::Tabular(NumberedList(10));
  http::Request request;
  request.path = "/v1/things";
  request.query["colour"] = "red";
  request.query["page_size"] = "3";
  const auto first = nlohmann::json::parse(list(request).body);
  const std::string token = first["next_page_token"];
  request.query["page_token"] = token;
  const auto second = nlohmann::json::parse(list(request).body);
  EXPECT_EQ(second["items"][0]["n"], 3);
  request.query["page_size"] = "5";  // another page size is still the same query
  EXPECT_EQ(nlohmann::json::parse(list(request).body)["items"][0]["n"], 3);
  request.query["colour"] = "blue";
  std::string field;
  EXPECT_EQ(StatusOf([&] { (void)list(request); }, &field), 400);
  EXPECT_EQ(field, "page_token");
  request.query["colour"] = "red";
  request.path = "/v1/other-things";
  EXPECT_EQ(StatusOf([&] { (void)list(request); }), 400);
  request.path = "/v1/things";
  request.query["page_token"] = http::MakePageToken(3);  // the handler's own, unbound token
  EXPECT_EQ(StatusOf([&] { (void)list(request); }), 400);
}

TEST(Csv, ATabularRouteRunsOnTheWorkerPoolAndAnswersCsv) {
  http::Router router;
  router
      .Add(
          http::Method::kGet, "/v1/things", auth::Access::kRead,
          [](http::Request&) {
            return http::Response::Json(200, {{"items", {{{"name", "a"}}}}});
          },
          http::Router::Execution::kIoThread)
      .Tabular();
  const auto& route = router.routes().back();
  EXPECT_TRUE(route.tabular);
  EXPECT_EQ(route.execution, http::Router::Execution::kWorkerPool);
  http::Request request;
  request.path = "/v1/things";
  request.headers.emplace_back("accept", "text/csv");
  EXPECT_EQ(route.handler(request).body, "\xEF\xBB\xBFname\r\na\r\n");
}

}  // namespace
}  // namespace jilaf::aggregate
