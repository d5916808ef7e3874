// Routing rules, and the webhook endpoints their webhook deliveries go to.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/text.hpp"
#include "services/notifications/contract.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

const std::vector<std::string_view> kOps = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"};
const std::vector<std::string_view> kRoles = {"viewer", "staff", "admin", "service"};
const std::vector<std::string_view> kRecipientKinds = {"address", "pointer", "role", "user",
                                                       "endpoint"};

struct FieldError {
  std::string below;  // "/address", or "" for the item itself
  std::string message;
};

// What a rule's reader asks of the store, kept apart so that the body part can describe itself:
// whether a webhook endpoint exists, and the complaints about templates the rule needs.
struct RuleLookups {
  std::function<bool(const std::string& id)> endpoint_exists;
  std::function<void(http::ObjectReader&, const std::string& pattern, const std::string& channel)>
      require_templates;
};

// What is wrong with one recipient of a rule on `channel`, if anything.
std::vector<FieldError> RecipientErrors(const RuleLookups& lookups, const json& recipient,
                                        const std::string& channel) {
  if (!recipient.is_object() || recipient.size() != 1 || !recipient.begin().value().is_string()) {
    return {{"", "expected one of {address}, {pointer}, {role}, {user}, {endpoint}"}};
  }
  const std::string kind = recipient.begin().key();
  const std::string value = recipient.begin().value();
  const bool email_kind = kind == "address" || kind == "pointer";
  if (kind == "address" && !util::IsEmailAddress(value)) {
    return {{"/address", "expected an email address (no spaces, angle brackets or line breaks)"}};
  }
  if (kind == "pointer" && !ValidPointer(value)) {
    return {{"/pointer",
             "expected a JSON pointer into the event data, e.g. "
             "/nominating_organisation/contact_email"}};
  }
  if (kind == "role" && std::find(kRoles.begin(), kRoles.end(), value) == kRoles.end()) {
    return {{"/role", "expected viewer, staff, admin or service"}};
  }
  if (kind == "endpoint" && !lookups.endpoint_exists(value)) {
    return {{"/endpoint", "no webhook endpoint with id " + value}};
  }
  if (std::find(kRecipientKinds.begin(), kRecipientKinds.end(), kind) == kRecipientKinds.end()) {
    return {{"", "unknown recipient kind " + kind}};
  }
  if (channel == "email" && !email_kind) {
    return {{"", "an email rule takes address or pointer recipients"}};
  }
  if (channel == "inbox" && kind != "role" && kind != "user") {
    return {{"", "an inbox rule takes role or user recipients"}};
  }
  if (channel == "webhook" && kind != "endpoint") {
    return {{"", "a webhook rule takes endpoint recipients"}};
  }
  return {};
}

// The array `name` of `min` to `max` items (absent: empty when `min` is 0), each kept when
// `check` finds nothing wrong with it (its errors are recorded below "/<index>"). `check` may
// rewrite the item it keeps. Described as such an array of the component `item` (whose schema
// the document states: the check is code).
json ReadArray(http::ObjectReader& in, const char* name, std::size_t min, std::size_t max,
               const std::string& expected, const std::string& item,
               const std::function<std::vector<FieldError>(json&)>& check) {
  json items = json::array();
  if (in.describing()) {
    json schema = {{"type", "array"}, {"maxItems", max}, {"items", {{"$ref", item}}}};
    if (min > 0) schema["minItems"] = min;
    in.Describe(name, std::move(schema), min > 0);
    return items;
  }
  const json* raw = in.Raw(name);
  if (raw == nullptr && min == 0) return items;
  if (raw == nullptr || !raw->is_array() || raw->size() < min || raw->size() > max) {
    in.AddError(name, expected);
    return items;
  }
  for (std::size_t i = 0; i < raw->size(); ++i) {
    json item = (*raw)[i];
    const auto errors = check(item);
    for (const auto& error : errors) {
      in.AddErrorBelow(name, "/" + std::to_string(i) + error.below, error.message);
    }
    if (errors.empty()) items.push_back(std::move(item));
  }
  return items;
}

