#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "common/events/cloud_event.hpp"

namespace jilaf::notifications {

/// What rendering a mustache template produced.
struct Rendered {
  bool ok = false;
  std::string text;
  std::string error;              // the template's syntax error, if any
  std::set<std::string> missing;  // names the template asked for and the data lacked
};

/// Renders `text` (mustache, kainjow) against `context` without HTML escaping (the output is
/// plain text mail, inbox text or JSON-escaped later). Every `{{name}}` or section that resolves
/// to nothing is reported in `missing`, and `ok` is false then: a template must never render a
/// silently blank field.
[[nodiscard]] Rendered Render(const std::string& text, const nlohmann::json& context);

/// The object templates see: {event: {id, type, source, subject, time}, data: <event data>}.
[[nodiscard]] nlohmann::json TemplateContext(const events::CloudEvent& event);

}  // namespace jilaf::notifications
