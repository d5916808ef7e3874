// Fail points compiled out (-DJILAF_FAIL_POINTS=OFF, the production image): this test builds
// common/util/failpoint.cpp without JILAF_FAIL_POINTS, as the Dockerfile does, and shows that
// nothing can arm a crash point, not even the environment variable the fault suite uses.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/util/failpoint.hpp"

#ifdef JILAF_FAIL_POINTS
#error "this test must be compiled without JILAF_FAIL_POINTS"
#endif

namespace jilaf::util {
namespace {

TEST(FailPointsCompiledOut, NothingArmsThemAndPassingOneDoesNothing) {
  EXPECT_FALSE(ArmFailPoints("outbox.after_commit_before_publish"));
  EXPECT_FALSE(ArmFailPoints("a@3,b"));
  EXPECT_TRUE(ArmFailPoints(""));  // disarming everything is still a valid request
  ASSERT_EQ(::setenv("JILAF_FAILPOINT", "outbox.after_commit_before_publish", 1), 0);
  EXPECT_EXIT(
      {
        FailPoint("outbox.after_commit_before_publish");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace jilaf::util
