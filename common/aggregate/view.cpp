#include "common/aggregate/view.hpp"

#include <string_view>

namespace jilaf::aggregate {
namespace {

void MaskAll(nlohmann::json& value) {
  if (value.is_string()) {
    value = kMasked;
  } else if (value.is_structured()) {
    for (auto& item : value) MaskAll(item);
  }
}

void MaskPath(nlohmann::json& value, std::string_view path) {
  if (path.empty()) {
    MaskAll(value);
    return;
  }
  const auto dot = path.find('.');
  std::string_view step = path.substr(0, dot);
  const std::string_view rest = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  const bool each = step.size() > 2 && step.substr(step.size() - 2) == "[]";
  if (each) step.remove_suffix(2);
  if (!value.is_object()) return;
  const auto found = value.find(std::string(step));
  if (found == value.end()) return;
  if (!each) {
    MaskPath(*found, rest);
  } else if (found->is_array()) {
    for (auto& item : *found) MaskPath(item, rest);
  }
}

}  // namespace

Audience AudienceOf(const auth::Principal& reader) {
  if (reader.Has(auth::Role::kAdmin)) return Audience::kAdmin;
  if (reader.Has(auth::Role::kStaff) || reader.Has(auth::Role::kService)) return Audience::kStaff;
  return Audience::kViewer;
}

nlohmann::json Masked(nlohmann::json doc, const std::vector<std::string>& paths) {
  for (const auto& path : paths) MaskPath(doc, path);
  return doc;
}

nlohmann::json ForReader(nlohmann::json doc, const auth::Principal& reader,
                         const std::vector<std::string>& viewer_masked) {
  if (AudienceOf(reader) != Audience::kViewer) return doc;
  return Masked(std::move(doc), viewer_masked);
}

}  // namespace jilaf::aggregate
