// The first durable event flow, end to end: invitations → outbox → Kafka → notifications.
#include <librdkafka/rdkafkacpp.h>

#include "common/events/cloud_event.hpp"
#include "tests/e2e/contract_recorder.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using std::chrono::seconds;

TEST_F(E2eTest, NominationBecomesAStaffNotification) {
  auto& invitations = StartInvitations();
  auto& notifications = StartNotifications();

  const auto programme_id = CreateOpenProgramme(invitations, "Young Leaders Asia 2026");
  ASSERT_FALSE(programme_id.empty());
  const auto programme =
      Call(invitations, "GET", "/v1/programmes/" + programme_id, {}, staff_token_);
  ASSERT_EQ(programme.status, 200);
  EXPECT_EQ(programme.Header("etag"), "\"v1\"");
  EXPECT_EQ(nlohmann::json::parse(programme.body)["status"], "open");

  const auto created = Nominate(invitations, programme_id, "Nguyen");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto nomination = nlohmann::json::parse(created.body);
  const std::string nomination_id = nomination["id"];
  EXPECT_EQ(created.Header("location"), "/v1/nominations/" + nomination_id);
  EXPECT_EQ(nomination["status"], "submitted");

  const auto fetched =
      Call(invitations, "GET", "/v1/nominations/" + nomination_id, {}, staff_token_);
  ASSERT_EQ(fetched.status, 200);
  EXPECT_EQ(nlohmann::json::parse(fetched.body), nomination);
  // Viewers read names and country, not the rest of the personal data (issue 3).
  const auto viewed =
      Call(invitations, "GET", "/v1/nominations/" + nomination_id, {}, Token("viewer"));
  ASSERT_EQ(viewed.status, 200);
  EXPECT_EQ(
      nlohmann::json::parse(viewed.body)["candidate"],
      nlohmann::json({{"family_name", "Nguyen"}, {"given_name", "Lan"}, {"nationality", "VN"}}));

  ASSERT_TRUE(WaitForInbox(
      notifications, {"programmes/" + programme_id, "nominations/" + nomination_id}, seconds(60)));
  bool found = false;
  for (const auto& item : Inbox(notifications)) {
    if (item["event"]["subject"] == "nominations/" + nomination_id) {
      found = true;
      EXPECT_EQ(item["title"], "New nomination: Nguyen Lan (VN)");
      EXPECT_EQ(item["event"]["type"], "jilaf.invitations.nomination.submitted");
      EXPECT_EQ(item["audience"], "staff");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_GE(MetricReaching(invitations,
                           "jilaf_events_published_total{topic=\"jilaf.invitations.events\"}", 2.0),
            2.0);
}

TEST_F(E2eTest, ProgrammeListIsCursorPaginated) {
  auto& invitations = StartInvitations();
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.insert(CreateOpenProgramme(invitations, "P" + std::to_string(i)));
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    const auto result = Call(invitations, "GET",
                             "/v1/programmes?page_size=2&fiscal_year=2026" +
                                 (token.empty() ? "" : "&page_token=" + token),
                             {}, staff_token_);
    ASSERT_EQ(result.status, 200) << result.body;
    const auto page = nlohmann::json::parse(result.body);
    EXPECT_LE(page["items"].size(), 2u);
    for (const auto& item : page["items"]) EXPECT_TRUE(seen.insert(item["id"]).second);
    token = page.value("next_page_token", "");
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(Call(invitations, "GET", "/v1/programmes?page_token=garbage", {}, staff_token_).status,
            400);
}

TEST_F(E2eTest, WritesDuringABrokerOutageAreAcceptedAndDeliveredExactlyOnce) {
  auto& invitations = StartInvitations();
  auto& notifications = StartNotifications();
  const auto programme_id = CreateOpenProgramme(invitations, "Outage drill");
  ASSERT_TRUE(WaitForInbox(notifications, {"programmes/" + programme_id}, seconds(60)));

  KafkaCtl("stop");
  broker_stopped_by_test_ = true;
  std::set<std::string> subjects;
  for (int i = 0; i < 50; ++i) {
    const auto result = Nominate(invitations, programme_id, "Outage" + std::to_string(i));
    ASSERT_EQ(result.status, 201) << "nomination " << i << ": " << result.body;
    subjects.insert("nominations/" + nlohmann::json::parse(result.body)["id"].get<std::string>());
  }
  // Readiness depends on the store, not on Kafka.
  EXPECT_EQ(Admin(invitations, "/readyz").status, 200);
  EXPECT_GE(Metric(invitations, "jilaf_outbox_pending "), 0.0);

  KafkaCtl("start");
  broker_stopped_by_test_ = false;
  ASSERT_TRUE(WaitForInbox(notifications, subjects, seconds(120)));
  for (const auto& [subject, count] : InboxCounts(notifications, subjects)) {
    EXPECT_EQ(count, 1) << subject;
  }
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return Metric(invitations, "jilaf_outbox_pending ") == 0.0; }, seconds(60)));
}

