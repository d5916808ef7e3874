#include "services/notifications/admin.hpp"

#include <nlohmann/json.hpp>

#include <openssl/rand.h>
#include <algorithm>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "common/util/clock.hpp"
#include "common/util/embedded.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/schema.hpp"
#include "services/notifications/signature.hpp"

JILAF_EMBEDDED(notifications_samples)

namespace jilaf::notifications {
namespace {

using nlohmann::json;

const std::vector<std::string_view> kChannels = {"email", "webhook", "inbox"};
const std::vector<std::string_view> kLocales = {"ja", "en"};
const std::vector<std::string_view> kOps = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"};
const std::vector<std::string_view> kRoles = {"viewer", "staff", "admin", "service"};

void Emit(store::Db& tx, const std::string& what, const std::string& key,
          const std::string& subject, json data, const http::Request& request) {
  events::AppendToOutbox(
      tx, std::string(kEventsTopic),
      events::MakeEvent(std::string(kEventSource), "jilaf.notifications." + what, key, subject,
                        "/schemas/notifications/" + what + "/v1.json", std::move(data),
                        std::string(request.Header("traceparent"))));
}

bool ValidPattern(const std::string& pattern) {
  if (pattern.empty() || pattern.size() > 200) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (c == '*') {
      if (i != pattern.size() - 1 || (i > 0 && pattern[i - 1] != '.')) return false;
    } else if (!ok) {
      return false;
    }
  }
  return true;
}

bool ValidPointer(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') return false;
  try {
    (void)json::json_pointer(pointer);
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

bool TemplateExists(store::Db& db, const std::string& event_type, const std::string& channel,
                    const std::string& locale) {
  auto stmt =
      db.Prepare("SELECT 1 FROM templates WHERE event_type = ? AND channel = ? AND locale = ?");
  stmt.Bind(1, event_type).Bind(2, channel).Bind(3, locale);
  return stmt.Step();
}

bool WebhookExists(store::Db& db, const std::string& id) {
  auto stmt = db.Prepare("SELECT 1 FROM webhooks WHERE id = ?");
  stmt.Bind(1, id);
  return stmt.Step();
}

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
  json recipients = json::array();
  const json* raw = in.Raw("recipients");
  if (raw == nullptr || !raw->is_array() || raw->empty() || raw->size() > 50) {
    in.AddError("recipients", "expected an array of 1 to 50 recipients");
  } else {
    for (std::size_t i = 0; i < raw->size(); ++i) {
      const json& r = (*raw)[i];
      const std::string field = "/" + std::to_string(i);
      if (!r.is_object() || r.size() != 1 || !r.begin().value().is_string()) {
        in.AddErrorBelow("recipients", field,
                         "expected one of {address}, {pointer}, {role}, {user}, {endpoint}");
        continue;
      }
      const std::string kind = r.begin().key();
      const std::string value = r.begin().value();
      const bool email_kind = kind == "address" || kind == "pointer";
      if (kind == "address" && value.find('@') == std::string::npos) {
        in.AddErrorBelow("recipients", field + "/address", "expected an email address");
      } else if (kind == "pointer" && !ValidPointer(value)) {
        in.AddErrorBelow("recipients", field + "/pointer",
                         "expected a JSON pointer into the event data, e.g. "
                         "/nominating_organisation/contact_email");
      } else if (kind == "role" && std::find(kRoles.begin(), kRoles.end(), value) == kRoles.end()) {
        in.AddErrorBelow("recipients", field + "/role", "expected viewer, staff, admin or service");
      } else if (kind == "endpoint" && !WebhookExists(db, value)) {
        in.AddErrorBelow("recipients", field + "/endpoint", "no webhook endpoint with id " + value);
      } else if (kind != "address" && kind != "pointer" && kind != "role" && kind != "user" &&
                 kind != "endpoint") {
        in.AddErrorBelow("recipients", field, "unknown recipient kind " + kind);
      } else if ((channel == "email" && !email_kind) ||
                 (channel == "inbox" && kind != "role" && kind != "user") ||
                 (channel == "webhook" && kind != "endpoint")) {
        in.AddErrorBelow("recipients", field,
                         channel == "email"   ? "an email rule takes address or pointer recipients"
                         : channel == "inbox" ? "an inbox rule takes role or user recipients"
                                              : "a webhook rule takes endpoint recipients");
      } else {
        recipients.push_back(r);
      }
    }
  }
  doc["recipients"] = recipients;
  json conditions = json::array();
  if (const json* c = in.Raw("conditions")) {
    if (!c->is_array() || c->size() > 20) {
      in.AddError("conditions", "expected an array of at most 20 conditions");
    } else {
      for (std::size_t i = 0; i < c->size(); ++i) {
        const std::string field = "/" + std::to_string(i);
        if (!(*c)[i].is_object()) {
          in.AddErrorBelow("conditions", field, "expected {pointer, op, value}");
          continue;
        }
        const json& cond = (*c)[i];
        auto text = [&cond](const char* key, const char* fallback) {
          return cond.contains(key) && cond[key].is_string() ? cond[key].get<std::string>()
                                                             : std::string(fallback);
        };
        const std::string pointer = text("pointer", "");
        const std::string op = text("op", "eq");
        bool ok = true;
        for (const auto& [key, unused] : cond.items()) {
          if (key != "pointer" && key != "op" && key != "value") {
            in.AddErrorBelow("conditions", field + "/" + key, "unknown field");
            ok = false;
          }
        }
        if (!ValidPointer(pointer)) {
          in.AddErrorBelow("conditions", field + "/pointer",
                           "expected a JSON pointer into the event data");
          ok = false;
        }
        if (std::find(kOps.begin(), kOps.end(), op) == kOps.end()) {
          in.AddErrorBelow("conditions", field + "/op",
                           "expected eq, ne, gt, gte, lt, lte, in or exists");
          ok = false;
        }
        if (!cond.contains("value") && op != "exists") {
          in.AddErrorBelow("conditions", field + "/value", "required for op " + op);
          ok = false;
        }
        if (op == "in" && cond.contains("value") && !cond["value"].is_array()) {
          in.AddErrorBelow("conditions", field + "/value", "expected an array for op in");
          ok = false;
        }
        if (ok) {
          json item = {{"pointer", pointer}, {"op", op}};
          if (cond.contains("value")) item["value"] = cond["value"];
          conditions.push_back(item);
        }
      }
    }
  }
  doc["conditions"] = conditions;
  // A missing template is an error now, not a broken message later: both locales must exist,
  // since a recipient's preferred locale may override the rule's.
  if ((channel == "email" || channel == "inbox") && ValidPattern(pattern)) {
    for (const auto& locale : kLocales) {
      if (!TemplateExists(db, pattern, channel, std::string(locale))) {
        in.AddError("event_type", "no " + channel + " template in " + std::string(locale) +
                                      " for " + pattern + "; PUT /v1/templates/" + pattern + "/" +
                                      channel + "/" + std::string(locale) + " first");
      }
    }
  }
  in.Finish();
  return doc;
}

void StoreRule(store::Db& tx, const json& doc, bool insert) {
  auto stmt =
      tx.Prepare(insert ? "INSERT INTO rules(enabled, version, doc, id) VALUES (?, ?, ?, ?)"
                        : "UPDATE rules SET enabled = ?, version = ?, doc = ? WHERE id = ?");
  stmt.Bind(1, doc["enabled"].get<bool>() ? 1 : 0)
      .Bind(2, doc["version"].get<std::int64_t>())
      .Bind(3, doc.dump())
      .Bind(4, doc["id"].get<std::string>());
  stmt.Run();
}

json RuleEventData(const json& doc) {
  return {{"rule_id", doc["id"]},
          {"event_type", doc["event_type"]},
          {"channel", doc["channel"]},
          {"category", doc["category"]},
          {"operational", doc["operational"]},
          {"enabled", doc["enabled"]},
          {"version", doc["version"]}};
}

const json& Samples() {
  static const json samples = json::parse(embedded::notifications_samples);
  return samples;
}

std::string RandomSecret() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "whsec_";
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

// The sample events a template is checked against: the caller's, else every built-in sample of
// a type the template's event type selects.
std::vector<events::CloudEvent> SampleEvents(const std::string& pattern, const json* sample) {
  std::vector<events::CloudEvent> out;
  auto make = [&](const std::string& type, const json& data) {
    events::CloudEvent event;
    event.id = "00000000-0000-4000-8000-000000000000";
    event.type = type;
    event.source = "/jilaf/sample";
    event.subject = "samples/1";
    event.time = "2026-01-01T00:00:00.000Z";
    event.data = data;
    out.push_back(event);
  };
  if (sample != nullptr) {
    make(pattern.back() == '*' ? pattern.substr(0, pattern.size() - 1) + "sample" : pattern,
         *sample);
    return out;
  }
  for (const auto& [type, data] : Samples().items()) {
    if (TypeMatches(pattern, type)) make(type, data);
  }
  return out;
}

// Renders subject and body against every sample; records field errors for what is missing.
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
    const json context = TemplateContext(event);
    for (const auto& [field, text] : {std::pair{"subject", &subject}, std::pair{"body", &body}}) {
      const auto rendered = Render(*text, context);
      if (!rendered.error.empty()) {
        in.AddError(field, "mustache syntax: " + rendered.error);
      } else if (!rendered.ok) {
        for (const auto& name : rendered.missing) {
          in.AddError(field, "{{" + name + "}} is not a field of " + event.type + " events");
        }
      }
      if (preview.is_null() || !preview.contains(field)) preview[field] = rendered.text;
    }
  }
  return preview;
}

}  // namespace

