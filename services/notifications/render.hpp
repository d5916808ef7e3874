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

/// Where staff reach each service's API: the `links` every template sees, so that a message can
/// link to the record it is about ({{links.invitations}}/v1/nominations/{{data.nomination_id}}).
struct LinkBases {
  std::string invitations = "http://127.0.0.1:8081";
  std::string projects = "http://127.0.0.1:8082";
  std::string missions = "http://127.0.0.1:8083";
};
/// Set once at start, before any event is rendered.
void SetLinkBases(LinkBases bases);
const LinkBases& Links();

/// The values templates are filled from, used for every template one event fills (subject and
/// body, each rule's language). Built from an event, it converts the event's data only as far as
/// the templates name it, and reads it in place: the event must outlive it.
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

/// The object templates see: {event: {id, type, what, source, subject, time}, data: <event
/// data>, links: {invitations, projects, missions}}; `what` reads the type in words
/// ("nomination visa granted").
[[nodiscard]] nlohmann::json TemplateContext(const events::CloudEvent& event);

}  // namespace jilaf::notifications
