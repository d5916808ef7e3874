#pragma once

#include <cstdint>
#include <functional>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::http {

/// The idempotency table's migrations (component "common.idempotency").
store::MigrationSet IdempotencyMigrations();

/// Runs a creating POST at most once per `Idempotency-Key`, inside the caller's write
/// transaction. Without the header, `create` simply runs. With it, the first call runs `create`
/// and records its response in the same transaction; a retry with the same key and the same
/// body gets that response again (with `Idempotent-Replayed: true`); the same key with another
/// body is 422. Keys are scoped by caller and route, and expire after kIdempotencyKeyLifetimeMs
/// (24 hours, as the IETF Idempotency-Key draft suggests): an older key is a new request.
Response RunIdempotent(store::Db& tx, const Request& request,
                       const std::function<Response()>& create);

/// For a response that carries what must not be stored (a secret shown once): what of its body
/// is recorded, and how a replay is completed from the service's own (encrypted) store.
struct ReplayHooks {
  /// The body to record for `response` (its body unchanged when empty).
  std::function<std::string(const Response& response)> stored_body;
  /// Completes a replayed response, inside the same transaction.
  std::function<void(Response& replay)> complete_replay;
};
Response RunIdempotent(store::Db& tx, const Request& request,
                       const std::function<Response()>& create, const ReplayHooks& hooks);

/// How long a recorded response answers retries with the same key.
inline constexpr std::int64_t kIdempotencyKeyLifetimeMs = 24LL * 60 * 60 * 1000;

/// Deletes at most `limit` records of keys used before `created_before_ms`; returns how many.
std::int64_t ExpireIdempotencyKeys(store::Db& tx, std::int64_t created_before_ms,
                                   std::int64_t limit);

}  // namespace jilaf::http
