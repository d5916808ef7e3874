#include "services/notifications/deliveries.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <tuple>

#include "common/aggregate/search.hpp"
#include "common/aggregate/view.hpp"
#include "common/domain/state_machine.hpp"
#include "common/events/outbox.hpp"
#include "common/http/problem.hpp"
#include "common/log/log.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/text.hpp"
#include "services/notifications/catalogue.hpp"
#include "services/notifications/contract.hpp"
#include "services/notifications/endpoint_pool.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/signature.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

const domain::StateMachine& DeliveryStates() {
  static const domain::StateMachine machine("delivery", {{"pending", {"sent", "retrying", "dead"}},
                                                         {"retrying", {"sent", "retrying", "dead"}},
                                                         {"dead", {"pending"}},
                                                         {"sent", {}},
                                                         {"suppressed", {}}});
  return machine;
}

// Publishes a delivery's outcome for analytics, in the transaction that recorded it. Addresses
// stay out of the event: analytics needs the channel and the outcome, not the mailbox.
void EmitOutcome(store::Db& tx, const json& delivery, const std::string& what) {
  json data = aggregate::Pick(
      delivery, {"event_id", "event_type", "rule_id", "channel", "category", "status", "attempts"});
  data["delivery_id"] = delivery["id"];
  data["recipient_kind"] = delivery["recipient"]["kind"];
  if (delivery.contains("last_error")) data["error"] = delivery["last_error"];
  const std::string id = delivery["id"];
  Tables().events.Publish(tx, {"delivery", what, id, "deliveries/" + id, std::move(data)}, {});
}

// What planning one event needs: the transaction, the event, and the catalogue of rules and
// compiled templates; the template data is converted once, when a first rule needs it.
struct EventPlan {
  store::Db& tx;
  const events::CloudEvent& event;
  const events::MessageOrigin& origin;
  DeliveryMetrics& metrics;
  Catalogue& catalogue;
  std::optional<TemplateData> data;

  const TemplateData& Data() {
    if (!data) data.emplace(event);
    return *data;
  }
};

// The template of the event's own type, else the one of the rule's pattern.
const MessageTemplate& MatchTemplate(EventPlan& plan, const std::string& pattern,
                                     const std::string& channel, const std::string& locale) {
  for (const auto& key : {plan.event.type, pattern}) {
    if (const auto* found = plan.catalogue.FindMessage(plan.tx, key, channel, locale)) {
      return *found;
    }
  }
  throw std::invalid_argument("no " + channel + " template in " + locale + " for " +
                              plan.event.type);
}

std::pair<std::string, std::string> RenderMessage(const MessageTemplate& tmpl,
                                                  const TemplateData& data) {
  auto subject = tmpl.subject.Render(data);
  auto body = tmpl.body.Render(data);
  for (const auto* part : {&subject, &body}) {
    if (!part->ok) {
      std::string missing;
      for (const auto& name : part->missing) missing += (missing.empty() ? "" : ", ") + name;
      throw std::invalid_argument("template " + tmpl.event_type + "/" + tmpl.channel + "/" +
                                  tmpl.locale + ": " +
                                  (part->error.empty() ? "event lacks " + missing : part->error));
    }
  }
  return {std::move(subject.text), std::move(body.text)};
}

bool OptedOut(const std::optional<json>& prefs, const std::string& category) {
  if (!prefs || !prefs->contains("opt_out")) return false;
  for (const auto& item : (*prefs)["opt_out"]) {
    if (item == category) return true;
  }
  return false;
}

json StructuredEvent(const events::CloudEvent& event) {
  return {{"specversion", "1.0"},
          {"id", event.id},
          {"source", event.source},
          {"type", event.type},
          {"subject", event.subject},
          {"time", event.time},
          {"dataschema", event.dataschema},
          {"datacontenttype", "application/json"},
          {"data", event.data}};
}

// Appends `"key":<value as JSON string>` (and the comma before it unless first).
void Member(std::string& out, std::string_view key, std::string_view value) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
  util::AppendJsonString(out, value);
}

