#include "services/notifications/deliveries.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>

#include "common/domain/state_machine.hpp"
#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/log/log.hpp"
#include "common/store/json_doc.hpp"
#include "common/util/clock.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routing.hpp"
#include "services/notifications/schema.hpp"
#include "services/notifications/signature.hpp"

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
  json data = {
      {"delivery_id", delivery["id"]},        {"event_id", delivery["event_id"]},
      {"event_type", delivery["event_type"]}, {"rule_id", delivery["rule_id"]},
      {"channel", delivery["channel"]},       {"recipient_kind", delivery["recipient"]["kind"]},
      {"category", delivery["category"]},     {"status", delivery["status"]},
      {"attempts", delivery["attempts"]}};
  if (delivery.contains("last_error")) data["error"] = delivery["last_error"];
  const std::string id = delivery["id"];
  events::AppendToOutbox(
      tx, std::string(kEventsTopic),
      events::MakeEvent(std::string(kEventSource), "jilaf.notifications.delivery." + what, id,
                        "deliveries/" + id, "/schemas/notifications/delivery." + what + "/v1.json",
                        std::move(data)));
}

std::optional<json> FindTemplate(store::Db& tx, const std::string& type, const std::string& pattern,
                                 const std::string& channel, const std::string& locale) {
  for (const auto& key : {type, pattern}) {
    auto stmt =
        tx.Prepare("SELECT doc FROM templates WHERE event_type = ? AND channel = ? AND locale = ?");
    stmt.Bind(1, key).Bind(2, channel).Bind(3, locale);
    if (stmt.Step()) return json::parse(stmt.Text(0));
  }
  return std::nullopt;
}

std::pair<std::string, std::string> RenderMessage(const json& tmpl, const json& context) {
  const auto subject = Render(tmpl.value("subject", ""), context);
  const auto body = Render(tmpl.value("body", ""), context);
  for (const auto* part : {&subject, &body}) {
    if (!part->ok) {
      std::string missing;
      for (const auto& name : part->missing) missing += (missing.empty() ? "" : ", ") + name;
      throw std::invalid_argument("template " + tmpl.value("event_type", "") + "/" +
                                  tmpl.value("channel", "") + "/" + tmpl.value("locale", "") +
                                  ": " +
                                  (part->error.empty() ? "event lacks " + missing : part->error));
    }
  }
  return {subject.text, body.text};
}

std::optional<json> Preferences(store::Db& tx, const std::string& recipient) {
  return store::LoadJsonDoc(tx, "SELECT doc FROM preferences WHERE recipient = ?", recipient);
}

bool OptedOut(const std::optional<json>& prefs, const std::string& category) {
  if (!prefs || !prefs->contains("opt_out")) return false;
  for (const auto& item : (*prefs)["opt_out"]) {
    if (item == category) return true;
  }
  return false;
}

