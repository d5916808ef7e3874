#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace jilaf::notifications {

/// Bounded retries with exponential backoff and jitter.
struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base{30000};
  std::chrono::milliseconds cap{3600000};

  /// The wait after failed attempt number `attempt` (1-based): the exponential step
  /// min(cap, base·2^(attempt-1)), of which the upper half is random ("equal jitter"), so that
  /// retries of many deliveries spread out but never come sooner than half the step.
  [[nodiscard]] std::chrono::milliseconds Delay(int attempt, std::mt19937_64& random) const;
  /// True when a delivery that failed `attempts` times is dead.
  [[nodiscard]] bool Exhausted(int attempts) const { return attempts >= max_attempts; }
};

}  // namespace jilaf::notifications