// Appends `"key":<raw JSON>` (a number, a literal or a document already written).
void RawMember(std::string& out, std::string_view key, std::string_view raw) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
  out += raw;
}

// A delivery planned from an event, kept as strings: its document is written as text once,
// with no JSON tree built only to be dumped.
struct Planned {
  Planned(const events::CloudEvent& of, const std::string& rule, const Recipient& to)
      : id(util::NewTimeOrderedUuid()), event(of), rule_id(rule), recipient(to) {}

  std::string id;
  const events::CloudEvent& event;
  const std::string& rule_id;
  const Recipient& recipient;
  std::string channel;
  std::string category;
  bool operational = false;
  std::string locale;
  std::string status = "pending";
  std::string created_at;
  std::string payload;  // webhook
  std::string subject;  // email, inbox
  std::string body;

  [[nodiscard]] DeliveryKeys Keys() const {
    return {id, event.id, rule_id, recipient.kind, recipient.address, channel, status};
  }
};

// The delivery's document as text, its members in the order nlohmann::json dumps them (by
// name), so the bytes are those of NewDelivery's document with its content, dumped.
std::string DeliveryDocument(const Planned& d) {
  std::string doc = "{";
  doc.reserve(256 + d.payload.size() + d.subject.size() + d.body.size());
  RawMember(doc, "attempts", "0");
  Member(doc, "category", d.category);
  Member(doc, "channel", d.channel);
  if (d.channel == "webhook" && d.status != "suppressed") {
    doc += ",\"content\":{";
    Member(doc, "payload", d.payload);
    doc += '}';
  } else if (d.status != "suppressed") {
    doc += ",\"content\":{";
    Member(doc, "body", d.body);
    Member(doc, "subject", d.subject);
    doc += '}';
  }
  Member(doc, "created_at", d.created_at);
  Member(doc, "event_id", d.event.id);
  Member(doc, "event_type", d.event.type);
  RawMember(doc, "history", "[]");
  Member(doc, "id", d.id);
  Member(doc, "locale", d.locale);
  RawMember(doc, "operational", d.operational ? "true" : "false");
  doc += ",\"recipient\":{";
  Member(doc, "address", d.recipient.address);
  Member(doc, "kind", d.recipient.kind);
  doc += '}';
  Member(doc, "rule_id", d.rule_id);
  Member(doc, "status", d.status);
  Member(doc, "updated_at", d.created_at);
  doc += '}';
  return doc;
}

// EmitOutcome's event for a delivery just planned (attempts 0, no error yet), its payload
// written as text in the order nlohmann::json dumps its members (by name).
void EmitPlannedOutcome(store::Db& tx, const Planned& d, const std::string& what) {
  std::string data = "{";
  data.reserve(320);
  RawMember(data, "attempts", "0");
  Member(data, "category", d.category);
  Member(data, "channel", d.channel);
  Member(data, "delivery_id", d.id);
  Member(data, "event_id", d.event.id);
  Member(data, "event_type", d.event.type);
  Member(data, "recipient_kind", d.recipient.kind);
  Member(data, "rule_id", d.rule_id);
  Member(data, "status", d.status);
  data += '}';
  // The publisher makes the envelope; the payload goes to the outbox as written.
  const auto& publisher = Tables().events;
  events::AppendToOutbox(
      tx, publisher.topic(),
      publisher.Make({"delivery", what, d.id, "deliveries/" + d.id, nullptr}, {}), data);
}

