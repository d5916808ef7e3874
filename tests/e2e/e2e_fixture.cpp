#include "tests/e2e/e2e_fixture.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "common/auth/jwt.hpp"
#include "common/events/cloud_event.hpp"
#include "common/store/postgres.hpp"
#include "tests/e2e/contract_recorder.hpp"

namespace jilaf::e2e {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

void E2eTest::SetUp() {
  bootstrap_ = Env("JILAF_TEST_KAFKA_BOOTSTRAP");
  kafka_ctl_ = Env("JILAF_TEST_KAFKA_CTL");
  ASSERT_FALSE(bootstrap_.empty())
      << "JILAF_TEST_KAFKA_BOOTSTRAP is not set: run the e2e suite through scripts/test, which "
         "starts a real Kafka broker for it";
  ASSERT_FALSE(kafka_ctl_.empty()) << "JILAF_TEST_KAFKA_CTL is not set (see scripts/test)";
  dir_ = testing::MakeTempDir("jilaf-e2e");
  keys_ = testing::GenerateRsaKeyPair();
  testing::WriteFile(dir_ + "/jwt-public.pem", keys_.public_pem);
  group_ = "notifications-e2e-" + events::NewUuid().substr(0, 8);
  missions_group_ = "missions-e2e-" + events::NewUuid().substr(0, 8);
  staff_token_ = Token("staff");
}

void E2eTest::TearDown() {
  const bool failed = HasFailure();
  if (smtp_sink_) smtp_sink_->Terminate(std::chrono::seconds(10));
  smtp_sink_.reset();
  for (auto& service : services_) {
    if (service->process) service->process->Terminate(std::chrono::seconds(20));
    if (failed) {
      std::cerr << "---- last lines of " << service->name << " (" << service->log << ")\n"
                << testing::TailFile(service->log, 30);
    }
  }
  services_.clear();
  databases_.clear();  // after the services: dropping a database ends its connections
  if (broker_stopped_by_test_) {
    std::string output;
    testing::RunCommand(kafka_ctl_ + " start", &output);
  }
  if (!failed && !dir_.empty()) std::filesystem::remove_all(dir_);
}

EventReader::EventReader(const std::string& bootstrap, const std::string& topic) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("group.id", "e2e-reader-" + events::NewUuid().substr(0, 8), error);
  conf->set("auto.offset.reset", "earliest", error);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  consumer_->subscribe({topic});
}

EventReader::~EventReader() { consumer_->close(); }

const std::vector<TopicEvent>& EventReader::ReadUntil(
    const std::function<bool(const std::vector<TopicEvent>&)>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(events_) && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(200));
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    TopicEvent event;
    if (message->key() != nullptr) event.key = *message->key();
    event.value.assign(static_cast<const char*>(message->payload()), message->len());
    if (message->headers() != nullptr) {
      for (const auto& header : message->headers()->get_all()) {
        if (header.key() == "ce_type") {
          event.type.assign(static_cast<const char*>(header.value()), header.value_size());
        }
      }
    }
    event.data = nlohmann::json::parse(event.value, nullptr, false);
    events_.push_back(std::move(event));
  }
  return events_;
}

std::vector<std::string> EventReader::TypesFor(const std::string& key) const {
  std::vector<std::string> types;
  for (const auto& event : events_) {
    if (event.key == key) types.push_back(event.type);
  }
  return types;
}

std::function<bool(const std::vector<TopicEvent>&)> HasType(const std::string& key,
                                                            const std::string& type) {
  return [key, type](const std::vector<TopicEvent>& events) {
    for (const auto& event : events) {
      if (event.key == key && event.type == type) return true;
    }
    return false;
  };
}

std::string E2eTest::Token(const std::string& role) { return Token(role, "e2e-" + role); }

std::string E2eTest::Token(const std::string& role, const std::string& subject) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return auth::SignJwt(keys_.private_pem, {{"iss", "jilaf-dev"},
                                           {"aud", "jilaf-backoffice"},
                                           {"sub", subject},
                                           {"exp", now + 3600},
                                           {"roles", {role}}});
}

bool E2eTest::OnPostgres() { return Env("JILAF_TEST_STORE") == "postgres"; }