// What is wrong with one condition; when nothing is, makes it {pointer, op, value?}.
std::vector<FieldError> ConditionErrors(json& cond) {
  if (!cond.is_object()) return {{"", "expected {pointer, op, value}"}};
  auto text = [&cond](const char* key, const char* fallback) {
    return cond.contains(key) && cond[key].is_string() ? cond[key].get<std::string>()
                                                       : std::string(fallback);
  };
  const std::string pointer = text("pointer", "");
  const std::string op = text("op", "eq");
  std::vector<FieldError> errors;
  for (const auto& [key, unused] : cond.items()) {
    if (key != "pointer" && key != "op" && key != "value")
      errors.push_back({"/" + key, "unknown field"});
  }
  if (!ValidPointer(pointer)) {
    errors.push_back({"/pointer", "expected a JSON pointer into the event data"});
  }
  if (std::find(kOps.begin(), kOps.end(), op) == kOps.end()) {
    errors.push_back({"/op", "expected eq, ne, gt, gte, lt, lte, in or exists"});
  }
  if (!cond.contains("value") && op != "exists") {
    errors.push_back({"/value", "required for op " + op});
  }
  if (op == "in" && cond.contains("value") && !cond["value"].is_array()) {
    errors.push_back({"/value", "expected an array for op in"});
  }
  if (!errors.empty()) return errors;
  json item = {{"pointer", pointer}, {"op", op}};
  if (cond.contains("value")) item["value"] = cond["value"];
  cond = std::move(item);
  return errors;
}

// A missing template is an error now, not a broken message later: both locales must exist,
// since a recipient's preferred locale may override the rule's.
void RequireTemplates(http::ObjectReader& in, store::Db& db, const std::string& pattern,
                      const std::string& channel) {
  if ((channel != "email" && channel != "inbox") || !ValidPattern(pattern)) return;
  for (const auto& view : kLocales) {
    const std::string locale(view);
    if (FindTemplate(db, pattern, channel, locale)) continue;
    in.AddError("event_type", "no " + channel + " template in " + locale + " for " + pattern +
                                  "; PUT /v1/templates/" + pattern + "/" + channel + "/" + locale +
                                  " first");
  }
}

// The rule a body describes (every member a client sets), validated against `lookups`.
json ReadRule(const json& body, const RuleLookups& lookups) {
  http::ObjectReader in(body);
  json doc;
  doc["name"] = in.RequiredString("name", 1, 200);
  const std::string pattern = in.RequiredString("event_type", 1, 200);
  in.Refine("event_type", {{"pattern", kEventTypePattern}});
  if (!pattern.empty() && !ValidPattern(pattern)) {
    in.AddError("event_type", "must be an event type (lower case, dots) or a prefix ending in .*");
  }
  doc["event_type"] = pattern;
  const std::string channel = in.RequiredEnum("channel", kChannels);
  doc["channel"] = channel;
  doc["locale"] = in.OptionalEnum("locale", kLocales).value_or("en");
  doc["category"] = in.OptionalString("category", 100).value_or("general");
  doc["operational"] = in.OptionalBool("operational").value_or(false);
  doc["enabled"] = in.OptionalBool("enabled").value_or(true);
  doc["recipients"] = ReadArray(in, "recipients", 1, 50, "expected an array of 1 to 50 recipients",
                                "#/components/schemas/Recipient",
                                [&](json& r) { return RecipientErrors(lookups, r, channel); });
  doc["conditions"] =
      ReadArray(in, "conditions", 0, 20, "expected an array of at most 20 conditions",
                "#/components/schemas/Condition", ConditionErrors);
  lookups.require_templates(in, pattern, channel);
  in.Finish();
  return doc;
}

RuleLookups StoreLookups(store::Db& db) {
  return {[&db](const std::string& id) { return Tables().webhooks.Find(db, id).has_value(); },
          [&db](http::ObjectReader& in, const std::string& pattern, const std::string& channel) {
            RequireTemplates(in, db, pattern, channel);
          }};
}

// Replaces every client-set member of `doc` with the body's; keeps id, version and times.
void ApplyBody(aggregate::Change& change, const json& body, json& doc) {
  json read = ReadRule(body, StoreLookups(change.tx));
  for (const char* kept : {"id", "version", "created_at", "updated_at"}) {
    if (doc.contains(kept)) read[kept] = doc[kept];
  }
  doc = std::move(read);
}

aggregate::Announce RuleEvent(const char* what) {
  return [what](aggregate::Change& change, const json& doc) {
    const std::string id = doc["id"];
    json data = aggregate::Pick(
        doc, {"event_type", "channel", "category", "operational", "enabled", "version"});
    data["rule_id"] = id;
    change.Emit({"rule", what, id, "rules/" + id, std::move(data)});
  };
}

