#include "services/notifications/retry.hpp"

#include <algorithm>

namespace jilaf::notifications {

std::chrono::milliseconds RetryPolicy::Delay(int attempt, std::mt19937_64& random) const {
  const int shift = std::clamp(attempt - 1, 0, 40);
  const std::int64_t base_ms = std::max<std::int64_t>(1, base.count());
  const std::int64_t cap_ms = std::max<std::int64_t>(base_ms, cap.count());
  // Saturate instead of overflowing the shift.
  const std::int64_t step =
      shift >= 62 || base_ms > (cap_ms >> shift) ? cap_ms : std::min(cap_ms, base_ms << shift);
  const std::int64_t half = step / 2;
  std::uniform_int_distribution<std::int64_t> jitter(0, step - half);
  return std::chrono::milliseconds(half + jitter(random));
}

}  // namespace jilaf::notifications
