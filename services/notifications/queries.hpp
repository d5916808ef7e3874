#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto/field_cipher.hpp"
#include "common/crypto/rekey.hpp"
#include "common/http/resource.hpp"
#include "common/store/store.hpp"

// The notifications service's purpose-written SQL, each statement behind a name: what the
// document tables (tables.hpp) cannot say — natural keys, idempotent plans, the dispatcher's
// due scan, per-user read marks, newest-first archives and secrets kept out of documents.
namespace jilaf::notifications {

/// The template stored under (event_type, channel, locale), if any.
std::optional<nlohmann::json> FindTemplate(store::Db& db, const std::string& event_type,
                                           const std::string& channel, const std::string& locale);
/// Which stored row, in which version, a cached copy was taken from: a row deleted and created
/// again has a new seq, an update a new version.
struct Stamp {
  std::int64_t seq = 0;
  std::int64_t version = 0;
  bool operator==(const Stamp&) const = default;
};
/// The template under (event_type, channel, locale): its stamp, and its document unless the
/// stamp equals `known` (the caller's copy is current then).
struct TemplateRow {
  Stamp stamp;
  std::optional<nlohmann::json> doc;
};
std::optional<TemplateRow> FindTemplateUnless(store::Db& db, const std::string& event_type,
                                              const std::string& channel, const std::string& locale,
                                              const Stamp& known);
/// The stamps of the enabled rules, oldest first.
std::vector<Stamp> EnabledRuleStamps(store::Db& db);
/// Inserts or replaces the template `doc` names.
void SaveTemplate(store::Db& tx, const nlohmann::json& doc);

/// A recipient's preferences, if recorded; SavePreferences inserts or replaces them.
std::optional<nlohmann::json> FindPreferences(store::Db& db, const std::string& recipient);
void SavePreferences(store::Db& tx, const nlohmann::json& doc);

/// A webhook endpoint's signing secret, kept out of its document and sealed with the field key
/// ring (associated data "webhook/<id>/secret").
void SaveWebhookSecret(store::Db& tx, const crypto::FieldCipher& cipher, const std::string& id,
                       const std::string& secret);
/// The secret of webhook `id`; nullopt if there is none or it does not open with the ring.
std::optional<std::string> LoadWebhookSecret(store::Db& db, const crypto::FieldCipher& cipher,
                                             const std::string& id);
/// Opens a sealed secret of webhook `id` (as DueDeliveries returns it).
std::optional<std::string> OpenWebhookSecret(const crypto::FieldCipher& cipher,
                                             const std::string& id, const std::string& sealed);
/// Seals the secrets stored in clear before they were encrypted (schema version 5 marks them
/// sealed = 0), in batches; returns how many. Run at start, before the API serves.
std::int64_t SealClearWebhookSecrets(store::Store& store, const crypto::FieldCipher& cipher);
/// What a field-key rotation rewrites here: the sealed webhook secrets.
std::vector<crypto::RekeyTarget> RekeyTargets(const crypto::FieldCipher& cipher);

/// The columns of a delivery row beside its document; `recipient` is `kind:address`.
struct DeliveryKeys {
  const std::string& id;
  const std::string& event_id;
  const std::string& rule_id;
  const std::string& recipient_kind;
  const std::string& recipient_address;
  const std::string& channel;
  const std::string& status;
};

/// Inserts a planned delivery; false when (event, rule, recipient, channel) already has one.
bool PlanDelivery(store::Db& tx, const nlohmann::json& doc);
/// The same with the document already written as JSON text (the consumer's hot path).
bool PlanDelivery(store::Db& tx, const DeliveryKeys& keys, const std::string& doc);

/// Inserts an inbox item whose document the caller wrote as JSON text (the consumer's hot path:
/// no DOM built only to be dumped), with the columns Tables().inbox_items lists.
void InsertInboxItem(store::Db& tx, const std::string& id, const std::string& doc,
                     const std::string& event_id, const std::string& audience,
                     const std::string& created_at);
/// A delivery due for an attempt, with its webhook endpoint's URL and secret (if any).
struct DueDelivery {
  nlohmann::json doc;
  std::string url;
  /// The webhook's id and its secret as stored (sealed: OpenWebhookSecret).
  std::string webhook_id;
  std::string secret;
};
std::vector<DueDelivery> DueDeliveries(store::Db& db, std::int64_t now_ms, std::int64_t limit);
/// How many deliveries wait for a retry and how many for a first attempt.
struct Backlog {
  std::int64_t retrying = 0;
  std::int64_t pending = 0;
};
Backlog DeliveryBacklog(store::Db& db);
/// Records an attempt's outcome (doc's status and attempts, next due time) unless the delivery
/// left pending/retrying meanwhile; false then.
bool RecordAttempt(store::Db& tx, const nlohmann::json& doc, std::int64_t next_attempt_ms);

/// One page of the inbox items addressed to `audiences` (a JSON array), newest first, each with
/// `read`/`read_at` for `user`.
nlohmann::json InboxPage(store::Db& db, const std::string& user, const nlohmann::json& audiences,
                         bool only_unread, const http::PageRequest& page);
/// True when the item exists and is addressed to one of `audiences`.
bool InboxVisible(store::Db& db, const std::string& id, const nlohmann::json& audiences);
/// Marks the item read (keeping the first time it was read) or unread for `user`.
void MarkInboxRead(store::Db& tx, const std::string& id, const std::string& user, bool read);

/// The newest feed items (by publication), at most `limit`.
std::vector<nlohmann::json> NewestFeedItems(store::Db& db, std::int64_t limit);
/// The feed items recorded after the last periodical, and that periodical's successor number.
struct NextIssue {
  std::int64_t number = 1;
  std::int64_t last_item_seq = 0;
  nlohmann::json items = nlohmann::json::array();
};
NextIssue FeedSinceLastPeriodical(store::Db& tx);
void InsertPeriodical(store::Db& tx, const nlohmann::json& issue, std::int64_t last_item_seq);
/// One page of the periodical archive, newest first.
nlohmann::json PeriodicalPage(store::Db& db, const http::PageRequest& page);

/// A subscribed reader of the periodicals.
struct Mailee {
  std::string email;
  std::string token;
  std::string locale;
};
std::vector<Mailee> SubscribedMailees(store::Db& tx);
bool IsSubscribed(store::Db& tx, const std::string& email);
/// Inserts the subscriber, or replaces an earlier (unsubscribed) one of the same address.
void SaveSubscriber(store::Db& tx, const nlohmann::json& doc, const std::string& token);
/// The subscriber holding this unsubscribe token.
std::optional<nlohmann::json> FindSubscriberByToken(store::Db& tx, const std::string& token);
void SaveSubscriberStatus(store::Db& tx, const nlohmann::json& doc);

}  // namespace jilaf::notifications
