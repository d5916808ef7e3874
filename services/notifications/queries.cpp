#include "services/notifications/queries.hpp"

#include <climits>

#include "common/store/dialect.hpp"
#include "common/store/json_doc.hpp"
#include "common/store/sqlite.hpp"
#include "common/util/clock.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

using nlohmann::json;

std::optional<json> FindTemplate(store::Db& db, const std::string& event_type,
                                 const std::string& channel, const std::string& locale) {
  auto stmt =
      db.Prepare("SELECT doc FROM templates WHERE event_type = ? AND channel = ? AND locale = ?");
  stmt.Bind(1, event_type).Bind(2, channel).Bind(3, locale);
  if (!stmt.Step()) return std::nullopt;
  return json::parse(stmt.Text(0));
}

std::optional<TemplateRow> FindTemplateUnless(store::Db& db, const std::string& event_type,
                                              const std::string& channel, const std::string& locale,
                                              const Stamp& known) {
  auto stmt = db.Prepare(
      "SELECT seq, version, CASE WHEN seq = ?4 AND version = ?5 THEN NULL ELSE doc END"
      " FROM templates WHERE event_type = ?1 AND channel = ?2 AND locale = ?3");
  stmt.Bind(1, event_type)
      .Bind(2, channel)
      .Bind(3, locale)
      .Bind(4, known.seq)
      .Bind(5, known.version);
  if (!stmt.Step()) return std::nullopt;
  TemplateRow row{{stmt.Int(0), stmt.Int(1)}, std::nullopt};
  if (!stmt.IsNull(2)) row.doc = json::parse(stmt.Text(2));
  return row;
}

std::vector<Stamp> EnabledRuleStamps(store::Db& db) {
  auto stmt = db.Prepare("SELECT seq, version FROM rules WHERE enabled = 1 ORDER BY seq");
  std::vector<Stamp> stamps;
  while (stmt.Step()) stamps.push_back({stmt.Int(0), stmt.Int(1)});
  return stamps;
}

void SaveTemplate(store::Db& tx, const json& doc) {
  auto upsert = tx.Prepare(
      "INSERT INTO templates(event_type, channel, locale, version, doc) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT(event_type, channel, locale) DO UPDATE SET version = excluded.version,"
      " doc = excluded.doc");
  upsert.Bind(1, doc.at("event_type").get<std::string>())
      .Bind(2, doc.at("channel").get<std::string>())
      .Bind(3, doc.at("locale").get<std::string>())
      .Bind(4, doc.at("version").get<std::int64_t>())
      .Bind(5, doc.dump());
  upsert.Run();
}

std::optional<json> FindPreferences(store::Db& db, const std::string& recipient) {
  return store::LoadJsonDoc(db, "SELECT doc FROM preferences WHERE recipient = ?", recipient);
}

void SavePreferences(store::Db& tx, const json& doc) {
  auto upsert = tx.Prepare(
      "INSERT INTO preferences(recipient, version, doc) VALUES (?, ?, ?)"
      " ON CONFLICT(recipient) DO UPDATE SET version = excluded.version, doc = excluded.doc");
  upsert.Bind(1, doc.at("recipient").get<std::string>())
      .Bind(2, doc.at("version").get<std::int64_t>())
      .Bind(3, doc.dump());
  upsert.Run();
}

namespace {

std::string SecretContext(const std::string& id) { return "webhook/" + id + "/secret"; }

}  // namespace

void SaveWebhookSecret(store::Db& tx, const crypto::FieldCipher& cipher, const std::string& id,
                       const std::string& secret) {
  auto insert = tx.Prepare("INSERT INTO webhook_secrets(id, secret, sealed) VALUES (?, ?, 1)");
  insert.Bind(1, id).Bind(2, cipher.Encrypt(secret, SecretContext(id)));
  insert.Run();
}

