#include "common/domain/state_machine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>

#include "common/domain/error.hpp"
#include "common/http/problem.hpp"
#include "common/service/scheduler.hpp"

namespace jilaf::domain {
namespace {

const StateMachine kMachine("programme", {{"draft", {"open", "cancelled"}},
                                          {"open", {"selection", "cancelled"}},
                                          {"selection", {"confirmed"}}});

TEST(StateMachine, AllowsListedTransitionsOnly) {
  EXPECT_TRUE(kMachine.Allows("draft", "open"));
  EXPECT_FALSE(kMachine.Allows("draft", "selection"));
  EXPECT_FALSE(kMachine.Allows("confirmed", "draft"));
  EXPECT_NO_THROW(kMachine.Check("open", "selection"));
}

TEST(StateMachine, InvalidTransitionIs409NamingTheAllowedOnes) {
  try {
    kMachine.Check("draft", "confirmed");
    FAIL() << "expected a 409";
  } catch (const Error& domain_error) {
    // The domain says what broke; common/http says how it travels.
    EXPECT_EQ(domain_error.kind(), Error::Kind::kConflict);
    const auto error = http::ToApiError(domain_error);
    EXPECT_EQ(error.status(), 409);
    EXPECT_EQ(error.slug(), "invalid-transition");
    EXPECT_EQ(error.extensions()["allowed_transitions"],
              nlohmann::json::array({"cancelled", "open"}));
    EXPECT_NE(error.detail().find("allowed: cancelled, open"), std::string::npos);
  }
}

TEST(StateMachine, FinalStateSaysSo) {
  try {
    kMachine.Check("confirmed", "open");
    FAIL() << "expected a 409";
  } catch (const Error& error) {
    EXPECT_NE(error.detail().find("it is final"), std::string::npos);
  }
}

TEST(StateMachine, UnknownTargetStateIs422) {
  try {
    kMachine.Check("draft", "flying");
    FAIL() << "expected a 422";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::kInvalid);
    const auto problem = http::ToApiError(error);
    EXPECT_EQ(problem.status(), 422);
    EXPECT_EQ(problem.extensions()["errors"][0]["field"], "/to");
  }
}

TEST(Scheduler, RunsTasksPeriodicallyAndSurvivesFailures) {
  service::Scheduler scheduler;
  std::atomic<int> runs{0};
  std::latch three(3);
  scheduler.Every("count", std::chrono::milliseconds(10), [&] {
    if (++runs <= 3) three.count_down();
    if (runs == 2) throw std::runtime_error("one bad run");
  });
  scheduler.Start();
  three.wait();
  scheduler.Stop();
  EXPECT_GE(runs.load(), 3);
  const int after_stop = runs.load();
  scheduler.RunAllNow();
  EXPECT_EQ(runs.load(), after_stop + 1);
}

}  // namespace
}  // namespace jilaf::domain