http::Response CreateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      json doc = ReadRule(body, tx);
      doc["id"] = events::NewTimeOrderedUuid();
      doc["version"] = 1;
      doc["created_at"] = doc["updated_at"] = util::NowRfc3339();
      StoreRule(tx, doc, true);
      const std::string id = doc["id"];
      Emit(tx, "rule.created", id, "rules/" + id, RuleEventData(doc), request);
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", "/v1/rules/" + id);
      response.SetHeader("ETag", http::MakeEtag(1));
      return response;
    });
  });
}

http::Response ListRules(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare("SELECT seq, doc FROM rules WHERE seq > ? ORDER BY seq LIMIT ?");
    stmt.Bind(1, page.after.value_or(0)).Bind(2, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetRule(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM rules WHERE id = ?", id);
  });
  if (!doc) throw http::ApiError::NotFound("no rule with id " + id);
  auto response = http::Response::Json(200, *doc);
  response.SetHeader("ETag", http::MakeEtag((*doc)["version"].get<std::int64_t>()));
  return response;
}

http::Response UpdateRule(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  const auto& id = request.Param("id");
  return store.Write([&](store::Db& tx) {
    auto current = store::LoadJsonDoc(tx, "SELECT doc FROM rules WHERE id = ?", id);
    if (!current) throw http::ApiError::NotFound("no rule with id " + id);
    const auto version = (*current)["version"].get<std::int64_t>();
    http::RequireIfMatch(request, version);
    json doc = ReadRule(body, tx);
    doc["id"] = id;
    doc["version"] = version + 1;
    doc["created_at"] = current->value("created_at", util::NowRfc3339());
    doc["updated_at"] = util::NowRfc3339();
    StoreRule(tx, doc, false);
    Emit(tx, "rule.updated", id, "rules/" + id, RuleEventData(doc), request);
    auto response = http::Response::Json(200, doc);
    response.SetHeader("ETag", http::MakeEtag(version + 1));
    return response;
  });
}

