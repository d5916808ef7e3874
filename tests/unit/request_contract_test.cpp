// A reader and the schema it describes (http::DescribeBody) agree: every body below is accepted by
// the reader exactly when it is valid against the schema, at the edges of each rule (lengths,
// bounds, patterns, enums, required, null, unknown members, nested objects and arrays).
#include <gtest/gtest.h>

#include <regex>

#include "common/http/json_input.hpp"
#include "services/invitations/readers.hpp"
#include "services/missions/contract.hpp"
#include "services/notifications/contract.hpp"
#include "services/notifications/routing.hpp"
#include "services/projects/money.hpp"
#include "services/projects/readers.hpp"

namespace jilaf::http {
namespace {

bool IsUpperAlnum(std::string_view text) {
  for (char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

constexpr TextRule kCode = {"^[A-Z0-9]{3,6}$", IsUpperAlnum, "3 to 6 upper-case letters or digits",
                            3, 6};
constexpr DateRange kSpring = {
    "2026-03-01", "2026-05-31",
    "^2026-0(3-(0[1-9]|[12][0-9]|3[01])|4-(0[1-9]|[12][0-9]|30)|5-(0[1-9]|"
    "[12][0-9]|3[01]))$",
    "must fall in spring 2026"};

// One reader using every getter the services use.
void ReadSample(const nlohmann::json& body) {
  ObjectReader in(body);
  (void)in.RequiredString("name", 1, 5);
  (void)in.OptionalString("note", 3);
  (void)in.RequiredEnum("kind", {"a", "b"});
  (void)in.OptionalInt("count", -2, 10);
  (void)in.OptionalBool("flag");
  (void)in.OptionalDate("on");
  (void)in.OptionalDate("spring", kSpring);
  (void)in.OptionalText("code", kCode);
  (void)in.StringArray("tags", false, 2, 4);
  if (auto inner = in.Object("inner", false)) {
    (void)inner->RequiredInt("n", 1, 3);
    inner->RejectUnknownFields();
  }
  for (auto& item : in.ObjectArray("items", false, 2)) {
    (void)item.RequiredString("id", 2, 2);
    item.RejectUnknownFields();
  }
  in.Finish();
}

// A JSON Schema validator for the keywords DescribeBody emits, written apart from the reader.
bool Valid(const nlohmann::json& schema, const nlohmann::json& value) {
  if (schema.contains("anyOf")) {
    for (const auto& option : schema["anyOf"]) {
      if (Valid(option, value)) return true;
    }
    return false;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& option : schema["enum"]) found = found || option == value;
    if (!found) return false;
  }
  const std::string type = schema.value("type", "");
  if (type == "null" && !value.is_null()) return false;
  if (type == "boolean" && !value.is_boolean()) return false;
  if (type == "integer") {
    if (!value.is_number_integer()) return false;
    const auto number = value.get<std::int64_t>();
    if (number < schema["minimum"].get<std::int64_t>()) return false;
    if (number > schema["maximum"].get<std::int64_t>()) return false;
  }
  if (type == "string") {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    const auto length = CharacterCount(text);
    if (length < schema.value("minLength", std::size_t{0})) return false;
    if (length > schema.value("maxLength", std::size_t{1} << 30)) return false;
    if (schema.contains("pattern") &&
        !std::regex_search(text, std::regex(schema["pattern"].get<std::string>()))) {
      return false;
    }
  }
  if (type == "array") {
    if (!value.is_array() || value.size() > schema["maxItems"].get<std::size_t>()) return false;
    for (const auto& item : value) {
      if (!Valid(schema["items"], item)) return false;
    }
  }
  if (type == "object") {
    if (!value.is_object()) return false;
    for (const auto& name : schema.value("required", nlohmann::json::array())) {
      if (!value.contains(name.get<std::string>())) return false;
    }
    for (const auto& [key, member] : value.items()) {
      if (!schema["properties"].contains(key)) return false;
      if (!Valid(schema["properties"][key], member)) return false;
    }
  }
  return true;
}

bool Accepted(const std::function<void(const nlohmann::json&)>& read, const nlohmann::json& body) {
  try {
    read(body);
    return true;
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 422) << body.dump();
    return false;
  }
}

TEST(RequestContract, DescribedSchemaStatesEachGetter) {
  const auto schema = DescribeBody(ReadSample);
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["additionalProperties"], false);
  EXPECT_EQ(schema["required"], nlohmann::json({"name", "kind"}));
  const auto& p = schema["properties"];
  EXPECT_EQ(p["name"], nlohmann::json({{"type", "string"}, {"minLength", 1}, {"maxLength", 5}}));
  EXPECT_EQ(p["note"], nlohmann::json({{"type", "string"}, {"maxLength", 3}}));
  EXPECT_EQ(p["kind"], nlohmann::json({{"enum", {"a", "b"}}}));
  EXPECT_EQ(p["count"], nlohmann::json({{"type", "integer"}, {"minimum", -2}, {"maximum", 10}}));
  EXPECT_EQ(p["on"]["format"], "date");
  EXPECT_EQ(p["on"]["pattern"], std::string(kDatePattern));
  EXPECT_EQ(p["spring"]["pattern"], std::string(kSpring.pattern));
  EXPECT_EQ(p["code"]["pattern"], std::string(kCode.pattern));
  EXPECT_EQ(p["tags"]["maxItems"], 2);
  EXPECT_EQ(p["inner"]["required"], nlohmann::json({"n"}));
  EXPECT_EQ(p["items"]["items"]["properties"]["id"]["minLength"], 2);
}

TEST(RequestContract, ReaderAcceptsExactlyWhatItsSchemaAccepts) {
  const auto schema = DescribeBody(ReadSample);
  const nlohmann::json base = {{"name", "abc"}, {"kind", "a"}};
  auto with = [&](const std::string& key, nlohmann::json value) {
    auto body = base;
    body[key] = std::move(value);
    return body;
  };
  auto without = [&](const std::string& key) {
    auto body = base;
    body.erase(key);
    return body;
  };
  const std::vector<nlohmann::json> bodies = {
      base,
      without("name"),
      without("kind"),
      with("name", ""),
      with("name", "abcde"),
      with("name", "abcdef"),
      with("name", "日本語です"),  // five characters, fifteen bytes
      with("name", "日本語ですね"),
      with("name", nullptr),
      with("name", 5),
      with("note", ""),
      with("note", "abcd"),
      with("note", nullptr),
      with("kind", "c"),
      with("count", -2),
      with("count", -3),
      with("count", 10),
      with("count", 11),
      with("count", "1"),
      with("flag", true),
      with("flag", 0),
      with("on", "2024-02-29"),
      with("on", "2023-02-29"),
      with("on", "1899-12-31"),
      with("on", "1900-01-01"),
      with("on", "2024-4-01"),
      with("spring", "2026-02-28"),
      with("spring", "2026-03-01"),
      with("spring", "2026-05-31"),
      with("spring", "2026-06-01"),
      with("spring", "2026-04-31"),
      with("code", "AB"),
      with("code", "ABC"),
      with("code", "ABC123"),
      with("code", "ABC1234"),
      with("code", "abc"),
      with("tags", nlohmann::json::array()),
      with("tags", {"a", "abcd"}),
      with("tags", {"a", "b", "c"}),
      with("tags", {""}),
      with("tags", {"abcde"}),
      with("inner", nlohmann::json::object()),
      with("inner", {{"n", 3}}),
      with("inner", {{"n", 4}}),
      with("inner", {{"n", 1}, {"m", 1}}),
      with("items", {{{"id", "ab"}}}),
      with("items", {{{"id", "abc"}}}),
      with("items", {{{"id", "ab"}}, {{"id", "cd"}}, {{"id", "ef"}}}),
      with("unknown", 1),
  };
  for (const auto& body : bodies) {
    EXPECT_EQ(Accepted(ReadSample, body), Valid(schema, body)) << body.dump();
  }
}

TEST(RequestContract, PatternsAgreeWithTheirChecksAtTheEdges) {
  const std::regex date{std::string(kDatePattern)};
  for (const char* text : {"1899-12-31", "1900-01-01", "1900-02-29", "2000-02-29", "2100-02-29",
                           "2024-02-29", "2023-02-29", "2024-04-30", "2024-04-31", "2024-12-31",
                           "2024-13-01", "2024-00-10", "9999-12-31", "2024-1-01"}) {
    EXPECT_EQ(std::regex_search(text, date), IsIsoDate(text)) << text;
  }
  const auto& start = invitations::kProgrammeStart;
  const std::regex start_pattern{std::string(start.pattern)};
  for (const std::string text : {"1989-03-31", "1989-04-01", "2101-03-31", "2101-04-01",
                                 "2100-02-29", "2096-02-29", "2000-02-30", "1988-12-31"}) {
    const bool in_range = IsIsoDate(text) && text >= start.first && text <= start.last;
    EXPECT_EQ(std::regex_search(text, start_pattern), in_range) << text;
  }
}

TEST(RequestContract, MergePatchLetsOptionalMembersBeNull) {
  const auto patch = MergePatchSchema(DescribeBody(ReadSample));
  EXPECT_FALSE(patch.contains("required"));
  EXPECT_TRUE(Valid(patch, {{"note", nullptr}}));
  EXPECT_FALSE(Valid(patch, {{"name", nullptr}}));
  EXPECT_TRUE(Valid(patch, {{"inner", {{"n", 2}}}}));
  EXPECT_TRUE(Valid(patch, nlohmann::json::object()));
}

TEST(RequestContract, EveryServiceDescribesItsBodies) {
  // Describing runs each reader on nothing: it must not fail, and must name members.
  for (const auto& list : {invitations::RequestBodies(), projects::RequestBodies(),
                           missions::RequestBodies(), notifications::RequestBodies()}) {
    for (const auto& contract : list) {
      const auto schema = DescribeContract(contract);
      EXPECT_FALSE(schema["properties"].empty()) << contract.pointer;
    }
  }
}

TEST(RequestContract, EventTypePatternAgreesWithValidPattern) {
  const std::regex pattern{std::string(notifications::kEventTypePattern)};
  for (const char* text :
       {"jilaf.projects.tranche.paid", "jilaf.*", "*", ".*", "a..*", "a_b.c9", "jilaf.", ".", "a*",
        "*.a", "jilaf.**", "Jilaf.x", "a-b", "a b", "a.*.b", "**"}) {
    EXPECT_EQ(std::regex_search(text, pattern), notifications::ValidPattern(text)) << text;
  }
}

TEST(RequestContract, RatePatternAgreesWithParseRate) {
  const std::regex rate{std::string(projects::money::kRatePattern)};
  for (const char* text : {"1", "0", "0.0", "151.25", "000000000001", "1234567890123", "1.", ".5",
                           "0.0000000001", "1.12345678901", "-1", "1e3", "00.10"}) {
    EXPECT_EQ(std::regex_search(text, rate), projects::money::ParseRate(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace jilaf::http
