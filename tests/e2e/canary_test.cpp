// Personal-data canary: a unique passport number and date of birth are planted in a nomination,
// the nomination travels its whole journey (events to missions' alumni directory and to
// notifications), errors are provoked around the same values, and then every place the system
// writes to is searched for them in clear: every topic from the beginning (keys, values,
// headers), every service's log (stdout and stderr), every error body, every audit row and the
// raw bytes of every database file (main file, WAL and shared memory).
#include <librdkafka/rdkafkacpp.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// Every message of every `jilaf.*` topic from the beginning to the end as of now: key, value
/// and headers concatenated, one string per message.
std::vector<std::string> ReadAllTopics(const std::string& bootstrap, std::size_t& topics_read) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("group.id", "e2e-canary-" + events::NewUuid().substr(0, 8), error);
  conf->set("enable.auto.commit", "false", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  EXPECT_TRUE(consumer) << error;
  if (!consumer) return {};
  RdKafka::Metadata* raw = nullptr;
  EXPECT_EQ(consumer->metadata(true, nullptr, &raw, 30000), RdKafka::ERR_NO_ERROR);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  std::map<std::pair<std::string, int>, std::int64_t> ends;
  for (const auto* topic : *metadata->topics()) {
    if (topic->topic().rfind("jilaf.", 0) != 0) continue;
    ++topics_read;
    for (const auto* partition : *topic->partitions()) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      consumer->query_watermark_offsets(topic->topic(), partition->id(), &low, &high, 30000);
      if (high <= low) continue;
      ends[{topic->topic(), partition->id()}] = high;
      partitions.push_back(RdKafka::TopicPartition::create(topic->topic(), partition->id(), low));
    }
  }
  consumer->assign(partitions);
  std::vector<std::string> messages;
  // Generous: the shared broker holds every earlier test's (and run's) messages.
  const auto deadline = std::chrono::steady_clock::now() + seconds(180);
  while (!ends.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(500));
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    std::string text;
    if (message->key() != nullptr) text += *message->key();
    text += '\n';
    text.append(static_cast<const char*>(message->payload()), message->len());
    if (message->headers() != nullptr) {
      for (const auto& header : message->headers()->get_all()) {
        text += '\n' + header.key() + '=';
        if (header.value() != nullptr) {
          text.append(static_cast<const char*>(header.value()), header.value_size());
        }
      }
    }
    messages.push_back(std::move(text));
    const auto key = std::make_pair(message->topic_name(), message->partition());
    if (auto it = ends.find(key); it != ends.end() && message->offset() + 1 >= it->second) {
      ends.erase(it);
    }
  }
  EXPECT_TRUE(ends.empty()) << ends.size() << " partitions not read to their end";
  consumer->unassign();
  RdKafka::TopicPartition::destroy(partitions);
  consumer->close();
  return messages;
}

class CanaryE2e : public E2eTest {
 protected:
  /// Every audit row of a service (all pages), as one JSON text; checks the chain on the way.
  std::string AuditDump(const RunningService& service, json* rows_out = nullptr) {
    json rows = json::array();
    std::string token;
    do {
      const auto page = Call(
          service, "GET", "/v1/audit?page_size=500" + (token.empty() ? "" : "&page_token=" + token),
          {}, Token("admin"));
      EXPECT_EQ(page.status, 200) << service.name << ": " << page.body;
      if (page.status != 200) break;
      const auto body = json::parse(page.body);
      for (const auto& item : body["items"]) rows.push_back(item);
      token = body.value("next_page_token", "");
    } while (!token.empty());
    const auto verify = Call(service, "GET", "/v1/audit/verify", {}, Token("admin"));
    EXPECT_EQ(verify.status, 200);
    EXPECT_TRUE(json::parse(verify.body)["intact"]) << service.name << ": " << verify.body;
    if (rows_out != nullptr) *rows_out = rows;
    return rows.dump();
  }