// The inbox item's document as text, its members in the order nlohmann::json dumps them (by
// name), so the bytes are those of the same item built as JSON and dumped.
void WriteInboxItem(store::Db& tx, const Planned& delivery, const events::MessageOrigin& origin) {
  const auto& event = delivery.event;
  const auto& address = delivery.recipient.address;
  const std::string audience = delivery.recipient.kind == "role" ? address : "user:" + address;
  const std::string id = util::NewTimeOrderedUuid();
  const std::string& created_at = delivery.created_at;
  std::string doc = "{";
  doc.reserve(1024);
  Member(doc, "audience", audience);
  Member(doc, "body", delivery.body);
  Member(doc, "category", delivery.category);
  Member(doc, "created_at", created_at);
  Member(doc, "delivery_id", delivery.id);
  doc += ",\"event\":{";
  Member(doc, "id", event.id);
  Member(doc, "source", event.source);
  Member(doc, "subject", event.subject);
  Member(doc, "time", event.time);
  Member(doc, "topic", origin.topic);
  Member(doc, "type", event.type);
  doc += '}';
  Member(doc, "id", id);
  Member(doc, "locale", delivery.locale);
  Member(doc, "title", delivery.subject);
  doc += '}';
  InsertInboxItem(tx, id, doc, event.id, audience, created_at);
}

json NewDelivery(const std::string& event_id, const std::string& event_type,
                 const std::string& rule_id, const Recipient& recipient, const std::string& channel,
                 const std::string& category, bool operational, const std::string& locale) {
  const std::string now = util::NowRfc3339();
  return {{"id", util::NewTimeOrderedUuid()},
          {"event_id", event_id},
          {"event_type", event_type},
          {"rule_id", rule_id},
          {"recipient", {{"kind", recipient.kind}, {"address", recipient.address}}},
          {"channel", channel},
          {"category", category},
          {"operational", operational},
          {"locale", locale},
          {"status", "pending"},
          {"attempts", 0},
          {"history", json::array()},
          {"created_at", now},
          {"updated_at", now}};
}

// The delivery of `event` under `rule` to one recipient, with its content (or suppressed).
Planned PlannedDelivery(EventPlan& plan, const json& rule, const Recipient& recipient) {
  Planned d(plan.event, rule["id"].get_ref<const std::string&>(), recipient);
  d.channel = rule["channel"];
  d.category = rule.value("category", "general");
  d.operational = rule.value("operational", false);
  d.created_at = util::NowRfc3339();
  const auto prefs = FindPreferences(plan.tx, recipient.address);
  d.locale = prefs && prefs->contains("locale") ? (*prefs)["locale"].get<std::string>()
                                                : rule.value("locale", "en");
  if (!d.operational && OptedOut(prefs, d.category)) {
    d.status = "suppressed";
  } else if (d.channel == "webhook") {
    d.payload = StructuredEvent(plan.event).dump();
  } else {
    const auto& tmpl = MatchTemplate(plan, rule["event_type"], d.channel, d.locale);
    std::tie(d.subject, d.body) = RenderMessage(tmpl, plan.Data());
    if (d.channel == "inbox") d.status = "sent";
  }
  return d;
}

void PlanRule(EventPlan& plan, const json& rule) {
  const auto& event = plan.event;
  std::vector<std::string> skipped;
  const auto recipients = ResolveRecipients(rule["recipients"], event.data, &skipped);
  for (const auto& pointer : skipped) {
    log::Warn("recipient pointer resolves to nothing; no delivery for it",
              {{"rule_id", rule["id"]}, {"event_id", event.id}, {"pointer", pointer}});
  }
  for (const auto& recipient : recipients) {
    const Planned delivery = PlannedDelivery(plan, rule, recipient);
    // false: already planned by an earlier delivery of this event
    if (!PlanDelivery(plan.tx, delivery.Keys(), DeliveryDocument(delivery))) continue;
    // Counted with the batch's commit, so a batch run again after a failure counts it once.
    plan.tx.AtBatchEnd([&counter = plan.metrics.deliveries.Add(
                            {{"channel", delivery.channel}, {"status", delivery.status}})](
                           store::Db&) { counter.Increment(); });
    if (delivery.channel == "inbox" && delivery.status == "sent") {
      WriteInboxItem(plan.tx, delivery, plan.origin);
      EmitPlannedOutcome(plan.tx, delivery, "sent");
    }
  }
}

}  // namespace

