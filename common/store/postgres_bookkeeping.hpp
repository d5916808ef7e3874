#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/postgres.hpp"

/// The platform's own tables on PostgreSQL — outbox, inbox, idempotency keys — with the same
/// columns and rules as their SQLite versions (common/events/outbox, common/events/consumer,
/// common/http/idempotency), in one place for this engine.
namespace jilaf::store::pg {

/// The migrations of the outbox, the inbox and the idempotency keys (components named as on
/// SQLite, so one schema_migrations row means the same step on either engine).
std::vector<MigrationSet> BookkeepingMigrations();

/// One outbox row as the relay reads it.
struct OutboxRow {
  std::int64_t seq = 0;
  std::string event_id;
  std::string topic;
  std::string key;
  std::string headers;  // JSON array of [name, value]
  std::string payload;
};

/// Appends an event row in the caller's transaction (it commits or rolls back with the change).
void AppendOutbox(Db& tx, const std::string& event_id, const std::string& topic,
                  const std::string& key, const std::string& headers, const std::string& payload,
                  std::int64_t created_ms);
/// Up to `limit` unsent rows in commit order (seq), for the one relay that publishes them.
std::vector<OutboxRow> PendingOutbox(Db& db, std::int64_t limit);
/// Marks a row sent after the broker acknowledged it; false if it was already marked.
bool MarkOutboxSent(Db& db, std::int64_t seq, std::int64_t sent_ms);
/// Deletes at most `limit` rows sent before `sent_before_ms`; returns how many.
std::int64_t PruneSentOutbox(Db& tx, std::int64_t sent_before_ms, std::int64_t limit);

/// Records (consumer, event id) in the caller's transaction; false when the event was already
/// applied (the caller then skips the effect). Two transactions recording the same event at
/// once: the second waits for the first and, if it commits, gets false.
[[nodiscard]] bool RecordInbox(Db& tx, const std::string& consumer, const std::string& event_id,
                               const std::string& topic, int partition, std::int64_t offset);

/// A stored answer to an Idempotency-Key.
struct IdempotentAnswer {
  std::string request_hash;
  int status = 0;
  std::string headers;
  std::string body;
};
/// The answer recorded for (caller, route, key) at or after `since_ms`, if any.
std::optional<IdempotentAnswer> FindIdempotent(Db& tx, const std::string& caller,
                                               const std::string& route, const std::string& key,
                                               std::int64_t since_ms);
/// Records an answer in the caller's transaction; false if one is already recorded (a concurrent
/// request with the same key won: the caller rolls back and answers with the stored one).
[[nodiscard]] bool RecordIdempotent(Db& tx, const std::string& caller, const std::string& route,
                                    const std::string& key, const IdempotentAnswer& answer,
                                    std::int64_t created_ms);

}  // namespace jilaf::store::pg
