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

// Applies `leaf` to the value at `path` (member names joined by '.', "[]" stepping into every
// element of an array); a missing member is skipped.
template <typename Leaf>
void AtPath(nlohmann::json& value, std::string_view path, const Leaf& leaf) {
  if (path.empty()) {
    leaf(value);
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
    AtPath(*found, rest, leaf);
  } else if (found->is_array()) {
    for (auto& item : *found) AtPath(item, rest, leaf);
  }
}

void MaskPath(nlohmann::json& value, std::string_view path) { AtPath(value, path, MaskAll); }

// The parent path and the last member name of `path` ("a.b" -> "a", "b"; "b" -> "", "b").
std::pair<std::string_view, std::string> SplitLast(std::string_view path) {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos) return {"", std::string(path)};
  return {path.substr(0, dot), std::string(path.substr(dot + 1))};
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

std::string MaskedExceptLast(std::string_view text, std::size_t shown) {
  const std::size_t kept = text.size() > shown ? shown : 0;
  return std::string(text.size() - kept, '*') + std::string(text.substr(text.size() - kept));
}

nlohmann::json ForViewer(nlohmann::json doc, const ViewerView& view) {
  for (const auto& [path, members] : view.kept) {
    AtPath(doc, path, [&members](nlohmann::json& object) {
      if (!object.is_object()) return;
      nlohmann::json kept = nlohmann::json::object();
      for (const auto& member : members) {
        if (object.contains(member)) kept[member] = std::move(object[member]);
      }
      object = std::move(kept);
    });
  }
  for (const auto& path : view.hidden) {
    const auto [parent, member] = SplitLast(path);
    AtPath(doc, parent, [&member](nlohmann::json& object) {
      if (object.is_object()) object.erase(member);
    });
  }
  return Masked(std::move(doc), view.masked);
}

nlohmann::json ForReader(nlohmann::json doc, const auth::Principal& reader,
                         const std::vector<std::string>& viewer_masked) {
  if (AudienceOf(reader) != Audience::kViewer) return doc;
  return Masked(std::move(doc), viewer_masked);
}

}  // namespace jilaf::aggregate
