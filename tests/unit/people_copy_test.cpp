// Personal data off the permanent topics (issue 19): the publisher's split between the events
// topic and the compacted people topic, tombstones end to end through the outbox format, and a
// consumer's copy of the people topic (docs/reliability.md, "Personal data").
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <memory>

#include "common/aggregate/publisher.hpp"
#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/events/people.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"
#include "tests/support/process.hpp"

namespace jilaf::events {
namespace {

using nlohmann::json;

class PeopleCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-people");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/test.db"},
        std::vector<store::MigrationSet>{OutboxMigrations(), PeopleCopyMigrations()});
  }

  struct Row {
    std::string topic, key, payload, headers;
  };
  std::vector<Row> Outbox() {
    return store_->Read([](store::Db& db) {
      std::vector<Row> rows;
      auto stmt = db.Prepare("SELECT topic, msg_key, payload, headers FROM outbox ORDER BY seq");
      while (stmt.Step()) rows.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3)});
      return rows;
    });
  }

  void Apply(const CloudEvent& event, std::vector<std::string>* erased = nullptr) {
    store_->Write([&](store::Db& tx) {
      ApplyPersonRecord(tx, event, [&](store::Db&, const std::string& id, const json& record) {
        if (erased != nullptr) erased->push_back(id + " " + record.dump());
      });
    });
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

CloudEvent Record(const std::string& person_id, const std::string& email) {
  auto event = MakeEvent("/jilaf/invitations", "jilaf.invitations.person.updated", person_id,
                         "people/" + person_id, "/schemas/invitations/person.updated/v1.json",
                         {{"person_id", person_id},
                          {"candidate", {{"family_name", "Nguyen"}, {"email", email}}},
                          {"union", "VGCL"}});
  return event;
}

CloudEvent Completed(const std::string& person_id, const std::string& time) {
  auto event = MakeEvent("/jilaf/invitations", "jilaf.invitations.nomination.completed", "n-1",
                         "nominations/n-1", "/schemas/invitations/nomination.completed/v2.json",
                         {{"person_id", person_id}, {"candidate", {{"nationality", "VN"}}}});
  event.time = time;
  return event;
}

TEST_F(PeopleCopyTest, PublisherSendsThePersonalPartToThePeopleTopicFirst) {
  const aggregate::Publisher publisher("invitations", {{"nomination", 2}});
  store_->Write([&](store::Db& tx) {
    publisher.Publish(tx,
                      {"nomination",
                       "selected",
                       "n-1",
                       "nominations/n-1",
                       {{"nomination_id", "n-1"},
                        {"person_id", "p-1"},
                        {"candidate", {{"nationality", "VN"}}},
                        {"personal", {{"candidate", {{"family_name", "Nguyen"}}}}}}},
                      "");
  });
  const auto rows = Outbox();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].topic, "jilaf.invitations.people");
  EXPECT_EQ(rows[0].key, "p-1");
  EXPECT_EQ(json::parse(rows[0].payload)["candidate"]["family_name"], "Nguyen");
  EXPECT_EQ(json::parse(rows[0].payload)["person_id"], "p-1");
  EXPECT_NE(rows[0].headers.find("jilaf.invitations.person.updated"), std::string::npos);
  EXPECT_EQ(rows[1].topic, "jilaf.invitations.events");
  EXPECT_EQ(rows[1].payload.find("Nguyen"), std::string::npos) << rows[1].payload;
  EXPECT_FALSE(json::parse(rows[1].payload).contains("personal"));
  EXPECT_NE(rows[1].headers.find("/schemas/invitations/nomination.selected/v2.json"),
            std::string::npos);
}

TEST_F(PeopleCopyTest, ErasureIsATombstoneWithANullValue) {
  const aggregate::Publisher publisher("invitations");
  store_->Write([&](store::Db& tx) { publisher.Erase(tx, "p-1", ""); });
  const auto rows = Outbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topic, "jilaf.invitations.people");
  EXPECT_EQ(rows[0].key, "p-1");
  EXPECT_EQ(rows[0].payload, "");  // the relay produces it as a null value
  // And back from Kafka: a null value with CloudEvents headers is a tombstone, not an error.
  Headers headers;
  std::string value;
  ToKafka(MakeEvent("/jilaf/invitations", "jilaf.invitations.person.erased", "p-1", "people/p-1",
                    "/schemas/invitations/person.erased/v1.json", nullptr),
          headers, value);
  EXPECT_EQ(value, "");
  const auto parsed = FromKafka("p-1", value, headers);
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_TRUE(parsed.event.data.is_null());
  EXPECT_EQ(parsed.event.key, "p-1");
}

