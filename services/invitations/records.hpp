#pragma once

// The nomination's lifecycle across records: a move checks seats and quotas, ranks the
// waitlist, promotes into a freed seat and opens the follow-ups, each change with its event.
// The rules themselves live in domain.hpp; the tables in tables.hpp.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aggregate/sequences.hpp"
#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/field_cipher.hpp"

namespace jilaf::invitations {

/// A transition body, `{"to", "reason"}` (`note` and `comment`: deprecated aliases of reason),
/// the reason at most 500 bytes.
aggregate::TransitionInput ReadMove(const nlohmann::json& body);

/// One move of a nomination, as it goes.
struct NominationMove {
  NominationMove(std::string to, std::optional<std::string> reason)
      : to(std::move(to)), reason(std::move(reason)) {}

  std::string to;
  std::optional<std::string> reason;
  std::string from;                   // set by BeginMove
  nlohmann::json programme;           // set by BeginMove
  std::vector<std::string> promoted;  // set by FinishMove: ids moved from the waitlist
};

/// Before the nomination is stored: the state machine (409), a programme that still allows
/// changes (409), seats and country quota on selection (409 naming the limit), the waitlist rank
/// and the status reason.
void BeginMove(store::Db& tx, nlohmann::json& nomination, NominationMove& move);
/// After it is stored: its event, the follow-ups on completion, and the promotion of the first
/// eligible waitlisted candidate when a seat is freed (with its own event).
void FinishMove(store::Db& tx, std::string_view traceparent, const nlohmann::json& nomination,
                NominationMove& move);

struct TransitionResult {
  nlohmann::json nomination;
  std::vector<std::string> promoted;  // nomination ids moved from the waitlist into a seat
};

/// Moves a nomination to `to` under every rule (BeginMove, store, FinishMove) inside `tx`. When
/// `request` is given, its If-Match must name the current version (428/412).
TransitionResult TransitionNomination(store::Db& tx, const std::string& id, const std::string& to,
                                      const std::optional<std::string>& reason,
                                      const http::Request* request, const std::string& traceparent);

/// The nomination as the caller's view may see it, its personal fields decrypted when allowed.
nlohmann::json RenderForView(store::Db& db, const FieldCipher& cipher,
                             const nlohmann::json& nomination, View view);

}  // namespace jilaf::invitations