  std::string DatabaseBytes(const RunningService& service) {
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      if (std::filesystem::exists(service.db + suffix)) bytes += ReadBytes(service.db + suffix);
    }
    return bytes;
  }
};

TEST_F(CanaryE2e, PassportAndBirthDateAppearInClearNowhere) {
  std::random_device random;
  // Unique per run: a passport no other test uses and a birth date in a range no fixture uses.
  const std::string passport = "CQ" + std::to_string(10000000 + random() % 89999999);
  char birth[16];
  std::snprintf(birth, sizeof birth, "19%02u-%02u-%02u", 40 + random() % 40, 1 + random() % 12,
                1 + random() % 28);
  const std::string date_of_birth = birth;
  const std::vector<std::string> canaries = {passport, date_of_birth};
  auto contains_canary = [&](const std::string& text) {
    for (const auto& canary : canaries) {
      if (text.find(canary) != std::string::npos) return canary;
    }
    return std::string();
  };

  auto& invitations = StartInvitations({"--followup-scan-ms", "86400000"});
  auto& missions = StartMissions();
  auto& notifications = StartNotifications();
  auto& projects = StartProjects();

  const json programme_body = {{"fiscal_year", 2026},
                               {"title", {{"ja", "青年指導者招へい"}, {"en", "Canary"}}},
                               {"track", "developing"},
                               {"region", "Asia"},
                               {"start_date", "2026-06-01"},
                               {"end_date", "2026-06-20"},
                               {"seats", 5},
                               {"country_quotas", json::object()},
                               {"status", "open"}};
  const auto programme_created =
      Call(invitations, "POST", "/v1/programmes", programme_body.dump(), staff_token_);
  ASSERT_EQ(programme_created.status, 201) << programme_created.body;
  const std::string programme = json::parse(programme_created.body)["id"];
  const std::string nominations = "/v1/programmes/" + programme + "/nominations";
  const json candidate = {{"family_name", "Canary"},     {"given_name", "Mai"},
                          {"gender", "female"},          {"nationality", "KH"},
                          {"email", "mai@example.org"},  {"union", "CLC"},
                          {"position", "Youth officer"}, {"date_of_birth", date_of_birth},
                          {"passport_number", passport}};
  const json nomination = {{"candidate", candidate},
                           {"nominating_organisation", {{"name", "CLC"}, {"country", "KH"}}}};
  // The key is the client's own text and stored as such: it must not be the canary itself.
  const std::string idempotency_key = "canary-" + events::NewUuid();
  const auto created = Call(invitations, "POST", nominations, nomination.dump(), staff_token_,
                            {{"Idempotency-Key", idempotency_key}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(contains_canary(created.body), "") << "the 201 body masks and omits them";
  const std::string id = json::parse(created.body)["id"];

  // Error bodies around the planted values: every kind of rejection a nomination can meet.
  std::vector<testing::HttpResult> errors;
  auto provoke = [&](const std::string& body, int expected,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto result = Call(invitations, "POST", nominations, body, staff_token_, std::move(headers));
    EXPECT_EQ(result.status, expected) << body << " → " << result.body;
    errors.push_back(std::move(result));
  };
  auto with = [&](const char* field, json value) {
    json body = nomination;
    body["candidate"][field] = std::move(value);
    return body.dump();
  };
  provoke(R"({"candidate": {"date_of_birth": ")" + date_of_birth + R"(", "passport_number": ")" +
              passport + "\\q",
          400);                                            // malformed JSON right after them
  provoke(with("passport_number", passport + "-x"), 422);  // invalid passport
  provoke(with("passport_number", json::array({passport})), 422);
  provoke(with("date_of_birth", date_of_birth + "T00:00"), 422);  // invalid date
  provoke(with("date_of_birth", json::array({date_of_birth})), 422);
  {
    json unknown = nomination;
    unknown["candidate"]["passport"] = passport;  // a misspelt field holding the number
    provoke(unknown.dump(), 422);
  }
  provoke(nomination.dump(), 409);  // the same person in the same fiscal year
  provoke(with("given_name", "Other"), 422, {{"Idempotency-Key", idempotency_key}});
  provoke(nomination.dump(), 415, {{"Content-Type", "text/plain"}});
  for (const auto& error : errors) {
    EXPECT_EQ(contains_canary(error.body), "") << error.status << ": " << error.body;
  }

  // The whole journey, so the nomination's events reach missions (alumni) and notifications.
  for (const char* to : {"screened", "selected", "invited", "visa_applied", "visa_granted",
                         "travel_booked", "arrived", "completed"}) {
    const auto current = Call(invitations, "GET", "/v1/nominations/" + id, {}, staff_token_);
    const auto moved = Call(invitations, "POST", "/v1/nominations/" + id + "/transitions",
                            json({{"to", to}}).dump(), staff_token_,
                            {{"If-Match", std::string(current.Header("etag"))}});
    ASSERT_EQ(moved.status, 200) << to << ": " << moved.body;
  }
  ASSERT_TRUE(WaitForInbox(notifications, {"nominations/" + id}, seconds(90)));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto page =
            Call(missions, "GET", "/v1/alumni?country=KH&page_size=200", {}, Token("viewer"));
        return page.status == 200 && page.body.find(id) != std::string::npos;
      },
      seconds(90)))
      << "the completed nomination never reached the alumni directory";
  const auto admin_view = Call(invitations, "GET", "/v1/nominations/" + id, {}, Token("admin"));
  ASSERT_NE(admin_view.body.find(passport), std::string::npos)
      << "the passport is stored (encrypted) and readable by admins: the canary is live";

  // Topics: every message of every topic, from the beginning.
  std::size_t topics = 0;
  const auto messages = ReadAllTopics(bootstrap_, topics);
  EXPECT_GE(topics, 4u);
  std::size_t about_nomination = 0;
  for (const auto& message : messages) {
    EXPECT_EQ(contains_canary(message), "") << message.substr(0, 300);
    if (message.find(id) != std::string::npos) ++about_nomination;
  }
  EXPECT_GE(about_nomination, 9u) << "the reader must see the nomination's own events";

  // Audit rows: the nomination's writes are recorded, its personal data is not.
  json rows;
  const std::string invitations_audit = AuditDump(invitations, &rows);
  EXPECT_EQ(contains_canary(invitations_audit), "");
  int created_rows = 0;
  int rejected_rows = 0;
  for (const auto& row : rows) {
    if (row["route"] != "/v1/programmes/{id}/nominations") continue;
    if (row["status"] == 201 && row["entity_id"] == id) ++created_rows;
    if (row["outcome"] == "rejected") ++rejected_rows;
    EXPECT_EQ(row["actor"]["subject"], "e2e-staff") << row.dump();
  }
  EXPECT_EQ(created_rows, 1);
  EXPECT_EQ(rejected_rows, static_cast<int>(errors.size()));
  for (const auto* service : {&missions, &notifications, &projects}) {
    EXPECT_EQ(contains_canary(AuditDump(*service)), "") << service->name;
  }

  // Database files while running (the WAL still holds the newest pages), then after a clean stop.
  for (const auto* service : {&invitations, &missions, &notifications, &projects}) {
    EXPECT_EQ(contains_canary(DatabaseBytes(*service)), "") << service->name << " database";
  }
  for (auto* service : {&invitations, &missions, &notifications, &projects}) {
    Stop(*service);
    EXPECT_EQ(contains_canary(DatabaseBytes(*service)), "") << service->name << " database";
    const std::string log = ReadBytes(service->log);
    EXPECT_FALSE(log.empty()) << service->name;
    EXPECT_EQ(contains_canary(log), "") << service->name << " log";
  }
}

}  // namespace
}  // namespace jilaf::e2e
