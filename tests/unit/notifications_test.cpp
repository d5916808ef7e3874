// Notifications: rule matching, template rendering in both locales, webhook signatures, retries,
// and the event handler on a real store.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>

#include "common/events/outbox.hpp"
#include "common/events/people.hpp"
#include "common/http/idempotency.hpp"
#include "common/metrics/metrics.hpp"
#include "common/store/sqlite.hpp"
#include "common/util/calendar.hpp"
#include "services/notifications/channels.hpp"
#include "services/notifications/event_handler.hpp"
#include "services/notifications/feed.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/retry.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/schema.hpp"
#include "services/notifications/signature.hpp"
#include "services/notifications/tables.hpp"
#include "tests/support/process.hpp"

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

TEST(TemplateRendering, EventDataConvertedOnDemandRendersAsTheWholeContext) {
  events::CloudEvent event;
  event.id = "e1";
  event.type = "jilaf.invitations.nomination.submitted";
  event.source = "/jilaf/invitations";
  event.data = kNomination;
  event.data["countries"] = json::array({{{"code", "VN"}}, {{"code", "PH"}}});
  event.data["flag"] = false;
  event.data["note"] = nullptr;
  const json context = TemplateContext(event);
  const TemplateData lazy(event);
  for (const std::string text :
       {"{{data.candidate.family_name}} {{event.what}} {{links.invitations}}/{{event.id}}",
        "{{data.amount}} {{data.programme_title.ja}} {{data.candidate.title}} {{nothing}}",
        "{{#data.countries}}[{{code}} {{data.candidate.given_name}}]{{/data.countries}}",
        "{{#data.candidate}}{{family_name}}/{{nationality}}/{{links.projects}}{{/data.candidate}}",
        "{{^data.flag}}no flag{{/data.flag}}{{#data.note}}note{{/data.note}}{{data.amount.x}}",
        "{{#data}}{{amount}}{{/data}} {{#links}}{{missions}}{{/links}} {{data}}"}) {
    const auto expected = Render(text, context);
    const auto rendered = Template(text).Render(lazy);  // twice: the second from what it kept
    for (const auto& got : {rendered, Template(text).Render(lazy)}) {
      EXPECT_EQ(got.ok, expected.ok) << text;
      EXPECT_EQ(got.text, expected.text) << text;
      EXPECT_EQ(got.missing, expected.missing) << text;
    }
  }
  EXPECT_EQ(Template("{{data.candidate.family_name}}").Render(lazy).text, "Nguyen");
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
  Email email{"lan@example.org",        "新規推薦",        "本文",
              "d1@notifications.jilaf", {{"X-Test", "1"}}, ""};
  const std::string text = FormatEmail(options, email);
  EXPECT_NE(text.find("Subject: =?UTF-8?B?5paw6KaP5o6o6Jam?=\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Message-ID: <d1@notifications.jilaf>\r\n"), std::string::npos);
  EXPECT_NE(text.find("To: <lan@example.org>\r\n"), std::string::npos);
  EXPECT_NE(text.find("X-Test: 1\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\n\r\n5pys5paH\r\n"), std::string::npos);
}

