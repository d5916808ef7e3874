#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace jilaf::util {

/// The regions programmes are planned by: the United Nations M49 standard ("Standard country or
/// area codes for statistical use"), at the level of its regions, with the Americas split into
/// its two groups as M49 itself does: `africa` (002), `asia` (142, Western Asia — the Middle
/// East — included), `europe` (150), `latin_america_caribbean` (419), `northern_america` (021),
/// `oceania` (009).
[[nodiscard]] const std::vector<std::string_view>& M49Regions();

/// The M49 region of an ISO 3166-1 alpha-2 code ("VN" → "asia"), or nullopt for a code M49
/// places in no region (Antarctica) or that is not assigned.
[[nodiscard]] std::optional<std::string_view> M49RegionOf(std::string_view alpha2);

}  // namespace jilaf::util