TEST_F(E2eTest, ReplayFromEarliestOffsetCreatesNoDuplicates) {
  auto& invitations = StartInvitations();
  auto* notifications = &StartNotifications();
  const auto programme_id = CreateOpenProgramme(invitations, "Replay drill");
  std::set<std::string> subjects = {"programmes/" + programme_id};
  for (int i = 0; i < 5; ++i) {
    const auto result = Nominate(invitations, programme_id, "Replay" + std::to_string(i));
    ASSERT_EQ(result.status, 201);
    subjects.insert("nominations/" + nlohmann::json::parse(result.body)["id"].get<std::string>());
  }
  ASSERT_TRUE(WaitForInbox(*notifications, subjects, seconds(60)));
  const std::string db = notifications->db;
  Stop(*notifications);

  KafkaCtl("reset-offsets " + group_ + " jilaf.invitations.events");
  notifications = &StartNotifications(db);
  // Every event of the topic comes again; the inbox must recognise each one.
  const std::string duplicates = "jilaf_events_duplicates_total{consumer=\"" + group_ + "\"";
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Metric(*notifications, duplicates) >= static_cast<double>(subjects.size()); },
      seconds(60)))
      << "duplicates seen: " << Metric(*notifications, duplicates);
  for (const auto& [subject, count] : InboxCounts(*notifications, subjects)) {
    EXPECT_EQ(count, 1) << subject;
  }
}

class DeadLetterReader {
 public:
  explicit DeadLetterReader(const std::string& bootstrap) {
    std::string error;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", bootstrap, error);
    conf->set("group.id", "e2e-dlq-reader-" + events::NewUuid().substr(0, 8), error);
    conf->set("auto.offset.reset", "earliest", error);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumer_->subscribe({"jilaf.notifications.dlq"});
  }
  ~DeadLetterReader() { consumer_->close(); }

  /// Reads until a message with this key arrives; returns its headers (empty on timeout).
  /// Messages read on the way are kept, so the order of Find() calls need not match the order
  /// in which the consumer dead-lettered them.
  std::map<std::string, std::string> Find(const std::string& key, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen_.count(key) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(200));
      if (message->err() != RdKafka::ERR_NO_ERROR || message->key() == nullptr) continue;
      std::map<std::string, std::string> headers;
      if (message->headers() != nullptr) {
        for (const auto& header : message->headers()->get_all()) {
          headers[header.key()] =
              std::string(static_cast<const char*>(header.value()), header.value_size());
        }
      }
      headers["(value)"] =
          std::string(static_cast<const char*>(message->payload()), message->len());
      seen_.emplace(*message->key(), std::move(headers));
    }
    const auto found = seen_.find(key);
    return found == seen_.end() ? std::map<std::string, std::string>{} : found->second;
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<std::string, std::map<std::string, std::string>> seen_;
};

