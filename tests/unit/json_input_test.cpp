#include "common/http/json_input.hpp"

#include <gtest/gtest.h>

#include <set>

namespace jilaf::http {
namespace {

// Runs `read` over `text` and returns the validation errors it produced (empty if none).
std::vector<std::pair<std::string, std::string>> ErrorsOf(
    const std::string& text, const std::function<void(ObjectReader&)>& read) {
  const auto json = ParseJson(text);
  ObjectReader reader(json);
  read(reader);
  try {
    reader.Finish();
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 422);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& item : error.extensions()["errors"])
      out.emplace_back(item["field"], item["message"]);
    return out;
  }
  return {};
}

TEST(JsonInput, MalformedJsonNamesPosition) {
  try {
    ParseJson(R"({"a": 1,, })");
    FAIL() << "expected a 400";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(error.detail().find("malformed JSON at byte"), std::string::npos) << error.detail();
  }
}

// Found by fuzz_json_input: nlohmann throws out_of_range, not parse_error, for a number beyond
// double, which escaped as a 500.
TEST(JsonInput, NumberOutOfRangeIsA400NotA500) {
  for (const char* text : {R"({"seats": 1e999})", "4e4448", R"([-1e400])"}) {
    try {
      ParseJson(text);
      FAIL() << "expected a 400 for " << text;
    } catch (const ApiError& error) {
      EXPECT_EQ(error.status(), 400);
      EXPECT_EQ(error.detail(), "malformed JSON: a number is out of range");
    }
  }
}

TEST(JsonInput, NestingDepthIsBounded) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  try {
    ParseJson(deep);
    FAIL() << "expected a 400";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(error.detail().find("nesting"), std::string::npos);
  }
}

TEST(JsonInput, StringAndArraySizesAreBounded) {
  JsonLimits limits;
  limits.max_string_bytes = 10;
  limits.max_array_items = 3;
  EXPECT_THROW(ParseJson(R"({"a": "01234567890"})", limits), ApiError);
  EXPECT_THROW(ParseJson(R"({"a": [1,2,3,4]})", limits), ApiError);
  EXPECT_NO_THROW(ParseJson(R"({"a": [1,2,3], "b": "short"})", limits));
}

TEST(JsonInput, WrongTypeNamesFieldAndExpectation) {
  const auto errors =
      ErrorsOf(R"({"seats": "ten"})", [](ObjectReader& in) { in.RequiredInt("seats", 1, 100); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, "/seats");
  EXPECT_EQ(errors[0].second, "expected an integer, got a string");
}

TEST(JsonInput, MissingRequiredFieldIsReported) {
  const auto errors = ErrorsOf(R"({})", [](ObjectReader& in) { in.RequiredString("name"); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, "/name");
  EXPECT_EQ(errors[0].second, "is required (a string)");
}

// The readers and the OpenAPI documents count alike (docs/architecture.md): JSON Schema's
// maxLength counts code points, so "日本" is two characters, not six bytes.
TEST(JsonInput, LengthsCountCharactersAsJsonSchemaDoes) {
  EXPECT_TRUE(ErrorsOf(R"({"name": "日本"})", [](ObjectReader& in) {
                in.RequiredString("name", 2, 2);
              }).empty());
  const auto errors = ErrorsOf(R"({"name": "日本語", "tags": ["日本語"]})", [](ObjectReader& in) {
    in.RequiredString("name", 1, 2);
    in.StringArray("tags", true, 5, 2);
  });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].second, "must be at most 2 characters long");
  EXPECT_EQ(errors[1].first, "/tags/0");
  EXPECT_EQ(CharacterCount("a日本"), 3u);
}

// No request schema declares a member nullable, so null is refused, not read as "absent".
TEST(JsonInput, NullIsRefusedNotTakenAsAbsent) {
  const auto errors = ErrorsOf(R"({"as_of": null, "name": null})", [](ObjectReader& in) {
    in.OptionalDate("as_of");
    in.RequiredString("name");
  });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].first, "/as_of");
  EXPECT_EQ(errors[0].second, "must not be null; leave the member out instead");
  EXPECT_EQ(errors[1].second, "is required (a string)");
}