http::Response PutTemplate(const http::Request& request, store::Store& store) {
  const std::string event_type = request.Param("event_type");
  const std::string channel = request.Param("channel");
  const std::string locale = request.Param("locale");
  if (!ValidPattern(event_type)) {
    throw http::ApiError::NotFound("not an event type or prefix: " + event_type);
  }
  if (channel != "email" && channel != "inbox") {
    throw http::ApiError::NotFound("templates exist for the email and inbox channels only");
  }
  if (locale != "ja" && locale != "en") throw http::ApiError::NotFound("locale must be ja or en");
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const std::string subject = in.RequiredString("subject", 1, 500);
  const std::string text = in.RequiredString("body", 1, 20000);
  const json* sample = in.Raw("sample");
  if (sample != nullptr && !sample->is_object()) in.AddError("sample", "expected an object");
  if (in.ok()) CheckTemplate(in, event_type, subject, text, sample);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto existing = tx.Prepare(
        "SELECT version FROM templates WHERE event_type = ? AND channel = ? AND locale = ?");
    existing.Bind(1, event_type).Bind(2, channel).Bind(3, locale);
    std::int64_t version = 1;
    if (existing.Step()) {
      http::RequireIfMatch(request, existing.Int(0));
      version = existing.Int(0) + 1;
    }
    const json doc = {{"event_type", event_type},
                      {"channel", channel},
                      {"locale", locale},
                      {"subject", subject},
                      {"body", text},
                      {"version", version},
                      {"updated_at", util::NowRfc3339()}};
    auto upsert = tx.Prepare(
        "INSERT INTO templates(event_type, channel, locale, version, doc) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(event_type, channel, locale) DO UPDATE SET version = excluded.version,"
        " doc = excluded.doc");
    upsert.Bind(1, event_type)
        .Bind(2, channel)
        .Bind(3, locale)
        .Bind(4, version)
        .Bind(5, doc.dump());
    upsert.Run();
    const std::string key = event_type + "/" + channel + "/" + locale;
    Emit(tx, "template.saved", key, "templates/" + key,
         {{"event_type", event_type},
          {"channel", channel},
          {"locale", locale},
          {"version", version}},
         request);
    auto response = http::Response::Json(version == 1 ? 201 : 200, doc);
    response.SetHeader("ETag", http::MakeEtag(version));
    return response;
  });
}