void Produce(const std::string& bootstrap, const std::string& key, const std::string& value,
             const std::vector<std::pair<std::string, std::string>>& headers) {
  ProduceToKafka(bootstrap, "jilaf.invitations.events", key, value, headers);
}

TEST_F(E2eTest, PoisonMessagesAreDeadLetteredAndLaterEventsStillProcessed) {
  auto& invitations = StartInvitations();
  auto& notifications = StartNotifications();
  const std::string unreadable_key = "poison-" + events::NewUuid();
  const std::string failing_key = "failing-" + events::NewUuid();
  // Not a CloudEvent at all.
  Produce(bootstrap_, unreadable_key, "{this is not json", {});
  // A well-formed envelope whose data lacks what its type promises: the handler keeps failing.
  Produce(bootstrap_, failing_key, R"({"unexpected": true})",
          {{"ce_specversion", "1.0"},
           {"ce_id", events::NewUuid()},
           {"ce_source", "/jilaf/invitations"},  // the owner's: it reaches the handler
           {"ce_type", "jilaf.invitations.nomination.submitted"},
           {"content-type", "application/json"}});

  const auto programme_id = CreateOpenProgramme(invitations, "After the poison");
  const auto nominated = Nominate(invitations, programme_id, "Survivor");
  ASSERT_EQ(nominated.status, 201);
  const std::string subject =
      "nominations/" + nlohmann::json::parse(nominated.body)["id"].get<std::string>();
  ASSERT_TRUE(WaitForInbox(notifications, {subject}, seconds(90)));

  DeadLetterReader reader(bootstrap_);
  auto unreadable = reader.Find(unreadable_key, seconds(60));
  ASSERT_FALSE(unreadable.empty()) << "unreadable message not found in jilaf.notifications.dlq";
  EXPECT_EQ(unreadable["dlq_origin_topic"], "jilaf.invitations.events");
  EXPECT_FALSE(unreadable["dlq_origin_partition"].empty());
  EXPECT_FALSE(unreadable["dlq_origin_offset"].empty());
  EXPECT_NE(unreadable["dlq_error"].find("missing ce_specversion"), std::string::npos)
      << unreadable["dlq_error"];
  EXPECT_EQ(unreadable["(value)"], "{this is not json");

  auto failing = reader.Find(failing_key, seconds(60));
  ASSERT_FALSE(failing.empty()) << "failing message not found in jilaf.notifications.dlq";
  EXPECT_NE(failing["dlq_error"].find("handler failed"), std::string::npos) << failing["dlq_error"];
  EXPECT_EQ(failing["ce_type"], "jilaf.invitations.nomination.submitted");
  EXPECT_GE(MetricReaching(notifications,
                           "jilaf_events_dead_lettered_total{consumer=\"" + group_ + "\"", 2.0),
            2.0);
}

