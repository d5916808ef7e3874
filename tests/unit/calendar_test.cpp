#include "common/util/calendar.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace jilaf::util {
namespace {

// Unix ms of a UTC wall-clock time.
std::int64_t UtcMs(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

// Each test leaves the process on the default zone, as the services start.
class CalendarTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ASSERT_FALSE(SetBusinessTimeZone(std::string(kDefaultBusinessTimeZone)).has_value());
  }
};

TEST_F(CalendarTest, TokyoIsTheDefaultAndItsDateLeadsUtcByNineHours) {
  EXPECT_EQ(BusinessTimeZone(), "Asia/Tokyo");
  // 2026-03-31T15:30Z is 00:30 on 1 April in Tokyo: a new day and a new fiscal year.
  const auto instant = UtcMs(2026, 3, 31, 15, 30);
  EXPECT_EQ(BusinessDate(instant), "2026-04-01");
  EXPECT_EQ(FiscalYearOf(BusinessDate(instant)), 2026);
  EXPECT_EQ(BusinessDate(UtcMs(2026, 3, 31, 14, 59)), "2026-03-31");  // 23:59 in Tokyo
  EXPECT_EQ(FiscalYearOf(BusinessDate(UtcMs(2026, 3, 31, 14, 59))), 2025);
}

TEST_F(CalendarTest, TodayFollowsTheBusinessZoneNotUtc) {
  const ScopedBusinessClock clock(UtcMs(2026, 3, 31, 15, 30));
  EXPECT_EQ(BusinessToday(), "2026-04-01");
  ASSERT_FALSE(SetBusinessTimeZone("UTC").has_value());
  EXPECT_EQ(BusinessToday(), "2026-03-31");
  // A zone behind UTC, with summer time: 2026-07-01T03:00Z is still 30 June in New York.
  ASSERT_FALSE(SetBusinessTimeZone("America/New_York").has_value());
  EXPECT_EQ(BusinessDate(UtcMs(2026, 7, 1, 3, 0)), "2026-06-30");
  EXPECT_EQ(BusinessDate(UtcMs(2026, 7, 1, 4, 0)), "2026-07-01");  // EDT is UTC-4
}

TEST_F(CalendarTest, FiscalYearRunsFromAprilToMarch) {
  EXPECT_EQ(FiscalYearOf("2026-04-01"), 2026);
  EXPECT_EQ(FiscalYearOf("2027-03-31"), 2026);
  EXPECT_EQ(FiscalYearOf("2027-02-10"), 2026);
  EXPECT_EQ(FiscalYearOf("2026-03-31"), 2025);
  EXPECT_EQ(FiscalYearBounds(2026),
            std::make_pair(std::string("2026-04-01"), std::string("2027-03-31")));
}

TEST_F(CalendarTest, UnknownZonesAreRefusedAndChangeNothing) {
  for (const char* bad : {"Mars/Olympus", "", "../../etc/passwd", "/usr/share/zoneinfo/UTC",
                          "Asia/Tokyo;rm", "Asia//Tokyo"}) {
    const auto error = SetBusinessTimeZone(bad);
    ASSERT_TRUE(error.has_value()) << bad;
    EXPECT_NE(error->find(std::string("'") + bad + "'"), std::string::npos) << *error;
  }
  EXPECT_EQ(BusinessTimeZone(), "Asia/Tokyo");
  EXPECT_FALSE(CheckTimeZone("Europe/London").has_value());
}

}  // namespace
}  // namespace jilaf::util
