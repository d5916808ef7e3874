#pragma once

#include <string>
#include <string_view>

namespace jilaf::util {

/// A test-only crash point. When the environment variable JILAF_FAILPOINT names `name`, the
/// process kills itself with SIGKILL (exactly what `kill -9` does: no destructor, no flush, no
/// offset commit) the N-th time it passes here. Spec: `name[@N][,name[@N]...]`, N defaulting to
/// 1. Unset, as in production, a call costs one relaxed atomic load. scripts/faults uses it to
/// crash a service between two steps that must survive a crash (docs/reliability.md).
void FailPoint(std::string_view name);

/// Replaces the armed fail-points with `spec` (the JILAF_FAILPOINT syntax; empty disarms all).
/// Returns false, arming nothing, if the spec is malformed. For tests; the environment is read
/// on the first FailPoint call otherwise.
[[nodiscard]] bool ArmFailPoints(std::string_view spec);

}  // namespace jilaf::util