std::optional<std::string> LoadWebhookSecret(store::Db& db, const crypto::FieldCipher& cipher,
                                             const std::string& id) {
  auto stmt = db.Prepare("SELECT secret FROM webhook_secrets WHERE id = ? AND sealed = 1");
  stmt.Bind(1, id);
  if (!stmt.Step()) return std::nullopt;
  return OpenWebhookSecret(cipher, id, stmt.Text(0));
}

std::optional<std::string> OpenWebhookSecret(const crypto::FieldCipher& cipher,
                                             const std::string& id, const std::string& sealed) {
  return cipher.Decrypt(sealed, SecretContext(id));
}

std::int64_t SealClearWebhookSecrets(store::Store& store, const crypto::FieldCipher& cipher) {
  constexpr std::int64_t kBatch = 500;
  // Every batch seals what it reads, so the next one reads the rows after it.
  return store::WriteInBatches(store, kBatch, INT_MAX, [&](store::Db& tx) {
    auto select = tx.Prepare("SELECT id, secret FROM webhook_secrets WHERE sealed = 0 LIMIT ?");
    select.Bind(1, kBatch);
    auto update = tx.Prepare("UPDATE webhook_secrets SET secret = ?, sealed = 1 WHERE id = ?");
    std::int64_t rows = 0;
    for (; select.Step(); ++rows) {
      const std::string id = select.Text(0);
      update.Bind(1, cipher.Encrypt(select.Text(1), SecretContext(id))).Bind(2, id);
      update.Run();
    }
    return rows;
  });
}

std::vector<crypto::RekeyTarget> RekeyTargets(const crypto::FieldCipher& cipher) {
  auto secrets = crypto::SealedColumn(cipher, "webhook_secrets", "id", "secret",
                                      "'webhook/' || id || '/secret'");
  secrets.pending_where = "sealed = 1 AND " + secrets.pending_where;  // clear ones: at start
  return {std::move(secrets)};
}

bool PlanDelivery(store::Db& tx, const json& doc) {
  const auto text = [&](const char* key) -> const std::string& {
    return doc.at(key).get_ref<const std::string&>();
  };
  const auto& recipient = doc.at("recipient");
  return PlanDelivery(
      tx,
      {text("id"), text("event_id"), text("rule_id"),
       recipient.at("kind").get_ref<const std::string&>(),
       recipient.at("address").get_ref<const std::string&>(), text("channel"), text("status")},
      doc.dump());
}

bool PlanDelivery(store::Db& tx, const DeliveryKeys& keys, const std::string& doc) {
  auto insert = tx.Prepare(
      "INSERT INTO deliveries(id, event_id, rule_id, recipient, channel, status,"
      " attempts, next_attempt_ms, doc) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING");
  insert.Bind(1, keys.id)
      .Bind(2, keys.event_id)
      .Bind(3, keys.rule_id)
      .Bind(4, keys.recipient_kind + ":" + keys.recipient_address)
      .Bind(5, keys.channel)
      .Bind(6, keys.status)
      .Bind(7, util::NowUnixMs())
      .Bind(8, doc);
  insert.Run();
  if (tx.Changes() != 1) return false;
  // The recipient never changes afterwards; the words enter the index at the batch's end. The
  // index reads only the id and the recipient (Tables().deliveries' search paths).
  Tables().deliveries.IndexNewDocument(
      tx, {{"id", keys.id},
           {"recipient", {{"kind", keys.recipient_kind}, {"address", keys.recipient_address}}}});
  return true;
}

void InsertInboxItem(store::Db& tx, const std::string& id, const std::string& doc,
                     const std::string& event_id, const std::string& audience,
                     const std::string& created_at) {
  auto insert = tx.Prepare(
      "INSERT INTO inbox_notifications(id, doc, event_id, audience, created_at)"
      " VALUES (?, ?, ?, ?, ?)");
  insert.Bind(1, id).Bind(2, doc).Bind(3, event_id).Bind(4, audience).Bind(5, created_at);
  insert.Run();
}