// The consumer's handler, driven directly with a CloudEvent against a real temporary store with
// the default staff-inbox rule, an email rule whose condition holds and one whose does not.
class EventHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-notifications");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), http::IdempotencyMigrations(),
                                         events::PeopleCopyMigrations(), Migrations()});
    SeedDefaults(*store_);
    store_->Write([](store::Db& tx) {
      for (const char* locale : {"ja", "en"}) {
        SaveTemplate(tx, {{"event_type", "jilaf.invitations.programme.created"},
                          {"channel", "email"},
                          {"locale", locale},
                          {"subject", "Programme {{data.title.en}}"},
                          {"body", "FY{{data.fiscal_year}}"},
                          {"version", 1}});
      }
      AddEmailRule(tx, "open programmes", "open");
      AddEmailRule(tx, "closed programmes", "closed");
    });
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static void AddEmailRule(store::Db& tx, const std::string& name, const std::string& status) {
    json rule = {{"name", name},
                 {"event_type", "jilaf.invitations.programme.created"},
                 {"channel", "email"},
                 {"recipients", {{{"address", "office@jilaf.example"}}}},
                 {"conditions", {{{"pointer", "/status"}, {"op", "eq"}, {"value", status}}}},
                 {"locale", "en"},
                 {"category", "programmes"},
                 {"operational", false},
                 {"enabled", true}};
    aggregate::Stamp(rule);
    Tables().rules.Insert(tx, rule);
  }

  static events::CloudEvent ProgrammeCreated() {
    events::CloudEvent event;
    event.id = "0191e0a0-0000-7000-8000-000000000001";
    event.source = "/jilaf/invitations";
    event.type = "jilaf.invitations.programme.created";
    event.subject = "programmes/p-1";
    event.time = "2026-04-01T09:00:00.000Z";
    event.data = {{"programme_id", "p-1"},
                  {"title", {{"ja", "アジア青年指導者"}, {"en", "Asia Young Leaders"}}},
                  {"status", "open"},
                  {"fiscal_year", 2026},
                  {"track", "asia"},
                  {"seats", 12},
                  {"country_quotas", json::object()},
                  {"start_date", "2026-06-01"},
                  {"end_date", "2026-06-20"}};
    return event;
  }

  void Handle(const events::CloudEvent& event) { Handle(event, EventHandler(metrics_)); }
  void Handle(const events::CloudEvent& event, const EventHandler& handler) {
    store_->Write([&](store::Db& tx) { handler(tx, event, {"jilaf.invitations.events", 0, 7}); });
  }

  // The subject of the email planned for `event_id`, or "" when none was.
  std::string EmailSubject(const std::string& event_id) {
    const auto deliveries = store_->Read([&](store::Db& db) {
      return Tables().deliveries.Where(db, {{"event_id", event_id}, {"channel", "email"}});
    });
    return deliveries.empty() ? "" : deliveries[0]["content"]["subject"].get<std::string>();
  }

  std::int64_t Count(const char* sql) {
    return store_->Read([&](store::Db& db) {
      auto stmt = db.Prepare(sql);
      return stmt.Step() ? stmt.Int(0) : -1;
    });
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  metrics::Metrics registry_;
  DeliveryMetrics metrics_{registry_};
};

TEST_F(EventHandlerTest, NewsletterIsDatedByTheTokyoCalendar) {
  Handle(ProgrammeCreated());  // a public feed item for the issue
  // 2026-03-31T15:30Z: 1 April in Tokyo, where the newsletter is issued.
  const util::ScopedBusinessClock clock(1774971000000);
  const auto issue = IssuePeriodical(*store_, FeedOptions{}, metrics_);
  ASSERT_TRUE(issue.has_value());
  const std::string body = (*issue)["en"]["body"];
  EXPECT_NE(body.find("JILAF Newsletter No. 1 (2026-04-01)"), std::string::npos) << body;
  EXPECT_NE((*issue)["ja"]["body"].get<std::string>().find("（2026-04-01）"), std::string::npos);
}

