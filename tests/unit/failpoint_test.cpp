#include "common/util/failpoint.hpp"

#include <gtest/gtest.h>
#include <signal.h>

namespace jilaf::util {
namespace {

class FailPointTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(ArmFailPoints("")); }
};

TEST_F(FailPointTest, UnarmedPointDoesNothing) {
  ASSERT_TRUE(ArmFailPoints(""));
  for (int i = 0; i < 3; ++i) FailPoint("outbox.after_commit_before_publish");
  SUCCEED();
}

TEST_F(FailPointTest, KillsOnTheFirstPassByDefault) {
  ASSERT_TRUE(ArmFailPoints("outbox.after_commit_before_publish"));
  FailPoint("consumer.after_effect_before_offset");  // another point: no effect
  EXPECT_EXIT(FailPoint("outbox.after_commit_before_publish"), ::testing::KilledBySignal(SIGKILL),
              "failpoint hit");
}

TEST_F(FailPointTest, KillsOnTheNthPassOnly) {
  ASSERT_TRUE(ArmFailPoints("a@3,b"));
  FailPoint("a");
  FailPoint("a");
  EXPECT_EXIT(FailPoint("a"), ::testing::KilledBySignal(SIGKILL), "\"failpoint\":\"a\",\"hit\":3");
}

TEST_F(FailPointTest, RejectsMalformedSpecs) {
  EXPECT_FALSE(ArmFailPoints("a@0"));
  EXPECT_FALSE(ArmFailPoints("a@x"));
  EXPECT_FALSE(ArmFailPoints("@2"));
  EXPECT_FALSE(ArmFailPoints("a,,b"));
  EXPECT_TRUE(ArmFailPoints("a@2,b@1"));
}

}  // namespace
}  // namespace jilaf::util