// Produces a value larger than a default producer may send (message.max.bytes 1,000,000).
void ProduceLarge(const std::string& bootstrap, const std::string& key, std::size_t size) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("message.max.bytes", "2000000", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  const std::string value(size, 'x');
  RecordProduced("jilaf.invitations.events", key, value, {}, false);  // deliberately malformed
  ASSERT_EQ(producer->produce("jilaf.invitations.events", RdKafka::Topic::PARTITION_UA,
                              RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                              value.size(), key.data(), key.size(), 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->outq_len(), 0);
}

// Regression (found by scripts/faults): a message the topic accepts (under the broker's
// 1,048,588 bytes) but too large for the dead-letter producer (1,000,000) used to be retried for
// ever, stalling its partition. Its copy now goes without the value.
TEST_F(E2eTest, OversizedMessageIsDeadLetteredWithoutItsValue) {
  auto& notifications = StartNotifications();
  const std::string key = "oversized-" + events::NewUuid();
  ProduceLarge(bootstrap_, key, 1'040'000);
  DeadLetterReader reader(bootstrap_);
  auto copy = reader.Find(key, seconds(90));
  ASSERT_FALSE(copy.empty()) << "oversized message not found in jilaf.notifications.dlq";
  EXPECT_EQ(copy["dlq_value_omitted"], "1040000");
  EXPECT_EQ(copy["(value)"], "");
  EXPECT_EQ(copy["dlq_origin_topic"], "jilaf.invitations.events");
  EXPECT_GE(MetricReaching(notifications,
                           "jilaf_events_dead_lettered_total{consumer=\"" + group_ + "\"", 1.0),
            1.0);
}

TEST_F(E2eTest, HostileRequestsGetClearProblems) {
  auto& invitations = StartInvitations();
  const auto programme_id = CreateOpenProgramme(invitations, "Guarded");

  const auto huge =
      Call(invitations, "POST", "/v1/programmes", std::string(2 * 1024 * 1024, ' '), staff_token_);
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(huge.Header("content-type"), "application/problem+json");

  const auto malformed =
      Call(invitations, "POST", "/v1/programmes/" + programme_id + "/nominations",
           R"({"candidate": {"family_name": "A",)", staff_token_);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(
      nlohmann::json::parse(malformed.body)["detail"].get<std::string>().find("malformed JSON"),
      std::string::npos)
      << malformed.body;

  const auto invalid = Call(invitations, "POST", "/v1/programmes",
                            R"({"fiscal_year": "2026", "surprise": 1})", staff_token_);
  EXPECT_EQ(invalid.status, 422);
  const auto problems = nlohmann::json::parse(invalid.body)["errors"];
  std::set<std::string> fields;
  for (const auto& item : problems) fields.insert(item["field"]);
  EXPECT_TRUE(fields.count("/fiscal_year") == 1 && fields.count("/surprise") == 1) << invalid.body;

  const auto anonymous = Call(invitations, "GET", "/v1/programmes");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("content-type"), "application/problem+json");

  auto forged = staff_token_;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'x' ? 'y' : 'x';
  EXPECT_EQ(Call(invitations, "GET", "/v1/programmes", {}, forged).status, 401);

  const auto viewer_write =
      Call(invitations, "POST", "/v1/programmes/" + programme_id + "/nominations", "{}",
           Token("viewer"));
  EXPECT_EQ(viewer_write.status, 403);
  EXPECT_EQ(nlohmann::json::parse(viewer_write.body)["type"], "/problems/forbidden");

  const auto closed = Call(invitations, "POST", "/v1/programmes", "{}", staff_token_,
                           {{"Content-Type", "text/plain"}});
  EXPECT_EQ(closed.status, 415);
}

TEST_F(E2eTest, IdempotencyKeyReplaysTheFirstResponse) {
  auto& invitations = StartInvitations();
  const auto programme_id = CreateOpenProgramme(invitations, "Idempotent");
  const nlohmann::json body = {{"candidate",
                                {{"family_name", "Once"},
                                 {"given_name", "Only"},
                                 {"nationality", "ID"},
                                 {"email", "once@example.org"},
                                 {"union", "KSPI"},
                                 {"position", "Organiser"}}},
                               {"nominating_organisation", {{"name", "KSPI"}, {"country", "ID"}}}};
  const std::string target = "/v1/programmes/" + programme_id + "/nominations";
  const auto first =
      Call(invitations, "POST", target, body.dump(), staff_token_, {{"Idempotency-Key", "key-1"}});
  const auto again =
      Call(invitations, "POST", target, body.dump(), staff_token_, {{"Idempotency-Key", "key-1"}});
  ASSERT_EQ(first.status, 201);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  auto changed = body;
  changed["candidate"]["given_name"] = "Other";
  EXPECT_EQ(Call(invitations, "POST", target, changed.dump(), staff_token_,
                 {{"Idempotency-Key", "key-1"}})
                .status,
            422);
}

TEST_F(E2eTest, ServiceStopsCleanlyOnSigterm) {
  auto& invitations = StartInvitations();
  CreateOpenProgramme(invitations, "Before shutdown");
  Stop(invitations);
}

}  // namespace
}  // namespace jilaf::e2e
