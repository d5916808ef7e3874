#pragma once

#include <string>
#include <string_view>

namespace jilaf::util {

/// A test-only crash point. When the environment variable JILAF_FAILPOINT names `name`, the
/// process kills itself with SIGKILL (exactly what `kill -9` does: no destructor, no flush, no
/// offset commit) the N-th time it passes here. Spec: `name[@N][,name[@N]...]`, N defaulting to
/// 1. Unset, as in production, a call costs one relaxed atomic load. scripts/faults uses it to
/// crash a service between two steps that must survive a crash (docs/reliability.md).
/// Built with -DJILAF_FAIL_POINTS=OFF (the production image), FailPoint is an empty inline
/// function: no production binary can be made to crash itself, whatever its environment says.
#ifdef JILAF_FAIL_POINTS
void FailPoint(std::string_view name);
#else
inline void FailPoint(std::string_view /*name*/) {}
#endif

/// Replaces the armed fail-points with `spec` (the JILAF_FAILPOINT syntax; empty disarms all).
/// Returns false, arming nothing, if the spec is malformed, or if it names a point while fail
/// points are compiled out. For tests; the environment is read on the first FailPoint call
/// otherwise.
[[nodiscard]] bool ArmFailPoints(std::string_view spec);

}  // namespace jilaf::util