json DeliveryForReader(json doc, const auth::Principal& reader) {
  const auto audience = aggregate::AudienceOf(reader);
  if (audience == aggregate::Audience::kAdmin) return doc;
  if (audience == aggregate::Audience::kViewer) {
    // Mailboxes, unsubscribe links, webhook payloads and inbox texts are for staff.
    doc = aggregate::Masked(std::move(doc), {"recipient.address", "content"});
  }
  if (doc.contains("last_error")) {
    if (!doc.contains("last_error_category")) doc["last_error_category"] = "other";
    doc.erase("last_error");
  }
  if (doc.contains("history") && doc["history"].is_array()) {
    for (auto& entry : doc["history"]) {
      if (!entry.is_object() || !entry.contains("error")) continue;
      if (!entry.contains("category")) entry["category"] = "other";
      entry.erase("error");
    }
  }
  return doc;
}

DeliveryMetrics::DeliveryMetrics(metrics::Metrics& metrics)
    : deliveries(prometheus::BuildCounter()
                     .Name("jilaf_notifications_deliveries_total")
                     .Help("Delivery status transitions by channel and new status")
                     .Register(metrics.registry())),
      retry_backlog(prometheus::BuildGauge()
                        .Name("jilaf_notifications_retry_backlog")
                        .Help("Deliveries waiting for a retry (status retrying)")
                        .Register(metrics.registry())
                        .Add({})),
      pending(prometheus::BuildGauge()
                  .Name("jilaf_notifications_pending_deliveries")
                  .Help("Deliveries not attempted yet (status pending)")
                  .Register(metrics.registry())
                  .Add({})),
      attempts(prometheus::BuildCounter()
                   .Name("jilaf_notifications_delivery_attempts_total")
                   .Help("Send attempts by channel and outcome (ok, error)")
                   .Register(metrics.registry())) {}

void PlanDeliveries(store::Db& tx, const events::CloudEvent& event,
                    const events::MessageOrigin& origin, DeliveryMetrics& metrics,
                    Catalogue& catalogue) {
  if (!event.data.is_object()) throw std::invalid_argument("event data is not a JSON object");
  EventPlan plan{tx, event, origin, metrics, catalogue, std::nullopt};
  for (const auto* rule : catalogue.RulesFor(tx, event.type)) {
    const auto conditions = rule->find("conditions");
    if (conditions == rule->end() || ConditionsHold(*conditions, event.data)) PlanRule(plan, *rule);
  }
}

bool InsertEmailDelivery(store::Db& tx, const std::string& source_id, const std::string& rule_id,
                         const std::string& to, json content, const std::string& category,
                         DeliveryMetrics& metrics) {
  json delivery = NewDelivery(source_id, "jilaf.notifications.periodical.issued", rule_id,
                              {"address", to}, "email", category, false, "");
  delivery["content"] = std::move(content);
  if (!PlanDelivery(tx, delivery)) return false;
  metrics.deliveries.Add({{"channel", "email"}, {"status", "pending"}}).Increment();
  return true;
}

Dispatcher::Dispatcher(store::Store& store, DispatchOptions options, DeliveryMetrics& metrics,
                       const crypto::FieldCipher& cipher)
    : store_(store),
      options_(std::move(options)),
      metrics_(metrics),
      cipher_(cipher),
      random_(std::random_device{}()),
      pool_(static_cast<int>(options_.concurrency), static_cast<int>(options_.per_endpoint)) {}

int Dispatcher::RunOnce() {
  pool_.BeginPass();
  const std::int64_t now_ms = util::NowUnixMs();
  // Deliveries still queued or in flight come back from the query too: read past them.
  const auto limit = options_.batch + static_cast<std::int64_t>(pool_.Busy());
  const auto due = store_.Read([&](store::Db& db) {
    const auto backlog = DeliveryBacklog(db);
    metrics_.retry_backlog.Set(static_cast<double>(backlog.retrying));
    metrics_.pending.Set(static_cast<double>(backlog.pending));
    return DueDeliveries(db, now_ms, limit);
  });
  int queued = 0;
  for (const auto& item : due) {
    const auto endpoint =
        EndpointOf(item.doc.value("channel", ""), item.url, options_.smtp.host, options_.smtp.port);
    if (pool_.Submit(item.doc.value("id", ""), endpoint, [this, item] { Attempt(item); })) {
      ++queued;
    }
  }
  return queued;
}