// A planned delivery is counted when its transaction commits: the consumer may run the handler
// again for an event whose job rolled back (ConsumerOptions::handler_reruns_safely), and that
// event's deliveries are then counted once.
TEST_F(EventHandlerTest, PlannedDeliveriesAreCountedOnceWhenTheirTransactionCommits) {
  auto& inbox_sent = metrics_.deliveries.Add({{"channel", "inbox"}, {"status", "sent"}});
  auto& email_pending = metrics_.deliveries.Add({{"channel", "email"}, {"status", "pending"}});
  const auto event = ProgrammeCreated();
  const EventHandler handler(metrics_);
  EXPECT_THROW(store_->Write([&](store::Db& tx) {
    handler(tx, event, {"jilaf.invitations.events", 0, 7});
    throw std::runtime_error("a later event of the same job fails");
  }),
               std::runtime_error);
  EXPECT_EQ(inbox_sent.Value(), 0);
  EXPECT_EQ(email_pending.Value(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 0);
  Handle(event, handler);  // the same event again, in a job of its own
  EXPECT_EQ(inbox_sent.Value(), 1);
  EXPECT_EQ(email_pending.Value(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 2);
}

TEST_F(EventHandlerTest, EventBecomesFeedItemInboxItemAndPlannedDeliveriesOnce) {
  const auto event = ProgrammeCreated();
  for (int replay = 0; replay < 2; ++replay) {
    Handle(event);
    SCOPED_TRACE(replay);
    // A feed item for the open programme.
    const auto feed = store_->Read([](store::Db& db) { return Tables().feed_items.Where(db, {}); });
    ASSERT_EQ(feed.size(), 1u);
    EXPECT_EQ(feed[0]["id"], "programme:p-1");
    EXPECT_EQ(feed[0]["event_id"], event.id);
    // The staff inbox (default rule) and the open-programme email rule; not the closed one.
    const auto deliveries = store_->Read([&](store::Db& db) {
      return Tables().deliveries.Where(db, {{"event_id", event.id}});
    });
    ASSERT_EQ(deliveries.size(), 2u);
    EXPECT_EQ(deliveries[0]["channel"], "inbox");
    EXPECT_EQ(deliveries[0]["status"], "sent");
    EXPECT_EQ(deliveries[1]["channel"], "email");
    EXPECT_EQ(deliveries[1]["status"], "pending");
    EXPECT_EQ(deliveries[1]["content"]["subject"], "Programme Asia Young Leaders");
    // The inbox item for staff, and its delivery.sent event.
    const auto inbox =
        store_->Read([](store::Db& db) { return Tables().inbox_items.Where(db, {}); });
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_EQ(inbox[0]["audience"], "staff");
    EXPECT_EQ(inbox[0]["event"]["topic"], "jilaf.invitations.events");
    EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 1);
    // The item's document, written as text, is the bytes nlohmann::json would have dumped.
    const auto stored = store_->Read([](store::Db& db) {
      auto stmt = db.Prepare("SELECT doc FROM inbox_notifications");
      EXPECT_TRUE(stmt.Step());
      return stmt.Text(0);
    });
    EXPECT_EQ(stored, inbox[0].dump());
    // Both deliveries' words reached the full-text index with the commit.
    EXPECT_EQ(Count("SELECT count(*) FROM deliveries_search"), 2);
  }
}

// The consumer writes each delivery's document as text: for every shape (an inbox item sent at
// once, an email with content, a webhook payload, a suppressed delivery without content) the
// stored bytes are those nlohmann::json dumps for the same document, with the members it had.
TEST_F(EventHandlerTest, DeliveryDocumentsWrittenAsTextAreTheDumpedDocuments) {
  store_->Write([](store::Db& tx) {
    json hook = {{"name", "programme hook"},
                 {"event_type", "jilaf.invitations.programme.*"},
                 {"channel", "webhook"},
                 {"recipients", {{{"endpoint", "w-1"}}}},
                 {"enabled", true}};
    aggregate::Stamp(hook);
    Tables().rules.Insert(tx, hook);
    json muted = {
        {"name", "muted"},          {"event_type", "jilaf.invitations.programme.created"},
        {"channel", "email"},       {"recipients", {{{"address", "muted@jilaf.example"}}}},
        {"category", "programmes"}, {"enabled", true}};
    aggregate::Stamp(muted);
    Tables().rules.Insert(tx, muted);
    SavePreferences(tx, {{"recipient", "muted@jilaf.example"},
                         {"version", 1},
                         {"locale", "ja"},
                         {"opt_out", {"programmes"}}});
  });
  const auto event = ProgrammeCreated();
  Handle(event);
  const auto rows = store_->Read([&](store::Db& db) {
    std::vector<std::string> docs;
    auto stmt = db.Prepare("SELECT doc FROM deliveries WHERE event_id = ? ORDER BY seq");
    stmt.Bind(1, event.id);
    while (stmt.Step()) docs.push_back(stmt.Text(0));
    return docs;
  });
  ASSERT_EQ(rows.size(), 4u);
  std::map<std::string, json> by_status_channel;
  for (const auto& text : rows) {
    const json doc = json::parse(text);
    EXPECT_EQ(text, doc.dump());
    for (const char* key :
         {"id", "event_id", "event_type", "rule_id", "recipient", "channel", "category",
          "operational", "locale", "status", "attempts", "history", "created_at", "updated_at"}) {
      EXPECT_TRUE(doc.contains(key)) << key << " in " << text;
    }
    EXPECT_EQ(doc["event_id"], event.id);
    EXPECT_EQ(doc["event_type"], event.type);
    EXPECT_EQ(doc["attempts"], 0);
    EXPECT_EQ(doc["history"], json::array());
    EXPECT_EQ(doc["created_at"], doc["updated_at"]);
    by_status_channel[doc["status"].get<std::string>() + "/" + doc["channel"].get<std::string>()] =
        doc;
  }
  ASSERT_EQ(by_status_channel.size(), 4u);
  const auto& inbox = by_status_channel.at("sent/inbox");
  EXPECT_EQ(inbox["recipient"], json({{"kind", "role"}, {"address", "staff"}}));
  EXPECT_TRUE(inbox["content"].contains("body"));
  const auto& email = by_status_channel.at("pending/email");
  EXPECT_EQ(email["content"]["subject"], "Programme Asia Young Leaders");
  EXPECT_EQ(email["operational"], false);
  const auto& hook = by_status_channel.at("pending/webhook");
  EXPECT_EQ(hook["recipient"], json({{"kind", "endpoint"}, {"address", "w-1"}}));
  EXPECT_EQ(json::parse(hook["content"]["payload"].get<std::string>())["id"], event.id);
  const auto& muted = by_status_channel.at("suppressed/email");
  EXPECT_FALSE(muted.contains("content"));
  EXPECT_EQ(muted["locale"], "ja");
  EXPECT_EQ(muted["category"], "programmes");
  // The inbox delivery's delivery.sent event carries what analytics reads, no address.
  const auto [headers, payload] = store_->Read([](store::Db& db) {
    auto stmt = db.Prepare("SELECT headers, payload FROM outbox");
    EXPECT_TRUE(stmt.Step());
    const json data = json::parse(stmt.Text(1));
    EXPECT_EQ(stmt.Text(1), data.dump());  // written as text, the bytes of the dumped tree
    return std::pair{json::parse(stmt.Text(0)), data};
  });
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      json::array({"ce_type", "jilaf.notifications.delivery.sent"})),
            headers.end())
      << headers.dump();
  EXPECT_EQ(payload, json({{"attempts", 0},
                           {"category", inbox["category"]},
                           {"channel", "inbox"},
                           {"delivery_id", inbox["id"]},
                           {"event_id", event.id},
                           {"event_type", event.type},
                           {"recipient_kind", "role"},
                           {"rule_id", inbox["rule_id"]},
                           {"status", "sent"}}));
}