TEST_F(PeopleCopyTest, CopyKeepsTheLatestRecordAndForgetsItOnTheTombstone) {
  Apply(Record("p-1", "old@example.org"));
  Apply(Record("p-1", "new@example.org"));
  auto record = store_->Read([](store::Db& db) { return PersonRecord(db, "p-1"); });
  ASSERT_TRUE(record);
  EXPECT_EQ((*record)["candidate"]["email"], "new@example.org");

  auto tombstone = Record("p-1", "");
  tombstone.data = nullptr;
  std::vector<std::string> erased;
  Apply(tombstone, &erased);
  ASSERT_EQ(erased.size(), 1u);
  EXPECT_NE(erased[0].find("new@example.org"), std::string::npos);  // the service's hook saw it
  EXPECT_FALSE(store_->Read([](store::Db& db) { return PersonRecord(db, "p-1"); }));
  // An event about the erased person goes on without personal data instead of waiting.
  const auto person = store_->Read(
      [](store::Db& db) { return PersonOfEvent(db, Completed("p-1", util::NowRfc3339())); });
  EXPECT_FALSE(person);
}

TEST_F(PeopleCopyTest, AFreshEventWaitsForItsPersonAnOldOneOrAVersionOneEventDoesNot) {
  EXPECT_THROW(store_->Read([](store::Db& db) {
    return PersonOfEvent(db, Completed("p-2", util::NowRfc3339()));
  }),
               NotYetApplicable);
  EXPECT_FALSE(store_->Read([](store::Db& db) {
    return PersonOfEvent(db, Completed("p-2", "2020-01-01T00:00:00.000Z"));
  }));
  auto v1 = Completed("p-2", util::NowRfc3339());
  v1.data["candidate"]["family_name"] = "Nguyen";  // names in the payload: version 1
  EXPECT_FALSE(store_->Read([&](store::Db& db) { return PersonOfEvent(db, v1); }));
  Apply(Record("p-2", "lan@example.org"));
  const auto person = store_->Read(
      [](store::Db& db) { return PersonOfEvent(db, Completed("p-2", util::NowRfc3339())); });
  ASSERT_TRUE(person);
  const auto joined = WithPersonalData(Completed("p-2", "").data, *person);
  EXPECT_EQ(joined["candidate"]["email"], "lan@example.org");
  EXPECT_EQ(joined["candidate"]["nationality"], "VN");  // the event's own facts stay
  EXPECT_EQ(joined["union"], "VGCL");
  // An alumnus event (no candidate object) gets the names at its top level.
  const auto alumnus = WithPersonalData({{"alumnus_id", "a-1"}, {"person_id", "p-2"}}, *person);
  EXPECT_EQ(alumnus["email"], "lan@example.org");
  EXPECT_EQ(alumnus["family_name"], "Nguyen");
}

// The wait of an event whose person's record is missing, on a clock the test moves.
class RecordWaitTest : public ::testing::Test {
 protected:
  RecordWait wait_{std::chrono::seconds(30), std::chrono::seconds(10)};
  RecordWait::Clock::time_point t0_ = RecordWait::Clock::now();
  RecordWait::Clock::time_point At(int seconds) const {
    return t0_ + std::chrono::seconds(seconds);
  }
};

TEST_F(RecordWaitTest, WithoutWordFromTheCopyAnEventWaitsHoldFromItsFirstWait) {
  EXPECT_TRUE(wait_.MayWait("e-1", At(0)));
  EXPECT_TRUE(wait_.MayWait("e-1", At(29)));
  EXPECT_FALSE(wait_.MayWait("e-1", At(30)));
  EXPECT_TRUE(wait_.MayWait("e-1", At(31)));  // forgotten: a redelivery starts over
}