void Dispatcher::Attempt(const DueDelivery& item) {
  json doc = item.doc;
  const auto secret = item.secret.empty()
                          ? std::optional<std::string>("")
                          : OpenWebhookSecret(cipher_, item.webhook_id, item.secret);
  // A secret that does not open (its key left the ring too early) is retried, never sent
  // with a wrong signature, until the key file is put right.
  const SendResult result =
      secret ? Send(doc, item.url, *secret)
             : SendResult{false, false,
                          "the webhook's signing secret does not open with the field key ring",
                          "secret"};
  metrics_.attempts
      .Add({{"channel", doc.value("channel", "")}, {"outcome", result.ok ? "ok" : "error"}})
      .Increment();
  Record(doc, result);
}

SendResult Dispatcher::Send(const json& doc, const std::string& url, const std::string& secret) {
  const std::string channel = doc.value("channel", "");
  if (channel == "email") {
    Email email;
    email.to = doc["recipient"]["address"];
    email.subject = doc["content"]["subject"];
    email.body = doc["content"]["body"];
    email.message_id = doc["id"].get<std::string>() + "@notifications.jilaf";
    const json headers = doc["content"].value("headers", json::object());
    for (const auto& [name, value] : headers.items()) {
      email.headers.emplace_back(name, value.get<std::string>());
    }
    return SendEmail(options_.smtp, email);
  }
  if (channel != "webhook") {
    return {false, true, "channel " + channel + " has no sender", "other"};
  }
  if (url.empty()) {
    return {
        false, true,
        "webhook endpoint " + doc["recipient"]["address"].get<std::string>() + " is not registered",
        "not_registered"};
  }
  const std::string body = doc["content"]["payload"];
  const auto now_s = util::NowUnixMs() / 1000;
  return PostWebhook(url, body,
                     {{"X-Jilaf-Signature", WebhookSignature(secret, now_s, body)},
                      {"X-Jilaf-Delivery", doc["id"].get<std::string>()},
                      {"X-Jilaf-Event-Type", doc.value("event_type", "")}},
                     options_.webhook);
}

std::int64_t Dispatcher::Apply(json& doc, const SendResult& result) {
  const int attempt = doc.value("attempts", 0) + 1;
  const std::string at = util::NowRfc3339();
  doc["attempts"] = attempt;
  doc["updated_at"] = at;
  json entry = {{"attempt", attempt}, {"at", at}, {"outcome", result.ok ? "sent" : "failed"}};
  if (!result.ok) {
    entry["error"] = result.error;
    entry["category"] = result.category;
  }
  doc["history"].push_back(entry);
  if (result.ok) {
    doc["status"] = "sent";
    doc.erase("next_attempt_at");
    return 0;
  }
  doc["last_error"] = result.error;
  doc["last_error_category"] = result.category;
  if (result.permanent || options_.retry.Exhausted(attempt)) {
    doc["status"] = "dead";
    return 0;
  }
  doc["status"] = "retrying";
  std::int64_t delay_ms = 0;
  {
    std::lock_guard lock(random_mutex_);
    delay_ms = options_.retry.Delay(attempt, random_).count();
  }
  const std::int64_t next_ms = util::NowUnixMs() + delay_ms;
  doc["next_attempt_in_ms"] = next_ms - util::NowUnixMs();
  return next_ms;
}