// Inserts the row; false when (event, rule, recipient, channel) already has one.
bool InsertDelivery(store::Db& tx, json& doc) {
  auto insert = tx.Prepare(
      "INSERT OR IGNORE INTO deliveries(id, event_id, rule_id, recipient, channel, status,"
      " attempts, next_attempt_ms, doc) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)");
  const std::string recipient = doc["recipient"]["kind"].get<std::string>() + ":" +
                                doc["recipient"]["address"].get<std::string>();
  insert.Bind(1, doc["id"].get<std::string>())
      .Bind(2, doc["event_id"].get<std::string>())
      .Bind(3, doc["rule_id"].get<std::string>())
      .Bind(4, recipient)
      .Bind(5, doc["channel"].get<std::string>())
      .Bind(6, doc["status"].get<std::string>())
      .Bind(7, util::NowUnixMs())
      .Bind(8, doc.dump());
  insert.Run();
  return tx.Changes() == 1;
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

void WriteInboxItem(store::Db& tx, const json& delivery, const events::CloudEvent& event,
                    const events::MessageOrigin& origin) {
  const std::string id = events::NewTimeOrderedUuid();
  const std::string now = util::NowRfc3339();
  const auto& recipient = delivery["recipient"];
  const std::string audience = recipient["kind"] == "role"
                                   ? recipient["address"].get<std::string>()
                                   : "user:" + recipient["address"].get<std::string>();
  const json doc = {{"id", id},
                    {"audience", audience},
                    {"title", delivery["content"]["subject"]},
                    {"body", delivery["content"]["body"]},
                    {"locale", delivery["locale"]},
                    {"category", delivery["category"]},
                    {"delivery_id", delivery["id"]},
                    {"event",
                     {{"id", event.id},
                      {"type", event.type},
                      {"source", event.source},
                      {"subject", event.subject},
                      {"time", event.time},
                      {"topic", origin.topic}}},
                    {"created_at", now}};
  auto insert = tx.Prepare(
      "INSERT INTO inbox_notifications(id, event_id, audience, doc, created_at)"
      " VALUES (?, ?, ?, ?, ?)");
  insert.Bind(1, id).Bind(2, event.id).Bind(3, audience).Bind(4, doc.dump()).Bind(5, now);
  insert.Run();
}

json NewDelivery(const std::string& event_id, const std::string& event_type,
                 const std::string& rule_id, const Recipient& recipient, const std::string& channel,
                 const std::string& category, bool operational, const std::string& locale) {
  const std::string now = util::NowRfc3339();
  return {{"id", events::NewTimeOrderedUuid()},
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

void PlanRule(store::Db& tx, const json& rule, const events::CloudEvent& event,
              const events::MessageOrigin& origin, DeliveryMetrics& metrics) {
  const std::string channel = rule["channel"];
  const std::string category = rule.value("category", "general");
  const bool operational = rule.value("operational", false);
  std::vector<std::string> skipped;
  const auto recipients = ResolveRecipients(rule["recipients"], event.data, &skipped);
  for (const auto& pointer : skipped) {
    log::Warn("recipient pointer resolves to nothing; no delivery for it",
              {{"rule_id", rule["id"]}, {"event_id", event.id}, {"pointer", pointer}});
  }
  const json context = TemplateContext(event);
  for (const auto& recipient : recipients) {
    const auto prefs = Preferences(tx, recipient.address);
    const std::string locale = prefs && prefs->contains("locale")
                                   ? (*prefs)["locale"].get<std::string>()
                                   : rule.value("locale", "en");
    json delivery = NewDelivery(event.id, event.type, rule["id"], recipient, channel, category,
                                operational, locale);
    if (!operational && OptedOut(prefs, category)) {
      delivery["status"] = "suppressed";
      if (InsertDelivery(tx, delivery)) {
        metrics.deliveries.Add({{"channel", channel}, {"status", "suppressed"}}).Increment();
      }
      continue;
    }
    if (channel == "webhook") {
      delivery["content"] = {{"payload", StructuredEvent(event).dump()}};
    } else {
      const auto tmpl = FindTemplate(tx, event.type, rule["event_type"], channel, locale);
      if (!tmpl) {
        throw std::invalid_argument("no " + channel + " template in " + locale + " for " +
                                    event.type);
      }
      const auto [subject, body] = RenderMessage(*tmpl, context);
      delivery["content"] = {{"subject", subject}, {"body", body}};
    }
    if (channel == "inbox") delivery["status"] = "sent";
    if (!InsertDelivery(tx, delivery)) continue;  // already planned by an earlier delivery
    metrics.deliveries.Add({{"channel", channel}, {"status", delivery["status"]}}).Increment();
    if (channel == "inbox") {
      WriteInboxItem(tx, delivery, event, origin);
      EmitOutcome(tx, delivery, "sent");
    }
  }
}

std::string ChannelOf(const json& doc) { return doc.value("channel", ""); }

}  // namespace

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
                    const events::MessageOrigin& origin, DeliveryMetrics& metrics) {
  if (!event.data.is_object()) throw std::invalid_argument("event data is not a JSON object");
  auto rules = tx.Prepare("SELECT doc FROM rules WHERE enabled = 1 ORDER BY seq");
  std::vector<json> matching;
  while (rules.Step()) {
    json rule = json::parse(rules.Text(0));
    if (TypeMatches(rule["event_type"], event.type) &&
        ConditionsHold(rule.value("conditions", json::array()), event.data)) {
      matching.push_back(std::move(rule));
    }
  }
  for (const auto& rule : matching) PlanRule(tx, rule, event, origin, metrics);
}

bool InsertEmailDelivery(store::Db& tx, const std::string& source_id, const std::string& rule_id,
                         const std::string& to, const std::string& subject, const std::string& body,
                         const json& headers, const std::string& category,
                         DeliveryMetrics& metrics) {
  json delivery = NewDelivery(source_id, "jilaf.notifications.periodical.issued", rule_id,
                              {"address", to}, "email", category, false, "");
  delivery["content"] = {{"subject", subject}, {"body", body}, {"headers", headers}};
  if (!InsertDelivery(tx, delivery)) return false;
  metrics.deliveries.Add({{"channel", "email"}, {"status", "pending"}}).Increment();
  return true;
}

Dispatcher::Dispatcher(store::Store& store, DispatchOptions options, DeliveryMetrics& metrics)
    : store_(store),
      options_(std::move(options)),
      metrics_(metrics),
      random_(std::random_device{}()) {}

int Dispatcher::RunOnce() {
  struct Due {
    std::int64_t seq;
    json doc;
    std::string url;
    std::string secret;
  };
  const std::int64_t now_ms = util::NowUnixMs();
  std::vector<Due> due;
  store_.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT d.seq, d.doc, w.url, w.secret FROM deliveries d"
        " LEFT JOIN webhooks w ON d.channel = 'webhook' AND w.id = substr(d.recipient, 10)"
        " WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_ms <= ?"
        " ORDER BY d.next_attempt_ms LIMIT ?");
    stmt.Bind(1, now_ms).Bind(2, options_.batch);
    while (stmt.Step()) {
      due.push_back({stmt.Int(0), json::parse(stmt.Text(1)), stmt.OptText(2).value_or(""),
                     stmt.OptText(3).value_or("")});
    }
    auto counts = db.Prepare(
        "SELECT SUM(status = 'retrying'), SUM(status = 'pending') FROM deliveries"
        " WHERE status IN ('retrying', 'pending')");
    if (counts.Step()) {
      metrics_.retry_backlog.Set(static_cast<double>(counts.OptInt(0).value_or(0)));
      metrics_.pending.Set(static_cast<double>(counts.OptInt(1).value_or(0)));
    }
  });
  for (auto& item : due) {
    auto& doc = item.doc;
    const std::string channel = ChannelOf(doc);
    const int attempt = doc.value("attempts", 0) + 1;
    SendResult result;
    if (channel == "email") {
      Email email;
      email.to = doc["recipient"]["address"];
      email.subject = doc["content"]["subject"];
      email.body = doc["content"]["body"];
      email.message_id = doc["id"].get<std::string>() + "@notifications.jilaf";
      if (doc["content"].contains("headers")) {
        for (const auto& [name, value] : doc["content"]["headers"].items()) {
          email.headers.emplace_back(name, value.get<std::string>());
        }
      }
      result = SendEmail(options_.smtp, email);
    } else if (channel == "webhook") {
      if (item.url.empty()) {
        result = {false, true,
                  "webhook endpoint " + doc["recipient"]["address"].get<std::string>() +
                      " is not registered"};
      } else {
        const std::string body = doc["content"]["payload"];
        const auto now_s = util::NowUnixMs() / 1000;
        result = PostWebhook(item.url, body,
                             {{"X-Jilaf-Signature", WebhookSignature(item.secret, now_s, body)},
                              {"X-Jilaf-Delivery", doc["id"].get<std::string>()},
                              {"X-Jilaf-Event-Type", doc.value("event_type", "")}},
                             options_.webhook_timeout_ms);
      }
    } else {
      result = {false, true, "channel " + channel + " has no sender"};
    }
    metrics_.attempts.Add({{"channel", channel}, {"outcome", result.ok ? "ok" : "error"}})
        .Increment();
    const std::string at = util::NowRfc3339();
    doc["attempts"] = attempt;
    doc["updated_at"] = at;
    json entry = {{"attempt", attempt}, {"at", at}, {"outcome", result.ok ? "sent" : "failed"}};
    if (!result.ok) entry["error"] = result.error;
    doc["history"].push_back(entry);
    std::string status;
    std::int64_t next_ms = 0;
    if (result.ok) {
      status = "sent";
      doc.erase("next_attempt_at");
    } else if (result.permanent || options_.retry.Exhausted(attempt)) {
      status = "dead";
      doc["last_error"] = result.error;
    } else {
      status = "retrying";
      doc["last_error"] = result.error;
      next_ms = util::NowUnixMs() + options_.retry.Delay(attempt, random_).count();
      doc["next_attempt_in_ms"] = next_ms - util::NowUnixMs();
    }
    doc["status"] = status;
    try {
      store_.Write([&](store::Db& tx) {
        auto update = tx.Prepare(
            "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_ms = ?, doc = ?"
            " WHERE seq = ? AND status IN ('pending', 'retrying')");
        update.Bind(1, status)
            .Bind(2, attempt)
            .Bind(3, next_ms)
            .Bind(4, doc.dump())
            .Bind(5, item.seq);
        update.Run();
        if (tx.Changes() != 1) return;
        if (!result.ok) EmitOutcome(tx, doc, "failed");
        if (status != "retrying") EmitOutcome(tx, doc, status);
      });
      metrics_.deliveries.Add({{"channel", channel}, {"status", status}}).Increment();
    } catch (const std::exception& error) {
      log::Error("could not record a delivery outcome",
                 {{"delivery_id", doc["id"]}, {"error", error.what()}});
    }
  }
  return static_cast<int>(due.size());
}