// Events queued at once (the store folds them into few commits): each delivery's words enter the
// index at the end of its batch, once, and a delivery deleted afterwards leaves no words behind.
TEST_F(EventHandlerTest, DeliveriesOfABatchAreSearchableFromItsCommit) {
  const EventHandler handler(metrics_);
  std::vector<std::future<void>> jobs;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto event = ProgrammeCreated();
    event.id = events::NewTimeOrderedUuid();
    ids.push_back(event.id);
    jobs.push_back(store_->WriteAsync([handler, event](store::Db& tx) {
      handler(tx, event, {"jilaf.invitations.events", 0, 7});
    }));
  }
  jobs.push_back(store_->WriteAsync([&](store::Db& tx) {
    for (const auto& doc : Tables().deliveries.Where(tx, {{"event_id", ids.back()}})) {
      (void)Tables().deliveries.Delete(tx, doc["id"].get<std::string>());
    }
  }));
  for (auto& job : jobs) job.get();
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 38);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries_search"), 38);
  const auto found = store_->Read([](store::Db& db) {
    return Tables().deliveries.Search(db, {"staff", 100, 0, "", false}, {});
  });
  EXPECT_EQ(found["items"].size(), 19u);
}

// One handler keeps its rules and compiled templates between events; every change made in
// between (a template's next version, a template deleted and created again at version 1, a rule
// disabled and enabled) applies from the next event on.
TEST_F(EventHandlerTest, RulesAndTemplatesChangedBetweenEventsApplyToTheNext) {
  const EventHandler handler(metrics_);
  int sequence = 0;
  auto next = [&] {
    auto event = ProgrammeCreated();
    event.id = "0191e0a0-0000-7000-8000-00000000010" + std::to_string(sequence++);
    Handle(event, handler);
    return EmailSubject(event.id);
  };
  auto save = [&](const std::string& subject, std::int64_t version) {
    store_->Write([&](store::Db& tx) {
      SaveTemplate(tx, {{"event_type", "jilaf.invitations.programme.created"},
                        {"channel", "email"},
                        {"locale", "en"},
                        {"subject", subject},
                        {"body", "FY{{data.fiscal_year}}"},
                        {"version", version}});
    });
  };
  auto enable = [&](bool enabled) {
    store_->Write([&](store::Db& tx) {
      for (auto& rule : Tables().rules.Where(tx, {})) {
        if (rule["name"] != "open programmes") continue;
        rule["enabled"] = enabled;
        Tables().rules.Update(tx, rule);
      }
    });
  };
  EXPECT_EQ(next(), "Programme Asia Young Leaders");
  save("Revised {{data.title.en}}", 2);
  EXPECT_EQ(next(), "Revised Asia Young Leaders");
  store_->Write([](store::Db& tx) {
    tx.Exec("DELETE FROM templates WHERE channel = 'email' AND locale = 'en'");
  });
  save("Recreated {{data.title.en}}", 1);
  EXPECT_EQ(next(), "Recreated Asia Young Leaders");
  enable(false);
  EXPECT_EQ(next(), "");
  enable(true);
  EXPECT_EQ(next(), "Recreated Asia Young Leaders");
  // The rules matched per event type are matched again when a rule's pattern changes.
  auto retarget = [&](const std::string& pattern) {
    store_->Write([&](store::Db& tx) {
      for (auto& rule : Tables().rules.Where(tx, {})) {
        if (rule["name"] != "open programmes") continue;
        rule["event_type"] = pattern;
        Tables().rules.Update(tx, rule);
      }
    });
  };
  retarget("jilaf.projects.*");
  EXPECT_EQ(next(), "");
  retarget("jilaf.invitations.*");
  EXPECT_EQ(next(), "Recreated Asia Young Leaders");
}

