#pragma once

#include <nlohmann/json.hpp>

#include <memory>
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

/// The values templates are filled from, converted once and used for every template one event
/// fills (subject and body, each rule's language).
class TemplateData {
 public:
  explicit TemplateData(const nlohmann::json& context);
  /// The data of TemplateContext(event), converted without building that JSON first.
  explicit TemplateData(const events::CloudEvent& event);
  ~TemplateData();
  TemplateData(TemplateData&&) noexcept;
  TemplateData& operator=(TemplateData&&) noexcept;

  struct Impl;
  [[nodiscard]] const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// A mustache template (kainjow) parsed once, rendered many times without HTML escaping (the
/// output is plain text mail, inbox text or JSON-escaped later). Every `{{name}}` or section that
/// resolves to nothing is reported in `missing`, and `ok` is false then: a template must never
/// render a silently blank field. Not safe to render from two threads at once.
class Template {
 public:
  explicit Template(const std::string& text);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  [[nodiscard]] Rendered Render(const TemplateData& data) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Parses and renders `text` once (template previews, periodical notices).
[[nodiscard]] Rendered Render(const std::string& text, const nlohmann::json& context);

/// The object templates see: {event: {id, type, source, subject, time}, data: <event data>}.
[[nodiscard]] nlohmann::json TemplateContext(const events::CloudEvent& event);

}  // namespace jilaf::notifications