void Dispatcher::Record(json& doc, const SendResult& result) {
  const std::int64_t next_ms = Apply(doc, result);
  const std::string status = doc["status"];
  try {
    store_.Write([&](store::Db& tx) {
      if (!RecordAttempt(tx, doc, next_ms)) return;
      if (!result.ok) EmitOutcome(tx, doc, "failed");
      if (status != "retrying") EmitOutcome(tx, doc, status);
    });
    metrics_.deliveries.Add({{"channel", doc.value("channel", "")}, {"status", status}})
        .Increment();
  } catch (const std::exception& error) {
    log::Error("could not record a delivery outcome",
               {{"delivery_id", doc["id"]}, {"error", error.what()}});
  }
}

namespace {

aggregate::Filters DeliveryFilters(const http::Request& request) {
  const auto status = request.Query("status");
  const auto channel = request.Query("channel");
  if (status && !DeliveryStates().IsState(*status)) {
    throw http::ApiError::BadRequest(
        "query parameter status must be pending, retrying, sent, dead or suppressed");
  }
  if (channel && *channel != "email" && *channel != "webhook" && *channel != "inbox") {
    throw http::ApiError::BadRequest("query parameter channel must be email, webhook or inbox");
  }
  return {{"status", aggregate::Maybe(status)},
          {"channel", aggregate::Maybe(channel)},
          {"event_id", aggregate::Maybe(request.Query("event_id"))},
          {"rule_id", aggregate::Maybe(request.Query("rule_id"))}};
}

}  // namespace

http::Response ListDeliveries(const http::Request& request, store::Store& store) {
  const auto filters = DeliveryFilters(request);
  const auto query = aggregate::ReadListQuery(request, aggregate::FilterNames(filters));
  if (!query.q.empty() &&
      aggregate::AudienceOf(request.principal) == aggregate::Audience::kViewer) {
    // The search matches recipients' addresses, which a viewer does not see.
    throw http::ApiError::Forbidden("searching deliveries (by recipient) is for staff")
        .With("field", "q");
  }
  return store.Read([&](store::Db& db) {
    return http::Response::Json(
        200, aggregate::FindIn(db, query, Tables().deliveries, filters, [&](store::Db&, json doc) {
          return DeliveryForReader(std::move(doc), request.principal);
        }));
  });
}

http::Response GetDelivery(const http::Request& request, store::Store& store) {
  const std::string id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) { return Tables().deliveries.Find(db, id); });
  if (!doc) throw http::ApiError::NotFound("no delivery with id " + id);
  return http::Response::Json(200, DeliveryForReader(std::move(*doc), request.principal));
}

http::Response RedriveDelivery(const http::Request& request, store::Store& store,
                               DeliveryMetrics& metrics) {
  auto doc = store.Write([&](store::Db& tx) {
    json delivery = Tables().deliveries.Get(tx, request.Param("id"));
    DeliveryStates().Check(delivery["status"], "pending");
    // A re-drive gets a fresh attempt budget; the history keeps every earlier attempt. A dead
    // delivery's next attempt time is 0, so it is due at once.
    delivery["status"] = "pending";
    delivery["attempts"] = 0;
    delivery["redriven_at"] = util::NowRfc3339();
    delivery["updated_at"] = delivery["redriven_at"];
    delivery["history"].push_back({{"at", delivery["redriven_at"]},
                                   {"outcome", "redriven"},
                                   {"by", request.principal.subject}});
    Tables().deliveries.Update(tx, delivery);
    EmitOutcome(tx, delivery, "redriven");
    return delivery;
  });
  metrics.deliveries.Add({{"channel", doc.value("channel", "")}, {"status", "pending"}})
      .Increment();
  return http::Response::Json(202, doc);
}

http::Operation DeliveryListParameters() {
  return {http::Method::kGet,
          "/v1/deliveries",
          {http::SearchQuery(), http::PageSize(), http::PageToken(),
           http::QueryEnum("status", DeliveryStates().States()),
           http::QueryEnum("channel", {"email", "webhook", "inbox"}), http::QueryText("event_id"),
           http::QueryText("rule_id"), http::Format()}};
}

}  // namespace jilaf::notifications