std::vector<DueDelivery> DueDeliveries(store::Db& db, std::int64_t now_ms, std::int64_t limit) {
  auto stmt = db.Prepare(
      "SELECT d.doc, w.url, w.id, s.secret FROM deliveries d"
      " LEFT JOIN webhooks w ON d.channel = 'webhook' AND w.id = substr(d.recipient, 10)"
      " LEFT JOIN webhook_secrets s ON s.id = w.id"
      " WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_ms <= ?"
      " ORDER BY d.next_attempt_ms LIMIT ?");
  stmt.Bind(1, now_ms).Bind(2, limit);
  std::vector<DueDelivery> due;
  while (stmt.Step()) {
    due.push_back({json::parse(stmt.Text(0)), stmt.OptText(1).value_or(""),
                   stmt.OptText(2).value_or(""), stmt.OptText(3).value_or("")});
  }
  return due;
}

Backlog DeliveryBacklog(store::Db& db) {
  auto counts = db.Prepare(
      "SELECT count(CASE WHEN status = 'retrying' THEN 1 END),"
      " count(CASE WHEN status = 'pending' THEN 1 END) FROM deliveries"
      " WHERE status IN ('retrying', 'pending')");
  if (!counts.Step()) return {};
  return {counts.OptInt(0).value_or(0), counts.OptInt(1).value_or(0)};
}

bool RecordAttempt(store::Db& tx, const json& doc, std::int64_t next_attempt_ms) {
  auto update = tx.Prepare(
      "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_ms = ?, doc = ?"
      " WHERE id = ? AND status IN ('pending', 'retrying')");
  update.Bind(1, doc.at("status").get<std::string>())
      .Bind(2, doc.at("attempts").get<std::int64_t>())
      .Bind(3, next_attempt_ms)
      .Bind(4, doc.dump())
      .Bind(5, doc.at("id").get<std::string>());
  update.Run();
  return tx.Changes() == 1;
}

json InboxPage(store::Db& db, const std::string& user, const json& audiences, bool only_unread,
               const http::PageRequest& page) {
  // "user" quoted: a reserved word on PostgreSQL.
  auto stmt = db.Prepare(
      "SELECT n.seq, n.doc, r.read_at FROM inbox_notifications n"
      " LEFT JOIN inbox_reads r ON r.item_id = n.id AND r.\"user\" = ?1"
      " WHERE n.seq < ?2 AND n.audience IN " +
      store::JsonArrayStrings(db, "?3") +
      " AND (?4 = 0 OR r.read_at IS NULL) ORDER BY n.seq DESC LIMIT ?5");
  stmt.Bind(1, user)
      .Bind(2, page.after.value_or(INT64_MAX))
      .Bind(3, audiences.dump())
      .Bind(4, only_unread ? 1 : 0)
      .Bind(5, page.page_size + 1);
  return http::CollectPage(stmt, page.page_size, [](store::Stmt& row) {
    auto item = json::parse(row.Text(1));
    const auto read_at = row.OptText(2);
    item["read"] = read_at.has_value();
    if (read_at) item["read_at"] = *read_at;
    return item;
  });
}

bool InboxVisible(store::Db& db, const std::string& id, const json& audiences) {
  auto stmt = db.Prepare("SELECT 1 FROM inbox_notifications WHERE id = ? AND audience IN " +
                         store::JsonArrayStrings(db, "?"));
  stmt.Bind(1, id).Bind(2, audiences.dump());
  return stmt.Step();
}

void MarkInboxRead(store::Db& tx, const std::string& id, const std::string& user, bool read) {
  if (!read) {
    auto remove = tx.Prepare("DELETE FROM inbox_reads WHERE item_id = ? AND \"user\" = ?");
    remove.Bind(1, id).Bind(2, user);
    remove.Run();
    return;
  }
  auto insert = tx.Prepare(
      "INSERT INTO inbox_reads(item_id, \"user\", read_at) VALUES (?, ?, ?)"
      " ON CONFLICT DO NOTHING");
  insert.Bind(1, id).Bind(2, user).Bind(3, util::NowRfc3339());
  insert.Run();
}