http::Response ListDeliveries(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto status = request.Query("status");
  const auto channel = request.Query("channel");
  if (status && !DeliveryStates().IsState(*status)) {
    throw http::ApiError::BadRequest(
        "query parameter status must be pending, retrying, sent, dead or suppressed");
  }
  if (channel && *channel != "email" && *channel != "webhook" && *channel != "inbox") {
    throw http::ApiError::BadRequest("query parameter channel must be email, webhook or inbox");
  }
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM deliveries WHERE seq > ?1 AND (?2 IS NULL OR status = ?2)"
        " AND (?3 IS NULL OR channel = ?3) AND (?4 IS NULL OR event_id = ?4)"
        " AND (?5 IS NULL OR rule_id = ?5) ORDER BY seq LIMIT ?6");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, status)
        .Bind(3, channel)
        .Bind(4, request.Query("event_id"))
        .Bind(5, request.Query("rule_id"))
        .Bind(6, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetDelivery(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM deliveries WHERE id = ?", id);
  });
  if (!doc) throw http::ApiError::NotFound("no delivery with id " + id);
  return http::Response::Json(200, *doc);
}

http::Response RedriveDelivery(const http::Request& request, store::Store& store,
                               DeliveryMetrics& metrics) {
  const auto& id = request.Param("id");
  auto doc = store.Write([&](store::Db& tx) {
    auto found = store::LoadJsonDoc(tx, "SELECT doc FROM deliveries WHERE id = ?", id);
    if (!found) throw http::ApiError::NotFound("no delivery with id " + id);
    json& delivery = *found;
    DeliveryStates().Check(delivery["status"], "pending");
    // A re-drive gets a fresh attempt budget; the history keeps every earlier attempt.
    delivery["status"] = "pending";
    delivery["attempts"] = 0;
    delivery["redriven_at"] = util::NowRfc3339();
    delivery["updated_at"] = delivery["redriven_at"];
    delivery["history"].push_back({{"at", delivery["redriven_at"]},
                                   {"outcome", "redriven"},
                                   {"by", request.principal.subject}});
    auto update = tx.Prepare(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?, doc = ?"
        " WHERE id = ?");
    update.Bind(1, util::NowUnixMs()).Bind(2, delivery.dump()).Bind(3, id);
    update.Run();
    EmitOutcome(tx, delivery, "redriven");
    return delivery;
  });
  metrics.deliveries.Add({{"channel", ChannelOf(doc)}, {"status", "pending"}}).Increment();
  return http::Response::Json(202, doc);
}

}  // namespace jilaf::notifications