// JSON Schema calls 3.0 an integer; 3.5 stays refused and the range still applies.
TEST(JsonInput, IntegralNumbersWithAFractionPartAreIntegers) {
  std::int64_t seats = 0;
  EXPECT_TRUE(ErrorsOf(R"({"seats": 3.0})", [&](ObjectReader& in) {
                seats = in.RequiredInt("seats", 1, 10);
              }).empty());
  EXPECT_EQ(seats, 3);
  const auto errors = ErrorsOf(R"({"a": 3.5, "b": 30.0, "c": 1e19})", [](ObjectReader& in) {
    in.RequiredInt("a", 1, 10);
    in.RequiredInt("b", 1, 10);
    in.RequiredInt("c", 0, INT64_MAX);
  });
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].second, "expected an integer, got a fractional number");
  EXPECT_EQ(errors[1].second, "must be between 1 and 10");
  EXPECT_EQ(errors[2].first, "/c");
}

TEST(JsonInput, UnknownFieldsAreRejected) {
  const auto errors = ErrorsOf(R"({"name": "x", "admin": true})",
                               [](ObjectReader& in) { in.RequiredString("name"); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, "/admin");
  EXPECT_EQ(errors[0].second, "unknown field");
}

TEST(JsonInput, NestedFieldsUseJsonPointers) {
  const auto errors = ErrorsOf(R"({"title": {"ja": "", "xx": 1}})", [](ObjectReader& in) {
    auto title = in.Object("title", true);
    ASSERT_TRUE(title.has_value());
    title->RequiredString("ja");
    title->RequiredString("en");
    title->RejectUnknownFields();
  });
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].first, "/title/ja");
  EXPECT_EQ(errors[0].second, "must not be empty");
  EXPECT_EQ(errors[1].first, "/title/en");
  EXPECT_EQ(errors[2].first, "/title/xx");
}

TEST(JsonInput, EnumsDatesCountriesAndEmails) {
  const auto errors =
      ErrorsOf(R"({"track": "other", "start": "2026-02-30", "country": "jp", "email": "nope"})",
               [](ObjectReader& in) {
                 in.RequiredEnum("track", {"developing", "industrialized"});
                 in.RequiredDate("start");
                 in.RequiredCountry("country");
                 in.RequiredEmail("email");
               });
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].second, "must be one of: developing, industrialized");
  EXPECT_EQ(errors[1].second, "expected a calendar date YYYY-MM-DD");
  EXPECT_EQ(errors[2].first, "/country");
  EXPECT_EQ(errors[3].first, "/email");
}

TEST(JsonInput, BodyMustBeAnObject) {
  const auto errors = ErrorsOf(R"([1, 2])", [](ObjectReader&) {});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].second, "expected an object, got an array");
}

TEST(JsonInput, ContentTypeMustBeJson) {
  Request request;
  request.headers = {{"content-type", "text/plain"}};
  request.body = "{}";
  try {
    ParseJsonBody(request);
    FAIL() << "expected a 415";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 415);
  }
  request.headers = {{"content-type", "application/json; charset=utf-8"}};
  EXPECT_NO_THROW(ParseJsonBody(request));
}

TEST(JsonInput, IsoDatesHonourLeapYears) {
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_FALSE(IsIsoDate("2025-02-29"));
  EXPECT_FALSE(IsIsoDate("2025-13-01"));
  EXPECT_FALSE(IsIsoDate("2025-1-01"));
}

TEST(JsonInput, ObjectArraysReportEachItemByPointer) {
  const auto errors =
      ErrorsOf(R"({"people": [{"name": "A"}, {"name": 3, "x": 1}, 7], "many": [{}, {}]})",
               [](ObjectReader& in) {
                 for (auto& item : in.ObjectArray("people", true, 10)) {
                   (void)item.RequiredString("name");
                   item.RejectUnknownFields();
                 }
                 EXPECT_TRUE(in.ObjectArray("many", false, 1).empty());
                 EXPECT_TRUE(in.ObjectArray("absent", false, 1).empty());
               });
  std::set<std::string> fields;
  for (const auto& [field, message] : errors) fields.insert(field);
  EXPECT_EQ(fields, (std::set<std::string>{"/people/1/name", "/people/1/x", "/people/2", "/many"}));
}

}  // namespace
}  // namespace jilaf::http