struct NewWebhook {
  json doc;
  std::string secret;
};

NewWebhook ReadWebhook(const json& body, const EgressPolicy& egress) {
  http::ObjectReader in(body);
  const std::string url = in.RequiredString("url", 8, 2000);
  in.Refine("url", {{"format", "uri"}});
  if (!url.empty()) {
    // Refused now where it is knowable; a name that does not resolve yet is checked again at
    // every delivery (PostWebhook).
    const auto check = ResolveWebhookUrl(url, egress);
    if (!check.ok && check.category != "dns") in.AddError("url", check.reason);
  }
  const auto description = in.OptionalString("description", 500);
  auto secret = in.OptionalString("secret", 200);
  in.Refine("secret", {{"minLength", 16}});
  if (secret && http::CharacterCount(*secret) < 16)
    in.AddError("secret", "must be at least 16 characters");
  in.Finish();
  json doc = {{"url", url}};
  if (description) doc["description"] = *description;
  return {std::move(doc), secret.value_or("whsec_" + util::RandomHex(24))};
}

}  // namespace

void AddRuleBodies(std::vector<http::BodyContract>& out) {
  // Described without a store: every lookup finds what it looks for.
  const RuleLookups none{[](const std::string&) { return true; },
                         [](http::ObjectReader&, const std::string&, const std::string&) {}};
  out.push_back(
      {"/components/schemas/RuleInput", [none](const json& body) { (void)ReadRule(body, none); }});
  out.push_back({"/components/schemas/WebhookInput",
                 [](const json& body) { (void)ReadWebhook(body, EgressPolicy{}); }});
}

http::Response CreateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  return aggregate::Create(
      store, request, Tables().rule, json::object(),
      [&](aggregate::Change& change, json& doc) { ApplyBody(change, body, doc); },
      RuleEvent("created"));
}

http::Response ListRules(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Tables().rules, {});
}

http::Response GetRule(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Tables().rules, request.Param("id"));
}

http::Response UpdateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().rule, request.Param("id"),
      [&](aggregate::Change& change, json& doc) { ApplyBody(change, body, doc); },
      RuleEvent("updated"));
}

namespace {

// The secret is shown at registration; the response recorded for Idempotency-Key replays leaves
// it out, and a replay reads it back from the sealed webhook_secrets row (docs/api.md).
http::ReplayHooks WebhookReplayHooks(store::Db& tx, const crypto::FieldCipher& cipher) {
  return {[](const http::Response& response) {
            auto body = json::parse(response.body, nullptr, false);
            if (body.is_object()) body.erase("secret");
            return body.dump();
          },
          [&tx, &cipher](http::Response& replay) {
            auto body = json::parse(replay.body, nullptr, false);
            if (!body.is_object() || !body.contains("id")) return;
            if (auto secret = LoadWebhookSecret(tx, cipher, body["id"])) body["secret"] = *secret;
            replay.body = body.dump();
          }};
}

json RegisterWebhook(store::Db& tx, const crypto::FieldCipher& cipher, const NewWebhook& hook,
                     const http::Request& request) {
  json doc = hook.doc;
  const std::string id = util::NewTimeOrderedUuid();
  doc["id"] = id;
  doc["created_at"] = util::NowRfc3339();
  Tables().webhooks.Insert(tx, doc);
  SaveWebhookSecret(tx, cipher, id, hook.secret);
  Tables().events.Publish(tx, {"webhook", "registered", id, "webhooks/" + id, {{"webhook_id", id}}},
                          request.Header("traceparent"));
  return doc;
}

}  // namespace

http::Response CreateWebhook(const http::Request& request, store::Store& store,
                             const EgressPolicy& egress, const crypto::FieldCipher& cipher) {
  auto hook = ReadWebhook(http::ParseJsonBody(request), egress);
  return store.Write([&](store::Db& tx) {
    auto create = [&] {
      json doc = RegisterWebhook(tx, cipher, hook, request);
      doc["secret"] = hook.secret;  // shown at registration (and to a replay of it)
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", Tables().webhooks.Location(doc));
      return response;
    };
    return http::RunIdempotent(tx, request, create, WebhookReplayHooks(tx, cipher));
  });
}

http::Response ListWebhooks(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Tables().webhooks, {});
}

// The secret stays out: it lives in webhook_secrets and is shown only at registration.
http::Response GetWebhook(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Tables().webhooks, request.Param("id"));
}

}  // namespace jilaf::notifications
