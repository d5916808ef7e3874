#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/auth/principal.hpp"

// What a reader may see of a record: one masking rule for every service. Viewers read the
// organisation's work, not the people's contact details or message texts.
namespace jilaf::aggregate {

/// Who reads: viewers get masked views; staff and services the working record; admins
/// everything, including what only configuration needs (transport errors, for instance).
enum class Audience { kViewer, kStaff, kAdmin };
[[nodiscard]] Audience AudienceOf(const auth::Principal& reader);

/// What a masked text reads as.
inline constexpr const char* kMasked = "***";

/// `doc` with every string at `paths` replaced by kMasked (an object or array there: every
/// string inside it). A path is member names joined by '.', with "[]" after a name stepping
/// into every element of that array: "contact.email", "participants[].email", "content".
/// Members that are absent are skipped; types other than strings keep their values.
[[nodiscard]] nlohmann::json Masked(nlohmann::json doc, const std::vector<std::string>& paths);

/// `text` with every character but the last `shown` replaced by '*' (all of them when it has
/// no more than `shown`): "*****567" for a passport number shown to staff.
[[nodiscard]] std::string MaskedExceptLast(std::string_view text, std::size_t shown);

/// What a viewer reads of a record whose people's details are left out rather than masked: at
/// each `kept` path (as in Masked) only the named members stay, an allow-list so that a member
/// added later stays hidden; the `hidden` paths are left out; the `masked` ones masked.
struct ViewerView {
  std::vector<std::pair<std::string, std::vector<std::string>>> kept;
  std::vector<std::string> hidden;
  std::vector<std::string> masked;
};
[[nodiscard]] nlohmann::json ForViewer(nlohmann::json doc, const ViewerView& view);

/// Masked(doc, viewer_masked) for a viewer, `doc` unchanged for everyone else.
[[nodiscard]] nlohmann::json ForReader(nlohmann::json doc, const auth::Principal& reader,
                                       const std::vector<std::string>& viewer_masked);

}  // namespace jilaf::aggregate
