#pragma once

#include <string>
#include <string_view>

namespace jilaf::util {

/// Escapes text for HTML or XML element content and attribute values (& < > " ').
std::string EscapeMarkup(std::string_view text);

/// Today's date in UTC as YYYY-MM-DD (the clock that due-date scans compare against).
std::string TodayUtc();

}  // namespace jilaf::util
