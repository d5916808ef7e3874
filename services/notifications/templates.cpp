// The records kept under a natural key and versioned, PUT with If-Match: message templates
// (event type, channel, locale) and recipients' preferences.
#include <nlohmann/json.hpp>

#include <functional>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "common/util/embedded.hpp"
#include "services/notifications/contract.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/signature.hpp"
#include "services/notifications/tables.hpp"

JILAF_EMBEDDED(notifications_samples)

namespace jilaf::notifications {
namespace {

using nlohmann::json;

const json& Samples() {
  static const json samples = json::parse(embedded::notifications_samples);
  return samples;
}

events::CloudEvent SampleEvent(const std::string& type, const json& data) {
  events::CloudEvent event;
  event.id = "00000000-0000-4000-8000-000000000000";
  event.type = type;
  event.source = "/jilaf/sample";
  event.subject = "samples/1";
  event.time = "2026-01-01T00:00:00.000Z";
  event.data = data;
  return event;
}

// The sample events a template is checked against: the caller's, else every built-in sample of
// a type the template's event type selects.
std::vector<events::CloudEvent> SampleEvents(const std::string& pattern, const json* sample) {
  if (sample != nullptr) {
    return {SampleEvent(
        pattern.back() == '*' ? pattern.substr(0, pattern.size() - 1) + "sample" : pattern,
        *sample)};
  }
  std::vector<events::CloudEvent> out;
  for (const auto& [type, data] : Samples().items()) {
    if (TypeMatches(pattern, type)) out.push_back(SampleEvent(type, data));
  }
  return out;
}

// Renders `text` against `event`; records field errors for what is missing.
std::string CheckPart(http::ObjectReader& in, const char* field, const std::string& text,
                      const events::CloudEvent& event) {
  const auto rendered = Render(text, TemplateContext(event));
  if (!rendered.error.empty()) {
    in.AddError(field, "mustache syntax: " + rendered.error);
  } else if (!rendered.ok) {
    for (const auto& name : rendered.missing) {
      in.AddError(field, "{{" + name + "}} is not a field of " + event.type + " events");
    }
  }
  return rendered.text;
}

// Renders subject and body against every sample; the preview is the first sample's rendering.
json CheckTemplate(http::ObjectReader& in, const std::string& pattern, const std::string& subject,
                   const std::string& body, const json* sample) {
  const auto samples = SampleEvents(pattern, sample);
  if (samples.empty()) {
    in.AddError("sample", "no built-in sample event for " + pattern +
                              "; include sample (the event data to check the template against)");
    return nullptr;
  }
  json preview;
  for (const auto& event : samples) {
    for (const auto& [field, text] : {std::pair{"subject", &subject}, std::pair{"body", &body}}) {
      auto rendered = CheckPart(in, field, *text, event);
      if (preview.is_null() || !preview.contains(field)) preview[field] = std::move(rendered);
    }
  }
  return preview;
}

const json* ReadSample(http::ObjectReader& in) {
  const json* sample = in.Raw("sample");
  in.Describe("sample", {{"type", "object"}});
  if (sample != nullptr && !sample->is_object()) in.AddError("sample", "expected an object");
  return sample;
}

// The subject and body of a template of `doc`'s event type, checked against the samples.
void ReadTemplateBody(const json& body, json& doc) {
  http::ObjectReader in(body);
  doc["subject"] = in.RequiredString("subject", 1, 500);
  doc["body"] = in.RequiredString("body", 1, 20000);
  const json* sample = ReadSample(in);
  if (in.ok() && !in.describing()) {
    CheckTemplate(in, doc["event_type"], doc["subject"], doc["body"], sample);
  }
  in.Finish();
}

// The template a PUT names and carries, checked against the samples (404 for a bad path).
json ReadTemplate(const http::Request& request) {
  json doc = {{"event_type", request.Param("event_type")},
              {"channel", request.Param("channel")},
              {"locale", request.Param("locale")}};
  if (!ValidPattern(doc["event_type"])) {
    throw http::ApiError::NotFound("not an event type or prefix: " +
                                   doc["event_type"].get<std::string>());
  }
  if (doc["channel"] != "email" && doc["channel"] != "inbox") {
    throw http::ApiError::NotFound("templates exist for the email and inbox channels only");
  }
  if (doc["locale"] != "ja" && doc["locale"] != "en") {
    throw http::ApiError::NotFound("locale must be ja or en");
  }
  ReadTemplateBody(http::ParseJsonBody(request), doc);
  return doc;
}

// Stores `doc` as the next version of the record `current` (If-Match when there is one) and
// publishes the event `facts` gives; 201 for a first version, else 200.
http::Response PutVersion(
    store::Store& store, const http::Request& request, json doc,
    const std::function<std::optional<json>(store::Db&, const json&)>& current,
    const std::function<void(store::Db&, const json&)>& save,
    const std::function<aggregate::EventFacts(const json&)>& facts) {
  return store.Write([&](store::Db& tx) {
    std::int64_t version = 1;
    if (const auto stored = current(tx, doc)) {
      http::RequireIfMatch(request, (*stored)["version"].get<std::int64_t>());
      version = (*stored)["version"].get<std::int64_t>() + 1;
    }
    doc["version"] = version;
    doc["updated_at"] = util::NowRfc3339();
    save(tx, doc);
    Tables().events.Publish(tx, facts(doc), request.Header("traceparent"));
    return aggregate::DocResponse(doc, version == 1 ? 201 : 200);
  });
}

std::optional<json> StoredTemplate(store::Db& db, const json& doc) {
  return FindTemplate(db, doc["event_type"], doc["channel"], doc["locale"]);
}

aggregate::EventFacts TemplateSaved(const json& doc) {
  const std::string key = doc["event_type"].get<std::string>() + "/" +
                          doc["channel"].get<std::string>() + "/" +
                          doc["locale"].get<std::string>();
  return {"template", "saved", key, "templates/" + key,
          aggregate::Pick(doc, {"event_type", "channel", "locale", "version"})};
}

json ReadPreferences(const json& body, const std::string& recipient) {
  http::ObjectReader in(body);
  json doc = {{"recipient", recipient}, {"opt_out", in.StringArray("opt_out", true, 50, 100)}};
  if (const auto locale = in.OptionalEnum("locale", kLocales)) doc["locale"] = *locale;
  in.Finish();
  return doc;
}

// The address stays out of the event; analytics gets the categories only.
aggregate::EventFacts PreferencesUpdated(const json& doc) {
  const std::string ref = HmacSha256Hex("jilaf.preferences", doc["recipient"]).substr(0, 32);
  return {"preferences",
          "updated",
          ref,
          "preferences/" + ref,
          {{"recipient_ref", ref}, {"opt_out", doc["opt_out"]}, {"version", doc["version"]}}};
}

// The subject and body a preview renders: the body's, else the stored template's.
std::pair<std::string, std::string> PreviewTexts(store::Store& store, const std::string& event_type,
                                                 const std::string& channel,
                                                 const std::string& locale) {
  auto stored =
      store.Read([&](store::Db& db) { return FindTemplate(db, event_type, channel, locale); });
  if (!stored) {
    throw http::ApiError::NotFound("no " + channel + " template in " + locale + " for " +
                                   event_type);
  }
  return {(*stored)["subject"].get<std::string>(), (*stored)["body"].get<std::string>()};
}

// The subject and body of the stored template of (event type, channel, locale).
using StoredTexts = std::function<std::pair<std::string, std::string>(
    const std::string&, const std::string&, const std::string&)>;

// The preview a body asks for: its texts, else the stored template's, rendered against the
// samples.
json ReadPreview(const json& body, const StoredTexts& stored) {
  http::ObjectReader in(body);
  const std::string event_type = in.RequiredString("event_type", 1, 200);
  in.Refine("event_type", {{"pattern", kEventTypePattern}});
  const auto channel = in.OptionalEnum("channel", {"email", "inbox"});
  const auto locale = in.OptionalEnum("locale", kLocales);
  auto subject = in.OptionalString("subject", 500);
  auto text = in.OptionalString("body", 20000);
  const json* sample = ReadSample(in);
  if (!event_type.empty() && !ValidPattern(event_type)) in.AddError("event_type", "bad type");
  if ((!subject || !text) && (!channel || !locale)) {
    in.AddError("channel", "give subject and body, or channel and locale of a stored template");
  } else if ((!subject || !text) && in.ok()) {
    std::tie(subject, text) = stored(event_type, *channel, *locale);
  }
  json preview;
  if (in.ok() && !in.describing()) preview = CheckTemplate(in, event_type, *subject, *text, sample);
  in.Finish();
  return preview;
}

// A recipient's preferences are theirs: a caller reads and changes their own (the recipient is
// their user id), an admin anyone's; staff cannot silence another recipient, or a whole role.
void RequireOwnPreferencesOrAdmin(const http::Request& request) {
  const auto& caller = request.principal;
  if (caller.Has(auth::Role::kAdmin) || request.Param("recipient") == caller.subject) return;
  throw http::ApiError::Forbidden(
      "only an admin may read or change another recipient's preferences");
}

}  // namespace

void AddTemplateBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/TemplateInput", [](const json& body) {
                   json doc = {{"event_type", ""}};
                   ReadTemplateBody(body, doc);
                 }});
  out.push_back({"/components/schemas/PreviewInput", [](const json& body) {
                   (void)ReadPreview(
                       body, [](const std::string&, const std::string&, const std::string&) {
                         return std::pair<std::string, std::string>{};
                       });
                 }});
  out.push_back({"/components/schemas/PreferencesInput",
                 [](const json& body) { (void)ReadPreferences(body, ""); }});
}

