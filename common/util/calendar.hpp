#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace jilaf::util {

// The business calendar (docs/architecture.md, "Business calendar"): timestamps stay UTC on the
// wire; "today", due dates, letter dates and fiscal years are dates in one business time zone,
// Asia/Tokyo unless configured otherwise (--business-time-zone).

inline constexpr std::string_view kDefaultBusinessTimeZone = "Asia/Tokyo";

/// Why `name` is not a usable IANA time zone on this system (e.g. "Mars/Olympus", or a path),
/// or nullopt if it is one (its TZif file is under $TZDIR or /usr/share/zoneinfo).
std::optional<std::string> CheckTimeZone(const std::string& name);

/// Makes `name` the process's business time zone; returns CheckTimeZone's error and changes
/// nothing if it is not usable. Call it at start, before other threads exist: it sets the
/// process's TZ.
std::optional<std::string> SetBusinessTimeZone(const std::string& name);
/// The business time zone in use (the default until SetBusinessTimeZone succeeds).
std::string BusinessTimeZone();

/// The calendar date, "YYYY-MM-DD", in the business time zone at the UTC instant `unix_ms`.
std::string BusinessDate(std::int64_t unix_ms);
/// Today in the business time zone.
std::string BusinessToday();

/// The Japanese fiscal year (April to March) a "YYYY-MM-DD" date falls in: 2026-04-01 and
/// 2027-03-31 are both in fiscal year 2026.
int FiscalYearOf(std::string_view date);
/// The first and last day of a fiscal year.
std::pair<std::string, std::string> FiscalYearBounds(int fiscal_year);

/// For tests: while alive, BusinessToday() reads this instant (Unix ms) instead of the clock.
class ScopedBusinessClock {
 public:
  explicit ScopedBusinessClock(std::int64_t unix_ms);
  ~ScopedBusinessClock();
  ScopedBusinessClock(const ScopedBusinessClock&) = delete;
  ScopedBusinessClock& operator=(const ScopedBusinessClock&) = delete;
};

}  // namespace jilaf::util
