#pragma once

#include <string_view>

namespace jilaf::util {

/// The project version of this build (CMake's project VERSION).
std::string_view BuildVersion();
/// The git commit the binary was built from, as CMake read it at build time; "unknown" when the
/// source was not a git checkout.
std::string_view BuildCommit();

}  // namespace jilaf::util