http::Response PutTemplate(const http::Request& request, store::Store& store) {
  return PutVersion(store, request, ReadTemplate(request), StoredTemplate, SaveTemplate,
                    TemplateSaved);
}

http::Response ListTemplates(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Tables().templates, {});
}

http::Response PreviewTemplate(const http::Request& request, store::Store& store) {
  const auto stored = [&store](const std::string& type, const std::string& channel,
                               const std::string& locale) {
    return PreviewTexts(store, type, channel, locale);
  };
  return http::Response::Json(200, ReadPreview(http::ParseJsonBody(request), stored));
}

http::Response GetPreferences(const http::Request& request, store::Store& store) {
  RequireOwnPreferencesOrAdmin(request);
  const auto& recipient = request.Param("recipient");
  auto doc = store.Read([&](store::Db& db) { return FindPreferences(db, recipient); });
  if (!doc) throw http::ApiError::NotFound("no preferences recorded for " + recipient);
  return aggregate::DocResponse(*doc);
}

http::Response PutPreferences(const http::Request& request, store::Store& store) {
  RequireOwnPreferencesOrAdmin(request);
  return PutVersion(
      store, request, ReadPreferences(http::ParseJsonBody(request), request.Param("recipient")),
      [](store::Db& db, const json& doc) { return FindPreferences(db, doc["recipient"]); },
      SavePreferences, PreferencesUpdated);
}

}  // namespace jilaf::notifications
