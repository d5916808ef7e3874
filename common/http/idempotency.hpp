#pragma once

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
/// body is 422. Keys are scoped by caller and route.
Response RunIdempotent(store::Db& tx, const Request& request,
                       const std::function<Response()>& create);

}  // namespace jilaf::http
