#pragma once

#include <string_view>

namespace jilaf::util {

/// True for an officially assigned ISO 3166-1 alpha-2 country code ("JP", "VN"), upper case.
[[nodiscard]] bool IsIso3166Alpha2(std::string_view code);

}  // namespace jilaf::util