http::Response ListTemplates(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare("SELECT seq, doc FROM templates WHERE seq > ? ORDER BY seq LIMIT ?");
    stmt.Bind(1, page.after.value_or(0)).Bind(2, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response PreviewTemplate(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const std::string event_type = in.RequiredString("event_type", 1, 200);
  const auto channel = in.OptionalEnum("channel", {"email", "inbox"});
  const auto locale = in.OptionalEnum("locale", kLocales);
  auto subject = in.OptionalString("subject", 500);
  auto text = in.OptionalString("body", 20000);
  const json* sample = in.Raw("sample");
  if (sample != nullptr && !sample->is_object()) in.AddError("sample", "expected an object");
  if (!event_type.empty() && !ValidPattern(event_type)) in.AddError("event_type", "bad type");
  if (!subject || !text) {
    // Preview a stored template.
    if (!channel || !locale) {
      in.AddError("channel", "give subject and body, or channel and locale of a stored template");
    } else if (in.ok()) {
      auto stored = store.Read([&](store::Db& db) {
        auto stmt = db.Prepare(
            "SELECT doc FROM templates WHERE event_type = ? AND channel = ? AND locale = ?");
        stmt.Bind(1, event_type).Bind(2, *channel).Bind(3, *locale);
        return stmt.Step() ? std::optional<json>(json::parse(stmt.Text(0))) : std::nullopt;
      });
      if (!stored) {
        throw http::ApiError::NotFound("no " + *channel + " template in " + *locale + " for " +
                                       event_type);
      }
      subject = (*stored)["subject"].get<std::string>();
      text = (*stored)["body"].get<std::string>();
    }
  }
  json preview;
  if (in.ok()) preview = CheckTemplate(in, event_type, *subject, *text, sample);
  in.Finish();
  return http::Response::Json(200, preview);
}

http::Response CreateWebhook(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const std::string url = in.RequiredString("url", 8, 2000);
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    in.AddError("url", "expected an http:// or https:// URL");
  }
  const auto description = in.OptionalString("description", 500);
  auto secret = in.OptionalString("secret", 200);
  if (secret && secret->size() < 16) in.AddError("secret", "must be at least 16 characters");
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const std::string id = events::NewTimeOrderedUuid();
      json doc = {{"id", id}, {"url", url}, {"created_at", util::NowRfc3339()}};
      if (description) doc["description"] = *description;
      const std::string key = secret.value_or(RandomSecret());
      auto insert = tx.Prepare("INSERT INTO webhooks(id, url, secret, doc) VALUES (?, ?, ?, ?)");
      insert.Bind(1, id).Bind(2, url).Bind(3, key).Bind(4, doc.dump());
      insert.Run();
      Emit(tx, "webhook.registered", id, "webhooks/" + id, {{"webhook_id", id}}, request);
      json shown = doc;
      shown["secret"] = key;  // shown once, at registration
      auto response = http::Response::Json(201, shown);
      response.SetHeader("Location", "/v1/webhooks/" + id);
      return response;
    });
  });
}

