// Routing rules: POST/GET /v1/rules, GET/PUT /v1/rules/{id}.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/http/json_input.hpp"
#include "common/http/resource.hpp"
#include "services/notifications/admin.hpp"
#include "services/notifications/queries.hpp"
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
  std::string below;  // "/address", or "" for the recipient itself
  std::string message;
};

// What is wrong with one recipient of a rule on `channel`, if anything.
std::optional<FieldError> RecipientError(store::Db& db, const std::string& kind,
                                         const std::string& value, const std::string& channel) {
  const bool email_kind = kind == "address" || kind == "pointer";
  if (kind == "address" && value.find('@') == std::string::npos) {
    return FieldError{"/address", "expected an email address"};
  }
  if (kind == "pointer" && !ValidPointer(value)) {
    return FieldError{"/pointer",
                      "expected a JSON pointer into the event data, e.g. "
                      "/nominating_organisation/contact_email"};
  }
  if (kind == "role" && std::find(kRoles.begin(), kRoles.end(), value) == kRoles.end()) {
    return FieldError{"/role", "expected viewer, staff, admin or service"};
  }
  if (kind == "endpoint" && !Webhooks().Find(db, value)) {
    return FieldError{"/endpoint", "no webhook endpoint with id " + value};
  }
  if (std::find(kRecipientKinds.begin(), kRecipientKinds.end(), kind) == kRecipientKinds.end()) {
    return FieldError{"", "unknown recipient kind " + kind};
  }
  if (channel == "email" && !email_kind) {
    return FieldError{"", "an email rule takes address or pointer recipients"};
  }
  if (channel == "inbox" && kind != "role" && kind != "user") {
    return FieldError{"", "an inbox rule takes role or user recipients"};
  }
  if (channel == "webhook" && kind != "endpoint") {
    return FieldError{"", "a webhook rule takes endpoint recipients"};
  }
  return std::nullopt;
}

json ReadRecipients(http::ObjectReader& in, store::Db& db, const std::string& channel) {
  json recipients = json::array();
  const json* raw = in.Raw("recipients");
  if (raw == nullptr || !raw->is_array() || raw->empty() || raw->size() > 50) {
    in.AddError("recipients", "expected an array of 1 to 50 recipients");
    return recipients;
  }
  for (std::size_t i = 0; i < raw->size(); ++i) {
    const json& r = (*raw)[i];
    const std::string field = "/" + std::to_string(i);
    if (!r.is_object() || r.size() != 1 || !r.begin().value().is_string()) {
      in.AddErrorBelow("recipients", field,
                       "expected one of {address}, {pointer}, {role}, {user}, {endpoint}");
    } else if (auto error = RecipientError(db, r.begin().key(), r.begin().value(), channel)) {
      in.AddErrorBelow("recipients", field + error->below, error->message);
    } else {
      recipients.push_back(r);
    }
  }
  return recipients;
}

// One condition, or nullopt after recording what is wrong with it.
std::optional<json> ReadCondition(http::ObjectReader& in, const json& cond,
                                  const std::string& field) {
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
  for (const auto& error : errors)
    in.AddErrorBelow("conditions", field + error.below, error.message);
  if (!errors.empty()) return std::nullopt;
  json item = {{"pointer", pointer}, {"op", op}};
  if (cond.contains("value")) item["value"] = cond["value"];
  return item;
}

json ReadConditions(http::ObjectReader& in) {
  json conditions = json::array();
  const json* c = in.Raw("conditions");
  if (c == nullptr) return conditions;
  if (!c->is_array() || c->size() > 20) {
    in.AddError("conditions", "expected an array of at most 20 conditions");
    return conditions;
  }
  for (std::size_t i = 0; i < c->size(); ++i) {
    const std::string field = "/" + std::to_string(i);
    if (!(*c)[i].is_object()) {
      in.AddErrorBelow("conditions", field, "expected {pointer, op, value}");
    } else if (auto item = ReadCondition(in, (*c)[i], field)) {
      conditions.push_back(std::move(*item));
    }
  }
  return conditions;
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

// The rule a body describes (every member a client sets), validated against the store.
json ReadRule(const json& body, store::Db& db) {
  http::ObjectReader in(body);
  json doc;
  doc["name"] = in.RequiredString("name", 1, 200);
  const std::string pattern = in.RequiredString("event_type", 1, 200);
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
  doc["recipients"] = ReadRecipients(in, db, channel);
  doc["conditions"] = ReadConditions(in);
  RequireTemplates(in, db, pattern, channel);
  in.Finish();
  return doc;
}

// Replaces every client-set member of `doc` with the body's; keeps id, version and times.
void ApplyBody(aggregate::Change& change, const json& body, json& doc) {
  json read = ReadRule(body, change.tx);
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

}  // namespace

http::Response CreateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  return aggregate::Create(
      store, request, RuleKind(), json::object(),
      [&](aggregate::Change& change, json& doc) { ApplyBody(change, body, doc); },
      RuleEvent("created"));
}

http::Response ListRules(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Rules(), {});
}

http::Response GetRule(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Rules(), request.Param("id"));
}

http::Response UpdateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, RuleKind(), request.Param("id"),
      [&](aggregate::Change& change, json& doc) { ApplyBody(change, body, doc); },
      RuleEvent("updated"));
}

}  // namespace jilaf::notifications