std::vector<std::string> E2eTest::StoredColumn(const RunningService& service,
                                               const std::string& sql) {
  std::unique_ptr<store::Db> db;
  if (OnPostgres()) {
    const auto database = databases_.find(service.db);
    if (database == databases_.end()) throw std::logic_error("no database for " + service.db);
    store::pg::ConnectionOptions options;
    options.url = database->second->url();
    options.password_file = testing::TestDatabase::PasswordFile();
    db = std::make_unique<store::Db>(options);
  } else {
    db = std::make_unique<store::Db>(service.db, store::Db::Options{true, 5000});
  }
  auto stmt = db->Prepare(sql);
  std::vector<std::string> values;
  while (stmt.Step()) values.push_back(stmt.OptText(0).value_or(""));
  return values;
}

RunningService& E2eTest::Start(const std::string& name, const std::string& binary,
                               std::vector<std::string> extra, const std::string& db_path) {
  auto service = std::make_unique<RunningService>();
  service->name = name;
  service->http_port = testing::FreePort();
  service->admin_port = testing::FreePort();
  service->db = db_path.empty() ? dir_ + "/" + name + ".db" : db_path;
  service->log = dir_ + "/" + name + ".log";
  std::vector<std::string> args = {"--listen-address",
                                   "127.0.0.1",
                                   "--http-port",
                                   std::to_string(service->http_port),
                                   "--admin-port",
                                   std::to_string(service->admin_port),
                                   "--db",
                                   service->db,
                                   "--kafka-brokers",
                                   bootstrap_,
                                   "--jwt-public-key",
                                   dir_ + "/jwt-public.pem",
                                   "--drain-timeout-ms",
                                   "3000"};
  if (OnPostgres()) {
    auto& database = databases_[service->db];
    if (!database) database = std::make_unique<testing::TestDatabase>();
    const auto db_flag = std::find(args.begin(), args.end(), "--db");
    args.erase(db_flag, db_flag + 2);
    args.insert(args.end(), {"--store", "postgres", "--database-url", database->url(),
                             "--database-password-file", testing::TestDatabase::PasswordFile()});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  service->process = std::make_unique<testing::ChildProcess>(binary, args, service->log);
  auto* raw = service.get();
  const bool ready = testing::WaitUntil(
      [&] {
        if (!raw->process->Running()) return true;
        try {
          return Admin(*raw, "/readyz").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(ready && raw->process->Running()) << name << " did not become ready:\n"
                                                << testing::TailFile(raw->log);
  services_.push_back(std::move(service));
  return *raw;
}

std::string E2eTest::FieldKeyFile() {
  // Personal data and secrets are encrypted at rest: the services refuse to start without a key.
  const std::string key_file = dir_ + "/field-key.hex";
  if (!std::filesystem::exists(key_file)) {
    testing::WriteFile(key_file, events::NewUuid().substr(0, 8) + std::string(56, 'a') + "\n");
  }
  return key_file;
}

RunningService& E2eTest::StartInvitations(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--field-key-file", FieldKeyFile()};
  args.insert(args.end(), extra.begin(), extra.end());
  return Start("invitations", JILAF_INVITATIONS_BIN, std::move(args), {});
}

RunningService& E2eTest::StartNotifications(const std::string& db_path) {
  return Start("notifications", JILAF_NOTIFICATIONS_BIN,
               {"--consumer-group", group_, "--field-key-file", FieldKeyFile()}, db_path);
}

RunningService& E2eTest::StartProjects(std::vector<std::string> extra) {
  return Start("projects", JILAF_PROJECTS_BIN, std::move(extra), {});
}

RunningService& E2eTest::StartMissions(const std::string& db_path) {
  return Start("missions", JILAF_MISSIONS_BIN, {"--consumer-group", missions_group_}, db_path);
}

RunningService& E2eTest::StartNotificationsWith(std::vector<std::string> extra,
                                                const std::string& db_path) {
  // A --field-key-file in `extra` comes later and wins.
  extra.insert(extra.begin(), {"--consumer-group", group_, "--field-key-file", FieldKeyFile()});
  return Start("notifications", JILAF_NOTIFICATIONS_BIN, std::move(extra), db_path);
}

int E2eTest::StartSmtpSink(const std::vector<std::string>& options) {
  smtp_dir_ = dir_ + "/smtp";
  const int port = testing::FreePort();
  std::vector<std::string> args{JILAF_SMTP_SINK, std::to_string(port), smtp_dir_};
  args.insert(args.end(), options.begin(), options.end());
  smtp_sink_ = std::make_unique<testing::ChildProcess>("/usr/bin/python3", std::move(args),
                                                       dir_ + "/smtp.log");
  const bool ready = testing::WaitUntil(
      [&] { return std::filesystem::exists(smtp_dir_ + "/ready") || !smtp_sink_->Running(); },
      std::chrono::seconds(20));
  EXPECT_TRUE(ready && smtp_sink_->Running()) << "SMTP sink did not start:\n"
                                              << testing::TailFile(dir_ + "/smtp.log");
  return port;
}

std::vector<nlohmann::json> E2eTest::Mails() {
  std::vector<std::string> names;
  if (smtp_dir_.empty() || !std::filesystem::exists(smtp_dir_)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(smtp_dir_)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("mail-", 0) == 0 && entry.path().extension() == ".json") {
      names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<nlohmann::json> mails;
  for (const auto& path : names) {
    std::ifstream in(path);
    mails.push_back(nlohmann::json::parse(in));
  }
  return mails;
}

void E2eTest::ProduceEvent(const std::string& topic, const events::CloudEvent& event) {
  events::Headers headers;
  std::string value;
  events::ToKafka(event, headers, value);
  ProduceRecorded(bootstrap_, topic, event.key, value, headers, /*realistic=*/true);
}

void ProduceToKafka(const std::string& bootstrap, const std::string& topic, const std::string& key,
                    const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  ProduceRecorded(bootstrap, topic, key, value, headers, /*realistic=*/false);
}

void ProduceRecorded(const std::string& bootstrap, const std::string& topic, const std::string& key,
                     const std::string& value,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     bool realistic) {
  RecordProduced(topic, key, value, headers, realistic);  // for the contract check
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
  for (const auto& [name, header_value] : headers) kafka_headers->add(name, header_value);
  const auto code =
      producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                        const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                        kafka_headers, nullptr);
  if (code != RdKafka::ERR_NO_ERROR) delete kafka_headers;  // ownership passes only on success
  ASSERT_EQ(code, RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
}

void E2eTest::Stop(RunningService& service) {
  EXPECT_EQ(service.process->Terminate(std::chrono::seconds(30)), 0)
      << service.name << " did not exit cleanly:\n"
      << testing::TailFile(service.log);
}

testing::HttpResult E2eTest::Call(const RunningService& service, const std::string& method,
                                  const std::string& target, const std::string& body,
                                  const std::string& token,
                                  std::vector<std::pair<std::string, std::string>> headers) {
  return Send(service, method, target, body, token, std::move(headers), /*retry=*/true);
}

testing::HttpResult E2eTest::CallOnce(const RunningService& service, const std::string& method,
                                      const std::string& target, const std::string& body,
                                      const std::string& token,
                                      std::vector<std::pair<std::string, std::string>> headers) {
  return Send(service, method, target, body, token, std::move(headers), /*retry=*/false);
}

testing::HttpResult E2eTest::Send(const RunningService& service, const std::string& method,
                                  const std::string& target, const std::string& body,
                                  const std::string& token,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  bool retry) {
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(service.http_port));
  auto result = retry ? client.RequestHonouringRetryAfter(method, target, body, headers)
                      : client.Request(method, target, body, headers);
  RecordResponse(service.name, method, target, result);  // for the OpenAPI contract check
  return result;
}

testing::HttpResult E2eTest::Admin(const RunningService& service, const std::string& target) {
  testing::HttpClient client("127.0.0.1", static_cast<std::uint16_t>(service.admin_port));
  return client.Request("GET", target);
}

double E2eTest::Metric(const RunningService& service, const std::string& sample_prefix) {
  const auto text = Admin(service, "/metrics").body;
  double total = 0;
  std::size_t pos = 0;
  while ((pos = text.find(sample_prefix, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      const auto end = std::min(text.find('\n', pos), text.size());
      const std::string line = text.substr(pos, end - pos);
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    pos += sample_prefix.size();
  }
  return total;
}

double E2eTest::MetricReaching(const RunningService& service, const std::string& sample_prefix,
                               double at_least, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  double value = Metric(service, sample_prefix);
  while (value < at_least && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    value = Metric(service, sample_prefix);
  }
  return value;
}

std::string E2eTest::CreateOpenProgramme(const RunningService& invitations,
                                         const std::string& title) {
  const nlohmann::json body = {{"fiscal_year", 2026},
                               {"title", {{"ja", "青年労働組合指導者招へい"}, {"en", title}}},
                               {"track", "developing"},
                               {"region", "Asia"},
                               {"start_date", "2026-06-01"},
                               {"end_date", "2026-06-20"},
                               {"seats", 12},
                               {"country_quotas", {{"VN", 2}, {"ID", 2}}},
                               {"host_organisations", {"RENGO"}},
                               {"status", "open"}};
  const auto result = Call(invitations, "POST", "/v1/programmes", body.dump(), staff_token_);
  EXPECT_EQ(result.status, 201) << result.body;
  return nlohmann::json::parse(result.body).value("id", "");
}

testing::HttpResult E2eTest::Nominate(const RunningService& invitations,
                                      const std::string& programme_id,
                                      const std::string& family_name) {
  const nlohmann::json body = {{"candidate",
                                {{"family_name", family_name},
                                 {"given_name", "Lan"},
                                 {"gender", "female"},
                                 {"nationality", "VN"},
                                 {"email", "lan@example.org"},
                                 {"languages", {"vi", "en"}},
                                 {"union", "Vietnam General Confederation of Labour"},
                                 {"position", "Youth committee member"}}},
                               {"nominating_organisation", {{"name", "VGCL"}, {"country", "VN"}}}};
  return Call(invitations, "POST", "/v1/programmes/" + programme_id + "/nominations", body.dump(),
              staff_token_);
}

std::vector<nlohmann::json> E2eTest::Inbox(const RunningService& notifications) {
  std::vector<nlohmann::json> items;
  std::string token;
  for (;;) {
    const auto result =
        Call(notifications, "GET",
             "/v1/inbox?page_size=200" + (token.empty() ? "" : "&page_token=" + token), {},
             staff_token_);
    if (result.status != 200) {
      ADD_FAILURE() << "inbox answered " << result.status << ": " << result.body;
      return items;
    }
    const auto page = nlohmann::json::parse(result.body);
    for (const auto& item : page["items"]) items.push_back(item);
    if (!page.contains("next_page_token")) return items;
    token = page["next_page_token"];
  }
}

std::map<std::string, int> E2eTest::InboxCounts(const RunningService& notifications,
                                                const std::set<std::string>& subjects) {
  std::map<std::string, int> counts;
  for (const auto& subject : subjects) counts[subject] = 0;
  for (const auto& item : Inbox(notifications)) {
    const std::string subject = item["event"]["subject"];
    if (subjects.count(subject) != 0) ++counts[subject];
  }
  return counts;
}

bool E2eTest::WaitForInbox(const RunningService& notifications,
                           const std::set<std::string>& subjects, std::chrono::seconds timeout) {
  return testing::WaitUntil(
      [&] {
        for (const auto& [subject, count] : InboxCounts(notifications, subjects)) {
          if (count == 0) return false;
        }
        return true;
      },
      timeout);
}

void E2eTest::ProduceRaw(const std::string& topic, const std::string& key, const std::string& value,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  ProduceToKafka(bootstrap_, topic, key, value, headers);
}

namespace {

// The source a real producer of `topic` uses (/jilaf/<service> on jilaf.<service>.events):
// consumers dead-letter an event whose source does not own its topic (events::SourceRefusal).
std::string SourceFor(const std::string& topic) {
  const std::string prefix = "jilaf.";
  const std::string suffix = ".events";
  if (topic.size() > prefix.size() + suffix.size() && topic.rfind(prefix, 0) == 0 &&
      topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return "/jilaf/" + topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  }
  return "/e2e";
}

}  // namespace

void E2eTest::ProduceEvent(const std::string& topic, const std::string& type,
                           const std::string& key, const nlohmann::json& data) {
  const auto event = events::MakeEvent(SourceFor(topic), type, key, "e2e/" + key, {}, data);
  events::Headers headers;
  std::string value;
  events::ToKafka(event, headers, value);
  ProduceRecorded(bootstrap_, topic, key, value, headers, /*realistic=*/true);
}

void E2eTest::ProduceMalformedEvent(const std::string& topic, const std::string& type,
                                    const std::string& key, const nlohmann::json& data) {
  const auto event = events::MakeEvent(SourceFor(topic), type, key, "e2e/" + key, {}, data);
  events::Headers headers;
  std::string value;
  events::ToKafka(event, headers, value);
  ProduceRecorded(bootstrap_, topic, key, value, headers, /*realistic=*/false);
}

std::map<std::string, std::string> E2eTest::FindMessage(const std::string& topic,
                                                        const std::string& key,
                                                        std::chrono::seconds timeout) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap_, error);
  conf->set("group.id", "e2e-reader-" + events::NewUuid().substr(0, 8), error);
  conf->set("auto.offset.reset", "earliest", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) {
    ADD_FAILURE() << error;
    return {};
  }
  consumer->subscribe({topic});
  std::map<std::string, std::string> found;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (found.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
    if (message->err() != RdKafka::ERR_NO_ERROR || message->key() == nullptr ||
        *message->key() != key) {
      continue;
    }
    if (message->headers() != nullptr) {
      for (const auto& header : message->headers()->get_all()) {
        found[header.key()] =
            std::string(static_cast<const char*>(header.value()), header.value_size());
      }
    }
    found["(value)"] = std::string(static_cast<const char*>(message->payload()), message->len());
  }
  consumer->close();
  return found;
}

namespace {

// Runs one admin request on a fresh client and waits for its result (or fails the test).
void RunAdmin(const std::string& bootstrap, rd_kafka_event_type_t expected,
              const std::function<void(rd_kafka_t*, rd_kafka_queue_t*)>& request) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  ASSERT_NE(client, nullptr) << error;
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
  request(client, queue);
  rd_kafka_event_t* result = rd_kafka_queue_poll(queue, 60000);
  EXPECT_NE(result, nullptr) << "no admin result within 60 s";
  if (result != nullptr) {
    EXPECT_EQ(rd_kafka_event_type(result), expected);
    EXPECT_EQ(rd_kafka_event_error(result), RD_KAFKA_RESP_ERR_NO_ERROR)
        << rd_kafka_event_error_string(result);
    rd_kafka_event_destroy(result);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(client);
}

}  // namespace

void E2eTest::CreateTopic(const std::string& topic) {
  RunAdmin(bootstrap_, RD_KAFKA_EVENT_CREATETOPICS_RESULT, [&](rd_kafka_t* client, auto* queue) {
    char error[512];
    rd_kafka_NewTopic_t* spec = rd_kafka_NewTopic_new(topic.c_str(), 1, 1, error, sizeof error);
    rd_kafka_CreateTopics(client, &spec, 1, nullptr, queue);
    rd_kafka_NewTopic_destroy(spec);
  });
}

void E2eTest::SetTopicConfig(const std::string& topic,
                             const std::vector<std::pair<std::string, std::string>>& configs) {
  RunAdmin(bootstrap_, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, [&](rd_kafka_t* client, auto* queue) {
    rd_kafka_ConfigResource_t* resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    for (const auto& [name, value] : configs) {
      rd_kafka_ConfigResource_set_config(resource, name.c_str(), value.c_str());
    }
    rd_kafka_AlterConfigs(client, &resource, 1, nullptr, queue);
    rd_kafka_ConfigResource_destroy(resource);
  });
}

void E2eTest::DeleteRecordsBefore(const std::string& topic, std::int64_t offset) {
  RunAdmin(bootstrap_, RD_KAFKA_EVENT_DELETERECORDS_RESULT, [&](rd_kafka_t* client, auto* queue) {
    rd_kafka_topic_partition_list_t* before = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(before, topic.c_str(), 0)->offset = offset;
    rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before);
    rd_kafka_DeleteRecords(client, &request, 1, nullptr, queue);
    rd_kafka_DeleteRecords_destroy(request);
    rd_kafka_topic_partition_list_destroy(before);
  });
}

void E2eTest::ProduceTestEvents(const std::string& topic, int count) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap_, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  for (int i = 0; i < count; ++i) {
    const std::string id = events::NewTimeOrderedUuid();
    auto event = events::MakeEvent("/jilaf/test", "jilaf.test.thing.created", id, "things/" + id,
                                   "/schemas/test.json", {{"n", i}});
    events::Headers headers;
    std::string value;
    events::ToKafka(event, headers, value);
    RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
    for (const auto& [name, header] : headers) kafka_headers->add(name, header);
    const auto code =
        producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                          id.data(), id.size(), 0, kafka_headers, nullptr);
    if (code != RdKafka::ERR_NO_ERROR) delete kafka_headers;
    ASSERT_EQ(code, RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
}

void E2eTest::KafkaCtl(const std::string& command) {
  std::string output;
  const int status = testing::RunCommand(kafka_ctl_ + " " + command, &output);
  ASSERT_EQ(status, 0) << "kafka-ctl " << command << " failed:\n" << output;
}

}  // namespace jilaf::e2e
