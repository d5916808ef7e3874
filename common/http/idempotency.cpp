#include "common/http/idempotency.hpp"

#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "common/store/dialect.hpp"
#include "common/util/clock.hpp"
#include "common/util/digest.hpp"

namespace jilaf::http {
store::MigrationSet IdempotencyMigrations() {
  const std::string sql =
      "CREATE TABLE idempotency_keys ("
      " caller TEXT NOT NULL,"
      " route TEXT NOT NULL,"
      " idem_key TEXT NOT NULL,"
      " request_hash TEXT NOT NULL,"
      " status INTEGER NOT NULL,"
      " headers TEXT NOT NULL,"
      " body TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL,"
      " PRIMARY KEY (caller, route, idem_key)) WITHOUT ROWID;";
  return {"common.idempotency",
          {{1, "create idempotency keys", sql, store::PostgresTypes(sql)},
           {2, "expiry order",
            "CREATE INDEX idempotency_keys_created ON idempotency_keys(created_ms);"}}};
}

Response RunIdempotent(store::Db& tx, const Request& request,
                       const std::function<Response()>& create) {
  return RunIdempotent(tx, request, create, {});
}

Response RunIdempotent(store::Db& tx, const Request& request,
                       const std::function<Response()>& create, const ReplayHooks& hooks) {
  const std::string_view key = request.Header("idempotency-key");
  if (key.empty()) return create();
  if (key.size() > 200) throw ApiError::BadRequest("Idempotency-Key is longer than 200 bytes");
  const std::string caller = request.principal.subject;
  const std::string route = std::string(MethodName(request.method)) + " " + request.path;
  const std::string hash = util::Sha256Hex(request.body);
  {
    auto find = tx.Prepare(
        "SELECT request_hash, status, headers, body FROM idempotency_keys"
        " WHERE caller = ? AND route = ? AND idem_key = ? AND created_ms >= ?");
    find.Bind(1, caller).Bind(2, route).Bind(3, key).Bind(
        4, util::NowUnixMs() - kIdempotencyKeyLifetimeMs);
    if (find.Step()) {
      if (find.Text(0) != hash) {
        throw ApiError(422, "idempotency-key-reused", "Idempotency key reused",
                       "this Idempotency-Key was already used with a different request body");
      }
      Response replay;
      replay.status = static_cast<int>(find.Int(1));
      const auto headers = nlohmann::json::parse(find.Text(2), nullptr, false);
      if (headers.is_array()) {
        for (const auto& pair : headers) replay.SetHeader(pair.at(0), pair.at(1));
      }
      replay.body = find.Text(3);
      if (hooks.complete_replay) hooks.complete_replay(replay);
      replay.SetHeader("Idempotent-Replayed", "true");
      return replay;
    }
  }
  Response response = create();
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : response.headers) headers.push_back({name, value});
  auto insert = tx.Prepare(
      "INSERT INTO idempotency_keys(caller, route, idem_key, request_hash, status, headers, body,"
      " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (caller, route, idem_key) DO UPDATE"
      " SET request_hash = excluded.request_hash, status = excluded.status,"
      " headers = excluded.headers, body = excluded.body, created_ms = excluded.created_ms");
  insert.Bind(1, caller)
      .Bind(2, route)
      .Bind(3, key)
      .Bind(4, hash)
      .Bind(5, response.status)
      .Bind(6, headers.dump())
      .Bind(7, hooks.stored_body ? hooks.stored_body(response) : response.body)
      .Bind(8, util::NowUnixMs());
  insert.Run();
  return response;
}

std::int64_t ExpireIdempotencyKeys(store::Db& tx, std::int64_t created_before_ms,
                                   std::int64_t limit) {
  auto stmt = tx.Prepare(
      "DELETE FROM idempotency_keys WHERE (caller, route, idem_key) IN"
      " (SELECT caller, route, idem_key FROM idempotency_keys WHERE created_ms < ? LIMIT ?)");
  stmt.Bind(1, created_before_ms).Bind(2, limit);
  stmt.Run();
  return tx.Changes();
}

}  // namespace jilaf::http