http::Response ListWebhooks(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare("SELECT seq, doc FROM webhooks WHERE seq > ? ORDER BY seq LIMIT ?");
    stmt.Bind(1, page.after.value_or(0)).Bind(2, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetPreferences(const http::Request& request, store::Store& store) {
  const auto& recipient = request.Param("recipient");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM preferences WHERE recipient = ?", recipient);
  });
  if (!doc) throw http::ApiError::NotFound("no preferences recorded for " + recipient);
  auto response = http::Response::Json(200, *doc);
  response.SetHeader("ETag", http::MakeEtag((*doc)["version"].get<std::int64_t>()));
  return response;
}

http::Response PutPreferences(const http::Request& request, store::Store& store) {
  const auto& recipient = request.Param("recipient");
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const auto opt_out = in.StringArray("opt_out", true, 50, 100);
  const auto locale = in.OptionalEnum("locale", kLocales);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto current =
        store::LoadJsonDoc(tx, "SELECT doc FROM preferences WHERE recipient = ?", recipient);
    std::int64_t version = 1;
    if (current) {
      http::RequireIfMatch(request, (*current)["version"].get<std::int64_t>());
      version = (*current)["version"].get<std::int64_t>() + 1;
    }
    json doc = {{"recipient", recipient},
                {"opt_out", opt_out},
                {"version", version},
                {"updated_at", util::NowRfc3339()}};
    if (locale) doc["locale"] = *locale;
    auto upsert = tx.Prepare(
        "INSERT INTO preferences(recipient, version, doc) VALUES (?, ?, ?)"
        " ON CONFLICT(recipient) DO UPDATE SET version = excluded.version, doc = excluded.doc");
    upsert.Bind(1, recipient).Bind(2, version).Bind(3, doc.dump());
    upsert.Run();
    // The address stays out of the event; analytics gets the categories only.
    const std::string ref = HmacSha256Hex("jilaf.preferences", recipient).substr(0, 32);
    Emit(tx, "preferences.updated", ref, "preferences/" + ref,
         {{"recipient_ref", ref}, {"opt_out", opt_out}, {"version", version}}, request);
    auto response = http::Response::Json(version == 1 ? 201 : 200, doc);
    response.SetHeader("ETag", http::MakeEtag(version));
    return response;
  });
}

}  // namespace jilaf::notifications
