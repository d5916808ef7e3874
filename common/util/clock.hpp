#pragma once

#include <cstdint>
#include <string>

namespace jilaf::util {

/// The current UTC time as RFC 3339 with milliseconds, e.g. 2026-11-29T14:09:24.123Z.
std::string NowRfc3339();
/// Milliseconds since the Unix epoch.
std::int64_t NowUnixMs();

}  // namespace jilaf::util
