// Notifications: rule matching, template rendering in both locales, webhook signatures, retries.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "services/notifications/channels.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/retry.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/signature.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

const json kNomination = {
    {"programme_title", {{"ja", "アジア青年労働組合指導者招へい"}, {"en", "Asia Young Leaders"}}},
    {"candidate", {{"family_name", "Nguyen"}, {"given_name", "Lan"}, {"nationality", "VN"}}},
    {"nominating_organisation",
     {{"name", "VGCL"}, {"country", "VN"}, {"contact_email", "intl@vgcl.example"}}},
    {"amount", 1500000}};

TEST(RuleMatching, ExactTypeAndPrefix) {
  EXPECT_TRUE(TypeMatches("jilaf.invitations.nomination.submitted",
                          "jilaf.invitations.nomination.submitted"));
  EXPECT_FALSE(TypeMatches("jilaf.invitations.nomination.submitted",
                           "jilaf.invitations.nomination.selected"));
  EXPECT_TRUE(TypeMatches("jilaf.invitations.*", "jilaf.invitations.nomination.selected"));
  EXPECT_TRUE(TypeMatches("jilaf.*", "jilaf.missions.report.published"));
  // A prefix ends at a dot: jilaf.invitations.* does not select jilaf.invitationsx.a.
  EXPECT_FALSE(TypeMatches("jilaf.invitations.*", "jilaf.invitationsx.a"));
  EXPECT_FALSE(TypeMatches("jilaf.invitations.*", "jilaf.invitations."));
  EXPECT_FALSE(TypeMatches("jilaf.projects.*", "jilaf.invitations.programme.created"));
}

TEST(RuleMatching, ConditionsOnEventFields) {
  EXPECT_TRUE(ConditionsHold(json::array(), kNomination));
  EXPECT_TRUE(ConditionsHold(
      json::parse(R"([{"pointer": "/amount", "op": "gt", "value": 1000000}])"), kNomination));
  EXPECT_FALSE(ConditionsHold(
      json::parse(R"([{"pointer": "/amount", "op": "gt", "value": 2000000}])"), kNomination));
  EXPECT_TRUE(ConditionsHold(
      json::parse(R"([{"pointer": "/candidate/nationality", "op": "in", "value": ["VN", "ID"]},
                      {"pointer": "/nominating_organisation/name", "op": "eq", "value": "VGCL"}])"),
      kNomination));
  EXPECT_FALSE(ConditionsHold(
      json::parse(R"([{"pointer": "/candidate/nationality", "op": "ne", "value": "VN"}])"),
      kNomination));
  // A condition on an absent field is false, except `exists: false`.
  EXPECT_FALSE(ConditionsHold(json::parse(R"([{"pointer": "/missing", "op": "lt", "value": 5}])"),
                              kNomination));
  EXPECT_TRUE(ConditionsHold(
      json::parse(R"([{"pointer": "/missing", "op": "exists", "value": false}])"), kNomination));
  // Numbers never compare with strings.
  EXPECT_FALSE(ConditionsHold(json::parse(R"([{"pointer": "/amount", "op": "gt", "value": "1"}])"),
                              kNomination));
}

TEST(RuleMatching, RecipientsFromAddressesRolesAndEventData) {
  std::vector<std::string> skipped;
  const auto recipients = ResolveRecipients(json::parse(R"([{"address": "desk@jilaf.example"},
                      {"pointer": "/nominating_organisation/contact_email"},
                      {"pointer": "/candidate/email"}, {"role": "staff"}])"),
                                            kNomination, &skipped);
  ASSERT_EQ(recipients.size(), 3u);
  EXPECT_EQ(recipients[0].address, "desk@jilaf.example");
  EXPECT_EQ(recipients[1].kind, "address");
  EXPECT_EQ(recipients[1].address, "intl@vgcl.example");
  EXPECT_EQ(recipients[2].kind, "role");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0], "/candidate/email");
}

