// Finding records and taking lists away, end to end: the real invitations binary over HTTP
// (search with folded names and katakana, masked search for viewers, bad input as problem+json)
// and its CSV opened by Python's csv module.
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

class SearchE2e : public E2eTest {
 protected:
  std::string Programme(const RunningService& service, std::int64_t fiscal_year) {
    const nlohmann::json body = {{"fiscal_year", fiscal_year},
                                 {"title", {{"ja", "青年指導者招へい"}, {"en", "Young Leaders"}}},
                                 {"track", "developing"},
                                 {"start_date", std::to_string(fiscal_year) + "-06-01"},
                                 {"end_date", std::to_string(fiscal_year) + "-06-20"},
                                 {"seats", 10},
                                 {"status", "open"}};
    const auto result = Call(service, "POST", "/v1/programmes", body.dump(), staff_token_);
    EXPECT_EQ(result.status, 201) << result.body;
    return nlohmann::json::parse(result.body).value("id", "");
  }

  std::string Nominate(const RunningService& service, const std::string& programme,
                       nlohmann::json candidate, const std::string& organisation) {
    candidate["email"] = "someone@example.org";
    candidate["position"] = "Youth officer";
    const nlohmann::json body = {
        {"candidate", candidate},
        {"nominating_organisation", {{"name", organisation}, {"country", "VN"}}}};
    const auto result = Call(service, "POST", "/v1/programmes/" + programme + "/nominations",
                             body.dump(), staff_token_);
    EXPECT_EQ(result.status, 201) << result.body;
    return nlohmann::json::parse(result.body, nullptr, false).value("id", "");
  }

  // The ids a search answers, in order.
  std::vector<std::string> Found(const RunningService& service, const std::string& query,
                                 const std::string& token = {}) {
    const auto result =
        Call(service, "GET", "/v1/nominations?" + query, {}, token.empty() ? staff_token_ : token);
    EXPECT_EQ(result.status, 200) << query << ": " << result.body;
    std::vector<std::string> ids;
    const auto body = nlohmann::json::parse(result.body, nullptr, false);
    for (const auto& item : body.value("items", nlohmann::json::array())) {
      ids.push_back(item.value("id", ""));
    }
    return ids;
  }
};

std::string Encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TEST_F(SearchE2e, FindsANomineeAcrossYearsByFoldedReorderedNameAndKatakana) {
  auto& service = StartInvitations();
  const auto earlier = Programme(service, 2019);
  const auto later = Programme(service, 2026);
  const auto first = Nominate(service, earlier,
                              {{"family_name", "Nguyễn"},
                               {"given_name", "Thị Lan"},
                               {"nationality", "VN"},
                               {"katakana_name", "グエン・ティ・ラン"},
                               {"union", "VGCL Hanoi"}},
                              "Vietnam General Confederation of Labour");
  const auto again = Nominate(service, later,
                              {{"family_name", "Nguyen"},
                               {"given_name", "Thi Lan"},
                               {"nationality", "VN"},
                               {"union", "VGCL Hanoi"}},
                              "VGCL");
  const auto other = Nominate(service, later,
                              {{"family_name", "Tran"},
                               {"given_name", "Minh"},
                               {"nationality", "VN"},
                               {"union", "Metalworkers"}},
                              "VGCL");
  using Ids = std::vector<std::string>;
  // Accents, case, word order and a prefix: both years, not the other candidate.
  auto found = Found(service, "q=" + Encode("LAN nguyen"));
  EXPECT_EQ(std::set<std::string>(found.begin(), found.end()),
            std::set<std::string>({first, again}));
  EXPECT_EQ(Found(service, "q=" + Encode("nguy thi") + "&fiscal_year=2019"), Ids{first});
  // Katakana anywhere inside the name, and the same word in hiragana.
  EXPECT_EQ(Found(service, "q=" + Encode("ラン")), Ids{first});
  EXPECT_EQ(Found(service, "q=" + Encode("ぐえん")), Ids{first});
  // The nominating organisation, and a filter beside q.
  EXPECT_EQ(Found(service, "q=" + Encode("confederation labour")), Ids{first});
  EXPECT_EQ(Found(service, "q=vgcl&programme_id=" + later + "&status=submitted").size(), 2u);
  // The union is not in a viewer's masked view, so a viewer cannot find anyone by it.
  EXPECT_EQ(Found(service, "q=metalworkers"), Ids{other});
  EXPECT_TRUE(Found(service, "q=metalworkers", Token("viewer")).empty());
  EXPECT_EQ(Found(service, "q=tran", Token("viewer")), Ids{other});
  // Pages: the token resumes the same search and no other.
  const auto page = Call(service, "GET", "/v1/nominations?q=vgcl&page_size=1", {}, staff_token_);
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string token = nlohmann::json::parse(page.body).value("next_page_token", "");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Found(service, "q=vgcl&page_size=1&page_token=" + token).size(), 1u);
  const auto foreign =
      Call(service, "GET", "/v1/nominations?q=lan&page_token=" + token, {}, staff_token_);
  EXPECT_EQ(foreign.status, 400) << foreign.body;
}

