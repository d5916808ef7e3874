#pragma once

#include <nlohmann/json.hpp>

#include <string>
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

/// Masked(doc, viewer_masked) for a viewer, `doc` unchanged for everyone else.
[[nodiscard]] nlohmann::json ForReader(nlohmann::json doc, const auth::Principal& reader,
                                       const std::vector<std::string>& viewer_masked);

}  // namespace jilaf::aggregate