// A programme created as a draft reaches the feed when it moves to open, and its entry links to
// a resource that exists: the item on this API, or the portal's page when one is configured.
TEST_F(EventHandlerTest, ProgrammeMovedFromDraftToOpenBecomesAFeedItem) {
  auto created = ProgrammeCreated();
  created.data["status"] = "draft";
  Handle(created);
  EXPECT_EQ(Count("SELECT count(*) FROM feed_items"), 0);
  auto opened = ProgrammeCreated();
  opened.id = "0191e0a0-0000-7000-8000-000000000002";
  opened.type = "jilaf.invitations.programme.open";
  opened.data["previous_status"] = "draft";
  Handle(opened);
  const auto feed = store_->Read([](store::Db& db) { return Tables().feed_items.Where(db, {}); });
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_EQ(feed[0]["id"], "programme:p-1");
  EXPECT_EQ(feed[0]["event_id"], opened.id);
  FeedOptions options;
  options.public_base_url = "https://public.jilaf.example.org";
  EXPECT_EQ(FeedItemLink(feed[0], options),
            "https://public.jilaf.example.org/v1/feed/programme:p-1");
  options.portal_base_url = "https://www.jilaf.or.jp";
  EXPECT_EQ(FeedItemLink(feed[0], options), "https://www.jilaf.or.jp/programmes/p-1");
}

