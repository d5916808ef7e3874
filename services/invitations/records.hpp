#pragma once

// Loading, saving and announcing the service's records inside a transaction. Shared by the
// handler files; the rules themselves live in domain.hpp.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/field_cipher.hpp"

namespace jilaf::invitations {

/// The programme's document; 404 problem if there is none.
nlohmann::json LoadProgramme(store::Db& db, const std::string& id);
/// The nomination's document; 404 problem if there is none.
nlohmann::json LoadNomination(store::Db& db, const std::string& id);
/// Decrypts the nomination's personal fields (empty when none were given).
PersonalData LoadPersonal(store::Db& db, const FieldCipher& cipher, const std::string& id);

/// Bumps version and updated_at, then writes the row and its filter columns.
void SaveNomination(store::Db& tx, nlohmann::json& nomination);
void SaveProgramme(store::Db& tx, nlohmann::json& programme);

/// Seats taken in a programme now.
Occupancy LoadOccupancy(store::Db& db, const std::string& programme_id);

/// Appends `jilaf.invitations.nomination.<status>` (or `.<what>` when given) to the outbox.
void EmitNominationEvent(store::Db& tx, const nlohmann::json& programme,
                         const nlohmann::json& nomination,
                         const std::optional<std::string>& previous_status,
                         const std::string& traceparent, nlohmann::json extra = nullptr,
                         const std::string& what = {});
/// Appends `jilaf.invitations.programme.<what>` to the outbox.
void EmitProgrammeEvent(store::Db& tx, const nlohmann::json& programme, const std::string& what,
                        const std::optional<std::string>& previous_status,
                        const std::string& traceparent);

struct TransitionResult {
  nlohmann::json nomination;
  std::vector<std::string> promoted;  // nomination ids moved from the waitlist into a seat
};

/// Moves a nomination to `to` under every rule: the state machine (409), seats and country
/// quota on selection (409 naming the limit), waitlist rank, automatic promotion of the first
/// eligible waitlisted candidate when a seat is freed, follow-ups on completion; one event per
/// change. When `request` is given, its If-Match must name the current version (428/412).
TransitionResult TransitionNomination(store::Db& tx, const std::string& id, const std::string& to,
                                      const std::optional<std::string>& reason,
                                      const http::Request* request, const std::string& traceparent);

/// A JSON response with the resource's ETag.
http::Response JsonWithEtag(int status, const nlohmann::json& doc);

}  // namespace jilaf::invitations
