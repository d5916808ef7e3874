#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/events/cloud_event.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

namespace RdKafka {
class KafkaConsumer;
}

namespace jilaf::e2e {

/// Produces one raw message onto a topic of the test broker and waits for the acknowledgement.
/// The contract check treats it as test input and does not validate it.
void ProduceToKafka(const std::string& bootstrap, const std::string& topic, const std::string& key,
                    const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers);
/// ProduceToKafka, saying whether the message stands for a real service's event: the contract
/// check validates the payload of a `realistic` one against its event schema.
void ProduceRecorded(const std::string& bootstrap, const std::string& topic, const std::string& key,
                     const std::string& value,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     bool realistic);

/// One event read back from a topic.
struct TopicEvent {
  std::string key;
  std::string type;
  std::string value;
  nlohmann::json data;
};

/// Reads one topic from the earliest offset with a consumer group of its own.
class EventReader {
 public:
  EventReader(const std::string& bootstrap, const std::string& topic);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  /// Reads until `done(events so far)` holds or the timeout passes; returns every event read.
  const std::vector<TopicEvent>& ReadUntil(
      const std::function<bool(const std::vector<TopicEvent>&)>& done,
      std::chrono::seconds timeout);
  /// The types of the events read for `key`, in topic order.
  [[nodiscard]] std::vector<std::string> TypesFor(const std::string& key) const;

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<TopicEvent> events_;
};

/// A `done` for EventReader::ReadUntil: an event of `type` for `key` has been read.
std::function<bool(const std::vector<TopicEvent>&)> HasType(const std::string& key,
                                                            const std::string& type);

/// One running service binary with its ports.
struct RunningService {
  std::string name;
  std::unique_ptr<testing::ChildProcess> process;
  int http_port = 0;
  int admin_port = 0;
  std::string db;
  std::string log;
};

/// End-to-end fixture: the real service binaries against the real Kafka broker that
/// scripts/test started (JILAF_TEST_KAFKA_BOOTSTRAP, JILAF_TEST_KAFKA_CTL). Each test gets its
/// own directory, key pair, databases and consumer group.
class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// The test's field key file (one key, 64 hex digits), written on first use.
  std::string FieldKeyFile();
  /// Starts invitations with a field key of the test's own (plus `extra` flags).
  RunningService& StartInvitations(std::vector<std::string> extra = {});
  RunningService& StartNotifications(const std::string& db_path = {});
  /// The projects service; `extra` flags are appended (e.g. a short overdue scan interval).
  RunningService& StartProjects(std::vector<std::string> extra = {});
  /// The missions service, its consumers in groups of this test's own (`missions_group_`), on
  /// `db_path` (default: missions.db in the test's directory).
  RunningService& StartMissions(const std::string& db_path = {});

  /// StartNotifications with extra flags (SMTP server, retry delays, ...).
  RunningService& StartNotificationsWith(std::vector<std::string> extra,
                                         const std::string& db_path = {});

  /// Starts a real SMTP server (tests/support/smtp_sink.py on Debian's python3-aiosmtpd) for
  /// this test; returns its port. Every message it receives is kept as JSON (see Mails()).
  /// `options`: the sink's --tls CERT KEY (STARTTLS required) and --auth USER PASSWORD.
  int StartSmtpSink(const std::vector<std::string>& options = {});
  /// The messages the SMTP sink received so far, in arrival order.
  std::vector<nlohmann::json> Mails();

  /// Produces a CloudEvent (binary content mode) onto `topic`, as another service would. Its
  /// payload must match the type's schema: the contract check validates it.
  void ProduceEvent(const std::string& topic, const events::CloudEvent& event);
  /// SIGTERM and wait; expects a clean exit (status 0).
  void Stop(RunningService& service);

