// What operators read on the admin port: readiness reports the broker as a metadata request
// finds it, and the consumer lag is unknown, not 0, while the broker does not answer.
#include <algorithm>
#include <cmath>
#include <optional>

#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using std::chrono::seconds;

class OperationsTest : public E2eTest {
 protected:
  void TearDown() override {
    // A failed assertion must not leave the shared broker frozen for the tests after this one.
    if (paused_) {
      std::string output;
      testing::RunCommand(kafka_ctl_ + " resume", &output);
    }
    E2eTest::TearDown();
  }

  std::string KafkaState(const RunningService& service) {
    const auto ready = Admin(service, "/readyz");
    const auto body = nlohmann::json::parse(ready.body, nullptr, false);
    if (!body.is_object() || !body.contains("kafka")) return "(no kafka in /readyz)";
    return body["kafka"].value("producer", "(missing)");
  }

  // The values of every jilaf_consumer_lag sample of `consumer` (NaN where it is unknown).
  std::vector<double> Lags(const RunningService& service, const std::string& consumer) {
    const auto text = Admin(service, "/metrics").body;
    const std::string prefix = "jilaf_consumer_lag{consumer=\"" + consumer + "\"";
    std::vector<double> out;
    for (std::size_t pos = 0; (pos = text.find(prefix, pos)) != std::string::npos;
         pos += prefix.size()) {
      if (pos != 0 && text[pos - 1] != '\n') continue;
      const auto end = std::min(text.find('\n', pos), text.size());
      const auto line = text.substr(pos, end - pos);
      out.push_back(std::stod(line.substr(line.rfind(' ') + 1)));  // "Nan" parses as NaN
    }
    return out;
  }

  bool paused_ = false;
};

TEST_F(OperationsTest, ReadinessReportsAHealthyBrokerBeforeAnyEventIsProduced) {
  // Projects publishes nothing on its own at start: only a metadata request can tell that the
  // broker is there.
  auto& projects = StartProjects();
  EXPECT_TRUE(testing::WaitUntil([&] { return KafkaState(projects) == "up"; }, seconds(30)))
      << "kafka.producer in /readyz is " << KafkaState(projects);
  EXPECT_EQ(Metric(projects, "jilaf_kafka_producer_up "), 1.0);
  EXPECT_EQ(Metric(projects, "jilaf_events_published_total"), 0.0);  // nothing was delivered
}

TEST_F(OperationsTest, ConsumerLagIsUnknownWhileTheBrokerIsPausedAndReadinessSaysDown) {
  auto& missions = StartMissions();  // consumes jilaf.invitations.events in a group of its own
  auto finite = [&] {
    const auto lags = Lags(missions, missions_group_);
    return !lags.empty() &&
           std::all_of(lags.begin(), lags.end(), [](double lag) { return std::isfinite(lag); });
  };
  ASSERT_TRUE(testing::WaitUntil(finite, seconds(60)))
      << "no lag reported for " << missions_group_ << " with a healthy broker";
  ASSERT_TRUE(testing::WaitUntil([&] { return KafkaState(missions) == "up"; }, seconds(30)));

  KafkaCtl("pause");
  paused_ = true;
  // Every sample NaN (or gone, if the client gave its assignment up): never a number it could
  // not have measured.
  const bool unknown = testing::WaitUntil(
      [&] {
        const auto lags = Lags(missions, missions_group_);
        return std::all_of(lags.begin(), lags.end(), [](double lag) { return std::isnan(lag); });
      },
      seconds(60));
  EXPECT_TRUE(unknown) << "consumer lag still reads a number while the broker is paused";
  EXPECT_TRUE(testing::WaitUntil([&] { return KafkaState(missions) == "down"; }, seconds(60)))
      << "kafka.producer in /readyz is " << KafkaState(missions) << " with the broker paused";
  EXPECT_EQ(Admin(missions, "/readyz").status, 200);  // reported, not required

  KafkaCtl("resume");
  paused_ = false;
  EXPECT_TRUE(testing::WaitUntil(finite, seconds(120))) << "lag not measured again after resume";
  EXPECT_TRUE(testing::WaitUntil([&] { return KafkaState(missions) == "up"; }, seconds(60)));
}

}  // namespace
}  // namespace jilaf::e2e
