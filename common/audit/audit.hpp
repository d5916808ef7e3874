#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::audit {

/// The audit log's table (component "common.audit").
store::MigrationSet Migrations();

/// One audited write: who, what, when, which request, and how it ended. Never a body, a query
/// string or a token, so never personal data such as passport numbers or dates of birth.
struct Entry {
  std::string at;  // RFC 3339 UTC with milliseconds; filled by Append when empty
  std::string request_id;
  std::string subject;             // the token's `sub`; empty for public routes
  std::vector<std::string> roles;  // role names
  std::string method;
  std::string route;  // the route template, e.g. /v1/programmes/{id}
  std::optional<std::string> entity_id;
  std::optional<int> status;  // null when the change committed before its response was built
  std::string outcome;        // committed, ok, rejected (4xx) or failed (5xx)
};

/// 64 zeros: the `prev_hash` of the first row.
extern const char* const kGenesisHash;

/// On PostgreSQL, the transaction-scoped advisory lock an append holds so that the writers of
/// several replicas extend one chain in turn ("audit" in ASCII).
inline constexpr std::int64_t kChainLockKey = 0x6175646974;

/// The text a row's hash covers: its fields as compact JSON with sorted keys.
std::string CanonicalRow(std::int64_t seq, const Entry& entry);

/// Appends `entry` to the chain inside the caller's transaction: seq = last + 1 and
/// hash = sha256(prev_hash || canonical row). Returns the new seq.
std::int64_t Append(store::Db& db, Entry entry);

struct Verification {
  bool intact = true;
  std::int64_t rows = 0;
  std::int64_t last_seq = 0;
  std::string last_hash;
  std::optional<std::int64_t> first_broken_seq;
  std::string problem;  // why the chain breaks at first_broken_seq
};

/// Recomputes the whole chain: an altered, removed, inserted or reordered row breaks it at the
/// first row whose hash or link no longer matches. (Removing the newest rows leaves a shorter
/// chain that still verifies: compare `last_seq`/`last_hash` with a copy kept elsewhere.)
Verification Verify(store::Db& db);

/// The API with every write route (any method but GET, HEAD, OPTIONS) and every read of personal
/// data (Router::PersonalData; its row has outcome "ok" for a 2xx) audited, plus
/// `GET /v1/audit` and `GET /v1/audit/verify` for admins. A write's row commits in the same
/// transaction as the change (through the store's WriteHook); a request that changed nothing
/// (rejected, failed, or a write route that stores nothing) gets its row in a transaction of
/// its own after the handler returned.
http::Router Instrument(const http::Router& api, store::Store& store);
/// The parameters of the audit routes Instrument adds (GET /v1/audit's filters), for the
/// OpenAPI documents.
std::vector<http::Operation> Parameters();

}  // namespace jilaf::audit