TEST_F(RecordWaitTest, AnEventWaitsAsLongAsTheCopyIsBehindThenHoldMore) {
  // The CI failure this guards against: a fresh consumer group replaying a long people topic
  // took more than `hold` to reach the record of the event's person.
  EXPECT_TRUE(wait_.MayWait("e-1", At(0)));
  for (int t = 2; t <= 120; t += 2) {
    wait_.NoteCopyLag(50000 - t * 400, At(t));
    EXPECT_TRUE(wait_.MayWait("e-1", At(t))) << "at " << t << " s";
  }
  wait_.NoteCopyLag(0, At(122));  // caught up: the record should be there by now
  wait_.NoteCopyLag(0, At(134));
  EXPECT_TRUE(wait_.MayWait("e-1", At(140)));
  wait_.NoteCopyLag(0, At(146));
  EXPECT_TRUE(wait_.MayWait("e-1", At(151)));
  wait_.NoteCopyLag(0, At(152));
  EXPECT_FALSE(wait_.MayWait("e-1", At(152)));  // 30 s caught up and still no record
}

TEST_F(RecordWaitTest, ACopyThatFallsBehindAgainRestartsTheHold) {
  wait_.NoteCopyLag(0, At(0));
  EXPECT_TRUE(wait_.MayWait("e-1", At(0)));
  wait_.NoteCopyLag(3, At(20));
  wait_.NoteCopyLag(0, At(25));
  wait_.NoteCopyLag(0, At(33));
  EXPECT_TRUE(wait_.MayWait("e-1", At(35)));  // 35 s since the first wait, 10 s caught up
  wait_.NoteCopyLag(0, At(54));
  EXPECT_FALSE(wait_.MayWait("e-1", At(55)));
}

TEST_F(RecordWaitTest, AStaleOrUnknownLagFallsBackToHoldFromTheFirstWait) {
  wait_.NoteCopyLag(10, At(0));
  EXPECT_TRUE(wait_.MayWait("e-1", At(5)));    // behind, reported 5 s ago
  EXPECT_FALSE(wait_.MayWait("e-1", At(40)));  // the report is 40 s old: no longer believed
  wait_.NoteCopyLag(10, At(41));
  wait_.NoteCopyLag(std::nullopt, At(43));  // the broker stopped answering
  EXPECT_TRUE(wait_.MayWait("e-2", At(43)));
  EXPECT_FALSE(wait_.MayWait("e-2", At(73)));
}

TEST_F(RecordWaitTest, AReleasedEventStartsOver) {
  EXPECT_TRUE(wait_.MayWait("e-1", At(0)));
  wait_.Release("e-1");
  EXPECT_TRUE(wait_.MayWait("e-1", At(45)));
  EXPECT_TRUE(wait_.MayWait("e-1", At(74)));
}

// An event waiting for its person's record is woken by the copy's next commit, not at the end
// of its backoff (a fixed 200 ms sleep held every later event of the consumer behind it).
TEST_F(RecordWaitTest, AWaitEndsAtTheCopysNextCommitNotAtItsTimeout) {
  const auto seen = wait_.CopyGeneration();
  // Timed from before the thread starts: the commit comes at least 30 ms after `start` however
  // the two threads are scheduled.
  const auto start = RecordWait::Clock::now();
  std::thread copy([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    wait_.NoteCopyApplied();
  });
  EXPECT_TRUE(wait_.AwaitCopyApplied(seen, std::chrono::seconds(20)));
  const auto waited = RecordWait::Clock::now() - start;
  copy.join();
  EXPECT_GE(waited, std::chrono::milliseconds(25));
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(wait_.CopyGeneration(), seen + 1);
}

TEST_F(RecordWaitTest, ACommitBeforeTheWaitEndsItAtOnceAndNoCommitTimesOut) {
  const auto seen = wait_.CopyGeneration();
  EXPECT_FALSE(wait_.AwaitCopyApplied(seen, std::chrono::milliseconds(20)));
  wait_.NoteCopyApplied();  // between the attempt that missed the record and the wait
  const auto start = RecordWait::Clock::now();
  EXPECT_TRUE(wait_.AwaitCopyApplied(seen, std::chrono::seconds(20)));
  EXPECT_LT(RecordWait::Clock::now() - start, std::chrono::seconds(10));
}

// The people copy's consumer tells the wait each time it has settled a batch.
TEST(PeopleCopyOptionsTest, TheCopysConsumerReportsEachSettledBatch) {
  auto options = PeopleCopyOptions("notifications-people", "jilaf.notifications.dlq");
  ASSERT_TRUE(options.on_applied);
  const auto seen = RecordWait::Instance().CopyGeneration();
  options.on_applied();
  EXPECT_TRUE(RecordWait::Instance().AwaitCopyApplied(seen, std::chrono::seconds(0)));
}

}  // namespace
}  // namespace jilaf::events