// The staff inbox out of the box: an officer's sentence with names, title and a link, not an
// event id; 様 in Japanese.
TEST_F(EventHandlerTest, DefaultInboxItemNamesThePersonTheProgrammeAndLinksTheRecord) {
  auto event = ProgrammeCreated();
  event.id = "0191e0a0-0000-7000-8000-000000000003";
  event.type = "jilaf.invitations.nomination.selected";
  event.subject = "nominations/n-1";
  event.data = kNomination;
  event.data["nomination_id"] = "n-1";
  event.data["fiscal_year"] = 2026;
  Handle(event);
  const auto inbox = store_->Read([](store::Db& db) { return Tables().inbox_items.Where(db, {}); });
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["title"], "Selected: Lan Nguyen");
  const std::string body = inbox[0]["body"];
  EXPECT_NE(body.find("Asia Young Leaders"), std::string::npos) << body;
  EXPECT_NE(body.find("VGCL"), std::string::npos) << body;
  EXPECT_NE(body.find("http://127.0.0.1:8081/v1/nominations/n-1"), std::string::npos) << body;
  EXPECT_EQ(body.find(event.id), std::string::npos) << body;

  // An invitations event without a text of its own: readable, linked, still no event id.
  event.id = "0191e0a0-0000-7000-8000-000000000004";
  event.type = "jilaf.invitations.nomination.screened";
  Handle(event);
  const auto items = store_->Read([&](store::Db& db) {
    return Tables().inbox_items.Where(db, {{"event_id", event.id}});
  });
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["title"], "Invitations: nomination screened");
  EXPECT_EQ(items[0]["body"],
            "A nomination screened was recorded: http://127.0.0.1:8081/v1/nominations/n-1");
}