  /// One API call, as a well-behaved client makes it: a 429 or 503 is retried after its
  /// `Retry-After` (bounded), so that no test depends on how fast the machine runs it.
  testing::HttpResult Call(const RunningService& service, const std::string& method,
                           const std::string& target, const std::string& body = {},
                           const std::string& token = {},
                           std::vector<std::pair<std::string, std::string>> headers = {});
  /// Call without the retry: for tests that assert the 429 or 503 itself.
  testing::HttpResult CallOnce(const RunningService& service, const std::string& method,
                               const std::string& target, const std::string& body = {},
                               const std::string& token = {},
                               std::vector<std::pair<std::string, std::string>> headers = {});
  testing::HttpResult Admin(const RunningService& service, const std::string& target);
  /// The value of one sample of the service's /metrics (sum over samples matching the prefix).
  double Metric(const RunningService& service, const std::string& sample_prefix);
  /// Metric, polled until it reaches `at_least` or `timeout` passes; the last value read. For
  /// counters that move after the effect a test waits for (a producer's delivery report, a
  /// dead letter's flush), so that reading them once would race with the service.
  double MetricReaching(const RunningService& service, const std::string& sample_prefix,
                        double at_least,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15));

  /// Creates an open programme and returns its id.
  std::string CreateOpenProgramme(const RunningService& invitations, const std::string& title);
  /// Posts a nomination; returns the response.
  testing::HttpResult Nominate(const RunningService& invitations, const std::string& programme_id,
                               const std::string& family_name);

  /// Every inbox item (all pages).
  std::vector<nlohmann::json> Inbox(const RunningService& notifications);
  /// How many inbox items exist per event subject, for the given subjects.
  std::map<std::string, int> InboxCounts(const RunningService& notifications,
                                         const std::set<std::string>& subjects);
  /// Waits until each subject has at least one inbox item; false on timeout.
  bool WaitForInbox(const RunningService& notifications, const std::set<std::string>& subjects,
                    std::chrono::seconds timeout);

  /// Produces one raw message (value and headers as given) and waits for the broker's ack.
  void ProduceRaw(const std::string& topic, const std::string& key, const std::string& value,
                  const std::vector<std::pair<std::string, std::string>>& headers);
  /// Produces a CloudEvent in binary content mode, exactly as the services' relay does (the
  /// contract check validates its payload against the type's schema).
  void ProduceEvent(const std::string& topic, const std::string& type, const std::string& key,
                    const nlohmann::json& data);
  /// ProduceEvent for a deliberately invalid payload (poison-message tests): not validated.
  void ProduceMalformedEvent(const std::string& topic, const std::string& type,
                             const std::string& key, const nlohmann::json& data);
  /// Reads `topic` from the beginning until a message with `key` arrives; returns its headers
  /// plus "(value)" (empty on timeout). For dead-letter topics.
  std::map<std::string, std::string> FindMessage(const std::string& topic, const std::string& key,
                                                 std::chrono::seconds timeout);

  /// Creates a one-partition topic of this test's own. Name it `test.<something>`: the contract
  /// check leaves such topics out (they carry no service's events).
  void CreateTopic(const std::string& topic);
  /// Replaces the topic's configuration with `configs` (AlterConfigs: what is not given reverts
  /// to the broker's default).
  void SetTopicConfig(const std::string& topic,
                      const std::vector<std::pair<std::string, std::string>>& configs);
  /// Moves the partition's log start to `offset`, as retention does by deleting old segments.
  void DeleteRecordsBefore(const std::string& topic, std::int64_t offset);
  /// Produces `count` events of a type no service or report knows onto partition 0 of `topic`.
  void ProduceTestEvents(const std::string& topic, int count);

  /// Runs `kafka-ctl COMMAND`; fails the test if it exits non-zero.
  void KafkaCtl(const std::string& command);

  /// A token of `role` for the subject `e2e-<role>`.
  std::string Token(const std::string& role);
  /// A token of `role` for another person, `subject` (e.g. a second staff member where the
  /// projects service separates duties).
  std::string Token(const std::string& role, const std::string& subject);

  /// True when the suite runs on PostgreSQL (JILAF_TEST_STORE=postgres, a second registration
  /// of the same tests labelled `postgres`): each service path then names a database of its own
  /// on the server scripts/test started, created here and dropped at the end of the test.
  static bool OnPostgres();

  /// The first column of every row `sql` returns, read from `service`'s own store (its SQLite
  /// file, or its PostgreSQL database), NULL as "". For checks of what is at rest.
  std::vector<std::string> StoredColumn(const RunningService& service, const std::string& sql);

  std::string bootstrap_;
  std::string kafka_ctl_;
  std::string dir_;
  std::string group_;
  std::string missions_group_;
  testing::KeyPair keys_;
  std::string staff_token_;
  std::vector<std::unique_ptr<RunningService>> services_;
  std::unique_ptr<testing::ChildProcess> smtp_sink_;
  std::string smtp_dir_;
  bool broker_stopped_by_test_ = false;
  /// On PostgreSQL: the database of each service path (a restart on the same path finds it).
  std::map<std::string, std::unique_ptr<testing::TestDatabase>> databases_;

 private:
  RunningService& Start(const std::string& name, const std::string& binary,
                        std::vector<std::string> extra, const std::string& db_path);
  testing::HttpResult Send(const RunningService& service, const std::string& method,
                           const std::string& target, const std::string& body,
                           const std::string& token,
                           std::vector<std::pair<std::string, std::string>> headers, bool retry);
};

}  // namespace jilaf::e2e
