#include "common/events/cloud_event.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

namespace jilaf::events {
namespace {

TEST(CloudEvent, RoundTripsThroughKafkaBinaryMode) {
  const auto event =
      MakeEvent("/jilaf/invitations", "jilaf.invitations.nomination.submitted", "nom-1",
                "nominations/nom-1", "/schemas/invitations/nomination.submitted/v1.json",
                {{"nomination_id", "nom-1"}, {"seats", 3}});
  Headers headers;
  std::string value;
  ToKafka(event, headers, value);
  const auto parsed = FromKafka("nom-1", value, headers);
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.event.id, event.id);
  EXPECT_EQ(parsed.event.source, event.source);
  EXPECT_EQ(parsed.event.type, event.type);
  EXPECT_EQ(parsed.event.subject, event.subject);
  EXPECT_EQ(parsed.event.time, event.time);
  EXPECT_EQ(parsed.event.dataschema, event.dataschema);
  EXPECT_EQ(parsed.event.traceparent, event.traceparent);
  EXPECT_EQ(parsed.event.key, "nom-1");
  EXPECT_EQ(parsed.event.data, event.data);
  EXPECT_EQ(parsed.event.data_text, value);  // the payload's own bytes, for effects that store it
  EXPECT_TRUE(event.data_text.empty());
}

TEST(CloudEvent, UsesCeHeadersAndJsonValue) {
  const auto event = MakeEvent("/s", "t", "k", "", "", {{"a", 1}});
  Headers headers;
  std::string value;
  ToKafka(event, headers, value);
  std::map<std::string, std::string> map(headers.begin(), headers.end());
  EXPECT_EQ(map["ce_specversion"], "1.0");
  EXPECT_EQ(map["ce_id"], event.id);
  EXPECT_EQ(map["content-type"], "application/json");
  EXPECT_EQ(value, R"({"a":1})");
}

TEST(CloudEvent, RejectsMissingAttributes) {
  EXPECT_EQ(FromKafka("k", "{}", {}).error, "missing ce_specversion header");
  EXPECT_EQ(FromKafka("k", "{}", {{"ce_specversion", "0.3"}}).error,
            "unsupported ce_specversion 0.3");
  EXPECT_EQ(
      FromKafka("k", "{}", {{"ce_specversion", "1.0"}, {"ce_id", "1"}, {"ce_source", "s"}}).error,
      "missing ce_type header");
}

TEST(CloudEvent, RejectsInvalidJsonValue) {
  const Headers headers = {
      {"ce_specversion", "1.0"}, {"ce_id", "1"}, {"ce_source", "s"}, {"ce_type", "t"}};
  const auto parsed = FromKafka("k", "{not json", headers);
  EXPECT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.error, "message value is not valid JSON");
}

TEST(CloudEvent, RejectsDeeplyNestedValueInsteadOfCrashingTheConsumer) {
  const Headers headers = {
      {"ce_specversion", "1.0"}, {"ce_id", "1"}, {"ce_source", "s"}, {"ce_type", "t"}};
  // A million levels: copying such a document would overflow the consumer's stack.
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  const auto parsed = FromKafka("k", deep, headers);
  EXPECT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.error, "message value nests deeper than 64 levels");
  // Brackets inside strings do not count, and ordinary nesting is accepted.
  const std::string text =
      R"({"a": {"b": [1, {"c": "[[[[[[\"{{{{"}]}, "d": ")" + std::string(200, '[') + R"("})";
  EXPECT_TRUE(FromKafka("k", text, headers).ok);
  EXPECT_TRUE(FromKafka("k", std::string(64, '[') + std::string(64, ']'), headers).ok);
  EXPECT_FALSE(FromKafka("k", std::string(65, '[') + std::string(65, ']'), headers).ok);
}

TEST(CloudEvent, IdsAndTraceparentsHaveStandardShapes) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::regex trace("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
  EXPECT_TRUE(std::regex_match(NewUuid(), uuid));
  EXPECT_TRUE(std::regex_match(NewTraceparent(), trace));
  EXPECT_NE(NewUuid(), NewUuid());
}

TEST(CloudEvent, EventIdsAreVersion7AndSortByCreation) {
  const std::regex v7("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const auto first = NewTimeOrderedUuid();
  EXPECT_TRUE(std::regex_match(first, v7)) << first;
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto unix_ms = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  const auto before = unix_ms();
  const auto later = NewTimeOrderedUuid();
  const auto after = unix_ms();
  EXPECT_LT(first, later);
  // The leading 48 bits are the Unix time in milliseconds, taken while the id was made.
  const auto ms = std::stoull(later.substr(0, 8) + later.substr(9, 4), nullptr, 16);
  EXPECT_LE(before, ms);
  EXPECT_LE(ms, after);
  EXPECT_TRUE(std::regex_match(MakeEvent("/s", "t", "k", "s", "d", {}).id, v7));
}

}  // namespace
}  // namespace jilaf::events