// Out of the box a held tranche reaches the staff inbox in words, with the amount, the missed
// report's due date and links to the tranche and the report; the Japanese text is polite.
TEST_F(EventHandlerTest, HeldTrancheBecomesAStaffInboxItemInWords) {
  events::CloudEvent event;
  event.id = "0191e0a0-0000-7000-8000-000000000021";
  event.source = "/jilaf/projects";
  event.type = "jilaf.projects.tranche.held";
  event.subject = "tranches/t-1";
  event.time = "2026-11-01T00:00:00.000Z";
  event.data = {{"tranche_id", "t-1"},
                {"project_id", "p-1"},
                {"project_title", {{"ja", "労働安全衛生"}, {"en", "OSH in garment factories"}}},
                {"status", "requested"},
                {"amount", 500000},
                {"currency", "JPY"},
                {"exchange_rate", "1"},
                {"amount_jpy", 500000},
                {"planned_date", "2026-12-01"},
                {"value_date", "2026-12-01"},
                {"country", "ID"},
                {"area", "occupational_safety_health"},
                {"support_type", "financing"},
                {"project_fiscal_year", 2026},
                {"version", 2},
                {"report_id", "r-1"},
                {"report_due_date", "2026-10-31"},
                {"as_of", "2026-11-01"}};
  Handle(event);
  const auto inbox = store_->Read([&](store::Db& db) {
    return Tables().inbox_items.Where(db, {{"event_id", event.id}});
  });
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["title"], "Tranche held: OSH in garment factories");
  EXPECT_EQ(inbox[0]["audience"], "staff");
  const std::string body = inbox[0]["body"];
  for (const char* part :
       {"JPY 500000", "planned for 2026-12-01", "due on 2026-10-31",
        "http://127.0.0.1:8082/v1/tranches/t-1", "http://127.0.0.1:8082/v1/reports/r-1"}) {
    EXPECT_NE(body.find(part), std::string::npos) << part << " in " << body;
  }
  const auto ja = store_->Read(
      [](store::Db& db) { return FindTemplate(db, "jilaf.projects.tranche.held", "inbox", "ja"); });
  ASSERT_TRUE(ja.has_value());
  const auto subject = Render((*ja)["subject"].get<std::string>(), TemplateContext(event));
  ASSERT_TRUE(subject.ok) << subject.error;
  EXPECT_EQ(subject.text, "資金支払保留: 労働安全衛生");
  const auto text = Render((*ja)["body"].get<std::string>(), TemplateContext(event));
  ASSERT_TRUE(text.ok) << text.error;
  EXPECT_NE(text.text.find("2026-10-31 の進捗報告書が未提出"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("お願いいたします"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("http://127.0.0.1:8082/v1/tranches/t-1"), std::string::npos);
}

// Every default inbox template renders the built-in sample of each type it serves, in both
// languages, with a link to the record; Japanese texts about a person say 様.
TEST_F(EventHandlerTest, EveryDefaultTemplateRendersItsSamplesWithALink) {
  std::ifstream in(std::string(JILAF_SOURCE_DIR) + "/services/notifications/samples.json");
  const json samples = json::parse(in);
  int rendered = 0;
  const auto types = DefaultTemplateTypes();
  for (const auto& type : types) {
    for (const char* locale : {"en", "ja"}) {
      const auto stored =
          store_->Read([&](store::Db& db) { return FindTemplate(db, type, "inbox", locale); });
      ASSERT_TRUE(stored.has_value()) << type << " " << locale;
      int matched = 0;
      for (const auto& [sample_type, data] : samples.items()) {
        if (!TypeMatches(type, sample_type)) continue;
        // The wildcard serves only the types without a text of their own.
        if (type != sample_type &&
            std::find(types.begin(), types.end(), sample_type) != types.end()) {
          continue;
        }
        events::CloudEvent event;
        event.id = "0191e0a0-0000-7000-8000-0000000000ff";
        event.type = sample_type;
        event.subject = "nominations/5f0c9a52";
        event.data = data;
        const json context = TemplateContext(event);
        for (const char* part : {"subject", "body"}) {
          const auto text = Render((*stored)[part].get<std::string>(), context);
          SCOPED_TRACE(sample_type + " " + locale + " " + part);
          EXPECT_TRUE(text.ok) << text.error << " missing " << json(text.missing).dump();
          EXPECT_EQ(text.text.find("{{"), std::string::npos);
          if (std::string(part) == "body") {
            EXPECT_NE(text.text.find("http://127.0.0.1:808"), std::string::npos) << text.text;
          }
          const bool about_a_person = data.contains("candidate");
          if (about_a_person && std::string(locale) == "ja" && std::string(part) == "subject") {
            EXPECT_NE(text.text.find("Nguyen Lan 様"), std::string::npos) << text.text;
          }
        }
        ++matched;
        ++rendered;
      }
      EXPECT_GT(matched, 0) << "no sample for " << type;
    }
  }
  EXPECT_GE(rendered, static_cast<int>(2 * types.size()));
}

// Seeding runs at every start: once per default; the first release's unchanged wildcard text is
// replaced, an admin's text and an admin's disabled default rule stay.
TEST_F(EventHandlerTest, SeedingKeepsAdminChangesAndReplacesTheRetiredText) {
  store_->Write([](store::Db& tx) {
    SaveTemplate(tx, {{"event_type", "jilaf.invitations.*"},
                      {"channel", "inbox"},
                      {"locale", "en"},
                      {"subject", "Invitations: {{event.type}}"},
                      {"body", "Event {{event.id}} on {{event.subject}}."},
                      {"version", 1}});
    SaveTemplate(tx, {{"event_type", "jilaf.projects.report.overdue"},
                      {"channel", "inbox"},
                      {"locale", "en"},
                      {"subject", "Ours"},
                      {"body", "Ours"},
                      {"version", 2}});
    auto rule = Tables().rules.Find(tx, "default-staff-inbox-certificate");
    ASSERT_TRUE(rule.has_value());
    (*rule)["enabled"] = false;
    Tables().rules.Update(tx, *rule);
  });
  const auto rules_before = Count("SELECT count(*) FROM rules");
  SeedDefaults(*store_);
  SeedDefaults(*store_);
  EXPECT_EQ(Count("SELECT count(*) FROM rules"), rules_before);
  store_->Read([](store::Db& db) {
    const auto wildcard = FindTemplate(db, "jilaf.invitations.*", "inbox", "en");
    EXPECT_EQ((*wildcard)["subject"], "Invitations: {{event.what}}");
    EXPECT_EQ((*wildcard)["version"], 2);
    EXPECT_EQ((*FindTemplate(db, "jilaf.projects.report.overdue", "inbox", "en"))["subject"],
              "Ours");
    EXPECT_EQ((*Tables().rules.Find(db, "default-staff-inbox-certificate"))["enabled"], false);
    return 0;
  });
}

TEST_F(EventHandlerTest, NonPublicEventMatchingNoRuleLeavesNothing) {
  auto event = ProgrammeCreated();
  event.type = "jilaf.projects.project.created";
  Handle(event);
  EXPECT_EQ(Count("SELECT count(*) FROM feed_items"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox_notifications"), 0);
}

// Migration 3 on a store written by the previous version: rules get their times as columns and
// webhook secrets leave the webhooks table, and the dispatcher still finds both.
TEST(NotificationsMigration, RuleTimesAndWebhookSecretsMoveOut) {
  const std::string dir = testing::MakeTempDir("jilaf-notifications-migration");
  const std::string path = dir + "/test.db";
  auto previous = Migrations();
  previous.migrations.resize(2);
  {
    store::Store old({path}, {events::OutboxMigrations(), previous});
    old.Write([](store::Db& tx) {
      tx.Exec(
          "INSERT INTO rules(id, enabled, version, doc) VALUES ('r1', 1, 2, "
          "'{\"id\":\"r1\",\"version\":2,\"created_at\":\"2026-01-01T00:00:00.000Z\","
          "\"updated_at\":\"2026-01-02T00:00:00.000Z\"}');"
          "INSERT INTO webhooks(id, url, secret, doc) VALUES ('w1', 'http://hook', 'whsec_old', "
          "'{\"id\":\"w1\",\"url\":\"http://hook\"}');"
          "INSERT INTO deliveries(id, event_id, rule_id, recipient, channel, status, attempts,"
          " next_attempt_ms, doc) VALUES ('d1', 'e1', 'r1', 'endpoint:w1', 'webhook', 'pending',"
          " 0, 0, '{\"id\":\"d1\",\"channel\":\"webhook\"}');");
    });
  }
  store::Store migrated({path}, {events::OutboxMigrations(), Migrations()});
  migrated.Read([](store::Db& db) {
    auto rule = db.Prepare("SELECT created_at, updated_at FROM rules WHERE id = 'r1'");
    ASSERT_TRUE(rule.Step());
    EXPECT_EQ(rule.Text(0), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(rule.Text(1), "2026-01-02T00:00:00.000Z");
    const auto due = DueDeliveries(db, 1, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].url, "http://hook");
    EXPECT_EQ(due[0].secret, "whsec_old");
    EXPECT_EQ(Tables().webhooks.Get(db, "w1")["url"], "http://hook");
  });
  // Migration 5 and the start after it: the secret stored in clear is sealed with the key ring.
  std::array<unsigned char, crypto::FieldCipher::kKeyBytes> key{};
  key.fill(0x51);
  const crypto::FieldCipher cipher(key);
  EXPECT_EQ(SealClearWebhookSecrets(migrated, cipher), 1);
  EXPECT_EQ(SealClearWebhookSecrets(migrated, cipher), 0);
  migrated.Read([&](store::Db& db) {
    const auto due = DueDeliveries(db, 1, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].webhook_id, "w1");
    EXPECT_EQ(due[0].secret.find("whsec_old"), std::string::npos);
    EXPECT_EQ(crypto::FieldCipher::KeyIdOf(due[0].secret), "1");
    EXPECT_EQ(OpenWebhookSecret(cipher, "w1", due[0].secret), "whsec_old");
    EXPECT_FALSE(OpenWebhookSecret(cipher, "w2", due[0].secret).has_value());
    EXPECT_EQ(LoadWebhookSecret(db, cipher, "w1"), "whsec_old");
  });
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jilaf::notifications
