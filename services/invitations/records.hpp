#pragma once

// The nomination's lifecycle across records: a move checks seats and quotas, ranks the
// waitlist, promotes into a freed seat and opens the follow-ups, each change with its event.
// The rules themselves live in domain.hpp; the tables in tables.hpp.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/aggregate/sequences.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/field_cipher.hpp"

namespace jilaf::invitations {

/// A transition body, `{"to", "reason"}` (`note` and `comment`: deprecated aliases of reason),
/// the reason at most 500 bytes.
aggregate::TransitionInput ReadMove(const nlohmann::json& body);

/// One move of a nomination, as it goes.
struct NominationMove {
  explicit NominationMove(aggregate::TransitionInput input)
      : to(std::move(input.to)), reason(std::move(input.reason)) {}

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
void FinishMove(aggregate::Change& change, const nlohmann::json& nomination, NominationMove& move);

/// The nomination as the caller's view may see it, its personal fields decrypted when allowed.
nlohmann::json RenderForView(store::Db& db, const FieldCipher& cipher,
                             const nlohmann::json& nomination, View view);

}  // namespace jilaf::invitations