std::vector<json> NewestFeedItems(store::Db& db, std::int64_t limit) {
  auto stmt = db.Prepare("SELECT doc FROM feed_items ORDER BY published_at DESC, seq DESC LIMIT ?");
  stmt.Bind(1, limit);
  std::vector<json> out;
  while (stmt.Step()) out.push_back(json::parse(stmt.Text(0)));
  return out;
}

NextIssue FeedSinceLastPeriodical(store::Db& tx) {
  NextIssue next;
  auto last = tx.Prepare(
      "SELECT COALESCE(MAX(last_item_seq), 0), COALESCE(MAX(number), 0) FROM periodicals");
  if (last.Step()) {
    next.last_item_seq = last.Int(0);
    next.number = last.Int(1) + 1;
  }
  auto stmt = tx.Prepare("SELECT seq, doc FROM feed_items WHERE seq > ? ORDER BY seq");
  stmt.Bind(1, next.last_item_seq);
  while (stmt.Step()) {
    next.items.push_back(json::parse(stmt.Text(1)));
    next.last_item_seq = stmt.Int(0);
  }
  return next;
}

void InsertPeriodical(store::Db& tx, const json& issue, std::int64_t last_item_seq) {
  auto insert =
      tx.Prepare("INSERT INTO periodicals(id, number, last_item_seq, doc) VALUES (?, ?, ?, ?)");
  insert.Bind(1, issue.at("id").get<std::string>())
      .Bind(2, issue.at("number").get<std::int64_t>())
      .Bind(3, last_item_seq)
      .Bind(4, issue.dump());
  insert.Run();
}

json PeriodicalPage(store::Db& db, const http::PageRequest& page) {
  auto stmt =
      db.Prepare("SELECT seq, doc FROM periodicals WHERE seq < ? ORDER BY seq DESC LIMIT ?");
  stmt.Bind(1, page.after.value_or(INT64_MAX)).Bind(2, page.page_size + 1);
  return http::CollectPage(stmt, page.page_size);
}

std::vector<Mailee> SubscribedMailees(store::Db& tx) {
  auto stmt = tx.Prepare(
      "SELECT email, token, doc FROM subscribers WHERE status = 'subscribed' ORDER BY seq");
  std::vector<Mailee> out;
  while (stmt.Step()) {
    out.push_back({stmt.Text(0), stmt.Text(1), json::parse(stmt.Text(2)).value("locale", "en")});
  }
  return out;
}

bool IsSubscribed(store::Db& tx, const std::string& email) {
  // One person, one address, whatever its case: the address is compared lower-cased.
  auto existing = tx.Prepare(
      "SELECT 1 FROM subscribers WHERE lower(email) = lower(?) AND status = 'subscribed'");
  existing.Bind(1, email);
  return existing.Step();
}

void SaveSubscriber(store::Db& tx, const json& doc, const std::string& token) {
  auto upsert = tx.Prepare(
      "INSERT INTO subscribers(id, email, token, status, doc) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT(email) DO UPDATE SET id = excluded.id, token = excluded.token,"
      " status = excluded.status, doc = excluded.doc");
  upsert.Bind(1, doc.at("id").get<std::string>())
      .Bind(2, doc.at("email").get<std::string>())
      .Bind(3, token)
      .Bind(4, doc.at("status").get<std::string>())
      .Bind(5, doc.dump());
  upsert.Run();
}

std::optional<json> FindSubscriberByToken(store::Db& tx, const std::string& token) {
  return store::LoadJsonDoc(tx, "SELECT doc FROM subscribers WHERE token = ?", token);
}

void SaveSubscriberStatus(store::Db& tx, const json& doc) {
  auto update = tx.Prepare("UPDATE subscribers SET status = ?, doc = ? WHERE id = ?");
  update.Bind(1, doc.at("status").get<std::string>())
      .Bind(2, doc.dump())
      .Bind(3, doc.at("id").get<std::string>());
  update.Run();
}

}  // namespace jilaf::notifications