TEST(TemplateRendering, JapaneseBusinessStyleAndEnglish) {
  events::CloudEvent event;
  event.id = "e1";
  event.type = "jilaf.invitations.nomination.submitted";
  event.data = kNomination;
  const json context = TemplateContext(event);
  const auto ja = Render(
      "{{data.candidate.family_name}} {{data.candidate.given_name}} 様、"
      "{{data.programme_title.ja}}へのご推薦を受け付けました。",
      context);
  ASSERT_TRUE(ja.ok) << ja.error;
  EXPECT_EQ(ja.text, "Nguyen Lan 様、アジア青年労働組合指導者招へいへのご推薦を受け付けました。");
  const auto en = Render(
      "Dear {{data.nominating_organisation.name}}, we received the nomination of "
      "{{data.candidate.given_name}} {{data.candidate.family_name}} for "
      "{{data.programme_title.en}} ({{event.type}}).",
      context);
  ASSERT_TRUE(en.ok);
  EXPECT_EQ(en.text,
            "Dear VGCL, we received the nomination of Lan Nguyen for Asia Young Leaders "
            "(jilaf.invitations.nomination.submitted).");
  // Plain text: no HTML escaping of what the data holds.
  EXPECT_EQ(Render("{{x}}", json{{"x", "R&D <b>"}}).text, "R&D <b>");
  // Numbers render as their JSON text.
  EXPECT_EQ(Render("{{data.amount}}", context).text, "1500000");
}

TEST(TemplateRendering, ReportsEveryMissingFieldAndSyntaxErrors) {
  const auto missing = Render("{{data.candidate.family_name}} {{data.candidate.title}} {{nothing}}",
                              json{{"data", kNomination}});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.missing, (std::set<std::string>{"data.candidate.title", "nothing"}));
  const auto broken = Render("{{#data}} unclosed", json{{"data", kNomination}});
  EXPECT_FALSE(broken.ok);
  EXPECT_FALSE(broken.error.empty());
}

TEST(WebhookSignature, MatchesHmacSha256ReferenceVector) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string body = R"({"id":"1"})";
  const std::string header = WebhookSignature("whsec_secret", 1700000000, body);
  EXPECT_EQ(header,
            "t=1700000000,v1=" + HmacSha256Hex("whsec_secret", std::string("1700000000.") + body));
  EXPECT_TRUE(VerifyWebhookSignature("whsec_secret", header, body, 1700000010));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_other", header, body, 1700000010));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_secret", header, body + " ", 1700000010));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_secret", header, body, 1700001000));  // stale
  EXPECT_FALSE(VerifyWebhookSignature("whsec_secret", "v1=abc", body, 1700000000));
}

TEST(RetrySchedule, GrowsExponentiallyWithBoundedJitterUpToTheCap) {
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.base = std::chrono::milliseconds(1000);
  policy.cap = std::chrono::milliseconds(10000);
  std::mt19937_64 random(42);
  for (int round = 0; round < 200; ++round) {
    for (int attempt = 1; attempt <= 8; ++attempt) {
      const std::int64_t step = std::min<std::int64_t>(10000, 1000LL << (attempt - 1));
      const auto delay = policy.Delay(attempt, random).count();
      EXPECT_GE(delay, step / 2) << attempt;
      EXPECT_LE(delay, step) << attempt;
    }
  }
  // Jitter: the same attempt does not always wait the same time.
  std::set<std::int64_t> seen;
  for (int i = 0; i < 20; ++i) seen.insert(policy.Delay(3, random).count());
  EXPECT_GT(seen.size(), 5u);
  EXPECT_FALSE(policy.Exhausted(4));
  EXPECT_TRUE(policy.Exhausted(5));
  // Huge attempt numbers saturate at the cap instead of overflowing.
  EXPECT_LE(policy.Delay(1000, random).count(), 10000);
}

TEST(EmailFormat, EncodesJapaneseSubjectAndCarriesMessageId) {
  SmtpOptions options;
  options.from = "JILAF <noreply@jilaf.example>";
  Email email{"lan@example.org", "新規推薦", "本文", "d1@notifications.jilaf", {{"X-Test", "1"}}};
  const std::string text = FormatEmail(options, email);
  EXPECT_NE(text.find("Subject: =?UTF-8?B?5paw6KaP5o6o6Jam?=\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Message-ID: <d1@notifications.jilaf>\r\n"), std::string::npos);
  EXPECT_NE(text.find("To: <lan@example.org>\r\n"), std::string::npos);
  EXPECT_NE(text.find("X-Test: 1\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\n\r\n5pys5paH\r\n"), std::string::npos);
}

}  // namespace
}  // namespace jilaf::notifications