TEST_F(SearchE2e, BadSearchInputIsAProblemNamingTheField) {
  auto& service = StartInvitations();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"q=" + std::string(201, 'a'), "q"},
      {"q=lan%01", "q"},
      {"q=%2C%2C", "q"},
      {"q=lan&colour=red", "colour"},
      {"q=lan&page_token=czox", "page_token"},
      {"q=lan&format=xml", "format"},
      {"fiscal_year=twenty", ""},
  };
  for (const auto& [query, field] : cases) {
    const auto result = Call(service, "GET", "/v1/nominations?" + query, {}, staff_token_);
    EXPECT_EQ(result.status, 400) << query << ": " << result.body;
    EXPECT_EQ(result.Header("content-type"), "application/problem+json") << query;
    if (!field.empty()) {
      EXPECT_EQ(nlohmann::json::parse(result.body, nullptr, false).value("field", ""), field)
          << query << ": " << result.body;
    }
  }
}

TEST_F(SearchE2e, CsvOfANominationListHasTheSameRowsAsTheJson) {
  auto& service = StartInvitations();
  const auto programme = Programme(service, 2026);
  Nominate(service, programme,
           {{"family_name", "=HYPERLINK(\"x\")"},
            {"given_name", "Lan, Thi"},
            {"nationality", "VN"},
            {"union", "VGCL"}},
           "VGCL");
  Nominate(service, programme,
           {{"family_name", "山田"},
            {"given_name", "花子"},
            {"katakana_name", "ヤマダ ハナコ"},
            {"nationality", "JP"},
            {"union", "UA Zensen"}},
           "RENGO");
  const std::string list = "/v1/programmes/" + programme + "/nominations";
  const auto json = Call(service, "GET", list, {}, staff_token_);
  ASSERT_EQ(json.status, 200) << json.body;
  const auto items = nlohmann::json::parse(json.body)["items"];
  ASSERT_EQ(items.size(), 2u);
  const auto csv = Call(service, "GET", list, {}, staff_token_, {{"Accept", "text/csv"}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(Call(service, "GET", list + "?format=csv", {}, staff_token_).body, csv.body);
  const std::string path = dir_ + "/nominations.csv";
  std::ofstream(path, std::ios::binary) << csv.body;
  std::string out;
  ASSERT_EQ(testing::RunCommand(
                "/usr/bin/python3 -c 'import csv, json, sys; "
                "print(json.dumps(list(csv.DictReader(open(sys.argv[1], encoding=\"utf-8-sig\", "
                "newline=\"\")))))' " +
                    path,
                &out),
            0)
      << out;
  const auto rows = nlohmann::json::parse(out);
  ASSERT_EQ(rows.size(), items.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["id"], items[i]["id"]);
    EXPECT_EQ(rows[i]["status"], items[i]["status"]);
    EXPECT_EQ(rows[i]["candidate.given_name"], items[i]["candidate"]["given_name"]);
    EXPECT_EQ(rows[i]["nominating_organisation.name"], items[i]["nominating_organisation"]["name"]);
  }
  // A formula is neutralised: the spreadsheet sees text.
  EXPECT_EQ(rows[0]["candidate.family_name"], "'=HYPERLINK(\"x\")");
  EXPECT_EQ(rows[1]["candidate.family_name"], "山田");
}

// Every string and number of `item`, flattened to the CSV's column names.
void FlattenInto(const nlohmann::json& value, const std::string& prefix,
                 std::map<std::string, std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      FlattenInto(child, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (value.is_string()) {
    const auto text = value.get<std::string>();
    out[prefix] =
        !text.empty() && std::string("=+-@").find(text[0]) != std::string::npos ? "'" + text : text;
  } else if (value.is_number()) {
    out[prefix] = value.dump();
  }
}

TEST_F(SearchE2e, ALongListIsStreamedAsChunkedCsvWithTheRowsOfTheMaskedJson) {
  auto& service = StartInvitations();
  const auto programme = Programme(service, 2026);
  // More rows than the CSV's pages of 200, so the answer takes several chunks.
  constexpr int kRows = 450;
  for (int i = 0; i < kRows; ++i) {
    Nominate(service, programme,
             {{"family_name", i % 100 == 0 ? "=SUM(A1)" : "Tran " + std::to_string(i)},
              {"given_name", "Thi"},
              {"nationality", "VN"},
              {"union", "VGCL"}},
             "VGCL");
  }
  const std::string list = "/v1/nominations?programme_id=" + programme;
  const std::string viewer = Token("viewer");
  nlohmann::json items = nlohmann::json::array();
  for (std::string token;;) {
    const auto page =
        Call(service, "GET",
             list + "&page_size=200" + (token.empty() ? "" : "&page_token=" + token), {}, viewer);
    ASSERT_EQ(page.status, 200) << page.body;
    auto body = nlohmann::json::parse(page.body);
    for (auto& item : body["items"]) items.push_back(std::move(item));
    if (!body.contains("next_page_token")) break;
    token = body["next_page_token"];
  }
  ASSERT_EQ(items.size(), static_cast<std::size_t>(kRows));
  const auto csv = Call(service, "GET", list, {}, viewer, {{"Accept", "text/csv"}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(csv.Header("content-length").empty());
  EXPECT_TRUE(csv.Header("link").empty()) << "the whole list, not a part";
  const std::string path = dir_ + "/long.csv";
  std::ofstream(path, std::ios::binary) << csv.body;
  std::string out;
  ASSERT_EQ(testing::RunCommand(
                "/usr/bin/python3 -c 'import csv, json, sys; "
                "print(json.dumps(list(csv.DictReader(open(sys.argv[1], encoding=\"utf-8-sig\", "
                "newline=\"\")))))' " +
                    path,
                &out),
            0)
      << out.substr(0, 2000);
  const auto rows = nlohmann::json::parse(out);
  ASSERT_EQ(rows.size(), items.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::map<std::string, std::string> expected;
    FlattenInto(items[i], "", expected);
    for (const auto& [column, text] : expected) {
      ASSERT_EQ(rows[i].value(column, "<missing>"), text) << "row " << i << " column " << column;
    }
  }
  // The viewer's CSV is masked as their JSON is: no e-mail column at all.
  EXPECT_FALSE(rows[0].contains("candidate.email")) << rows[0].dump();
  EXPECT_EQ(rows[0]["candidate.family_name"], "'=SUM(A1)");
}

TEST_F(SearchE2e, EveryListRefusesUnknownFiltersAndTokensOfAnotherQuery) {
  auto& service = StartInvitations();
  const auto programme = Programme(service, 2026);
  for (int i = 0; i < 3; ++i) {
    Nominate(
        service, programme,
        {{"family_name", "Le"}, {"given_name", "Hoa"}, {"nationality", "VN"}, {"union", "VGCL"}},
        "VGCL");
  }
  // Plain lists, child lists and searches alike.
  const std::vector<std::string> lists = {
      "/v1/programmes", "/v1/programmes/" + programme + "/nominations",
      "/v1/programmes/" + programme + "/itinerary", "/v1/nominations", "/v1/nominations?q=le"};
  for (const auto& list : lists) {
    const std::string sep = list.find('?') == std::string::npos ? "?" : "&";
    for (const std::string_view format : {"", "&format=csv"}) {
      const auto result =
          Call(service, "GET", list + sep + "colour=red" + std::string(format), {}, staff_token_);
      EXPECT_EQ(result.status, 400) << list << format << ": " << result.body;
      EXPECT_EQ(nlohmann::json::parse(result.body, nullptr, false).value("field", ""), "colour")
          << list << format << ": " << result.body;
    }
  }
  const std::string nominations = "/v1/programmes/" + programme + "/nominations";
  const auto first = Call(service, "GET", nominations + "?page_size=1", {}, staff_token_);
  const std::string token = nlohmann::json::parse(first.body)["next_page_token"];
  EXPECT_EQ(Call(service, "GET", nominations + "?page_size=1&page_token=" + token, {}, staff_token_)
                .status,
            200);
  const std::vector<std::string> others = {nominations + "?status=submitted&page_token=" + token,
                                           "/v1/nominations?page_token=" + token,
                                           "/v1/programmes?page_token=" + token};
  for (const auto& other : others) {
    const auto result = Call(service, "GET", other, {}, staff_token_);
    EXPECT_EQ(result.status, 400) << other << ": " << result.body;
    EXPECT_EQ(nlohmann::json::parse(result.body, nullptr, false).value("field", ""), "page_token")
        << other;
  }
}

}  // namespace
}  // namespace jilaf::e2e
