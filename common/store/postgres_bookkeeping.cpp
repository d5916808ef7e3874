#include "common/store/postgres_bookkeeping.hpp"

namespace jilaf::store::pg {

std::vector<MigrationSet> BookkeepingMigrations() {
  return {
      {"common.outbox",
       {{1, "create outbox",
         "CREATE TABLE outbox ("
         " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
         " event_id TEXT NOT NULL,"
         " topic TEXT NOT NULL,"
         " msg_key TEXT NOT NULL,"
         " headers TEXT NOT NULL,"
         " payload TEXT NOT NULL,"
         " created_ms BIGINT NOT NULL,"
         " sent_ms BIGINT);"
         "CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_ms IS NULL;"
         "CREATE INDEX outbox_sent ON outbox(sent_ms) WHERE sent_ms IS NOT NULL;"}}},
      {"common.inbox",
       {{1, "create inbox",
         "CREATE TABLE inbox ("
         " consumer TEXT NOT NULL,"
         " event_id TEXT NOT NULL,"
         " topic TEXT NOT NULL,"
         " partition INTEGER NOT NULL,"
         " \"offset\" BIGINT NOT NULL,"
         " processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
         " PRIMARY KEY (consumer, event_id));"},
        {2, "pruning order",
         "CREATE INDEX inbox_position ON inbox(consumer, topic, partition, \"offset\");"}}},
      {"common.idempotency",
       {{1, "create idempotency keys",
         "CREATE TABLE idempotency_keys ("
         " caller TEXT NOT NULL,"
         " route TEXT NOT NULL,"
         " idem_key TEXT NOT NULL,"
         " request_hash TEXT NOT NULL,"
         " status INTEGER NOT NULL,"
         " headers TEXT NOT NULL,"
         " body TEXT NOT NULL,"
         " created_ms BIGINT NOT NULL,"
         " PRIMARY KEY (caller, route, idem_key));"},
        {2, "expiry order",
         "CREATE INDEX idempotency_keys_created ON idempotency_keys(created_ms);"}}},
  };
}

void AppendOutbox(Db& tx, const std::string& event_id, const std::string& topic,
                  const std::string& key, const std::string& headers, const std::string& payload,
                  std::int64_t created_ms) {
  auto stmt = tx.Prepare(
      "INSERT INTO outbox(event_id, topic, msg_key, headers, payload, created_ms)"
      " VALUES (?, ?, ?, ?, ?, ?)");
  stmt.Bind(1, event_id).Bind(2, topic).Bind(3, key).Bind(4, headers).Bind(5, payload);
  stmt.Bind(6, created_ms);
  stmt.Run();
}

std::vector<OutboxRow> PendingOutbox(Db& db, std::int64_t limit) {
  auto stmt = db.Prepare(
      "SELECT seq, event_id, topic, msg_key, headers, payload FROM outbox"
      " WHERE sent_ms IS NULL ORDER BY seq LIMIT ?");
  stmt.Bind(1, limit);
  std::vector<OutboxRow> rows;
  while (stmt.Step()) {
    rows.push_back(
        {stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4), stmt.Text(5)});
  }
  return rows;
}

bool MarkOutboxSent(Db& db, std::int64_t seq, std::int64_t sent_ms) {
  auto stmt = db.Prepare("UPDATE outbox SET sent_ms = ? WHERE seq = ? AND sent_ms IS NULL");
  stmt.Bind(1, sent_ms).Bind(2, seq);
  stmt.Run();
  return db.Changes() == 1;
}

std::int64_t PruneSentOutbox(Db& tx, std::int64_t sent_before_ms, std::int64_t limit) {
  auto stmt = tx.Prepare(
      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_ms IS NOT NULL"
      " AND sent_ms < ? ORDER BY sent_ms LIMIT ?)");
  stmt.Bind(1, sent_before_ms).Bind(2, limit);
  stmt.Run();
  return tx.Changes();
}

bool RecordInbox(Db& tx, const std::string& consumer, const std::string& event_id,
                 const std::string& topic, int partition, std::int64_t offset) {
  auto stmt = tx.Prepare(
      "INSERT INTO inbox(consumer, event_id, topic, partition, \"offset\")"
      " VALUES (?, ?, ?, ?, ?) ON CONFLICT (consumer, event_id) DO NOTHING");
  stmt.Bind(1, consumer).Bind(2, event_id).Bind(3, topic).Bind(4, partition).Bind(5, offset);
  stmt.Run();
  return tx.Changes() == 1;
}

std::optional<IdempotentAnswer> FindIdempotent(Db& tx, const std::string& caller,
                                               const std::string& route, const std::string& key,
                                               std::int64_t since_ms) {
  auto stmt = tx.Prepare(
      "SELECT request_hash, status, headers, body FROM idempotency_keys"
      " WHERE caller = ? AND route = ? AND idem_key = ? AND created_ms >= ?");
  stmt.Bind(1, caller).Bind(2, route).Bind(3, key).Bind(4, since_ms);
  if (!stmt.Step()) return std::nullopt;
  return IdempotentAnswer{stmt.Text(0), static_cast<int>(stmt.Int(1)), stmt.Text(2), stmt.Text(3)};
}

bool RecordIdempotent(Db& tx, const std::string& caller, const std::string& route,
                      const std::string& key, const IdempotentAnswer& answer,
                      std::int64_t created_ms) {
  auto stmt = tx.Prepare(
      "INSERT INTO idempotency_keys(caller, route, idem_key, request_hash, status, headers, body,"
      " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (caller, route, idem_key) DO NOTHING");
  stmt.Bind(1, caller).Bind(2, route).Bind(3, key).Bind(4, answer.request_hash);
  stmt.Bind(5, answer.status).Bind(6, answer.headers).Bind(7, answer.body).Bind(8, created_ms);
  stmt.Run();
  return tx.Changes() == 1;
}

}  // namespace jilaf::store::pg
