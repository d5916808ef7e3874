#pragma once

// What a nomination's candidate and nominating organisation are made of, read once for the
// create (nominations.cpp) and the correction (corrections.cpp), and the duplicate check both run.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/domain.hpp"

namespace jilaf::invitations {

/// `{"candidate", "nominating_organisation"}` read with field-precise 422s; the passport number
/// and date of birth go to `personal`, never into the document.
nlohmann::json ReadNomination(const nlohmann::json& body, PersonalData& personal);

/// The request body as JSON; a parse error keeps its position but not the parser's quote of the
/// input (which may be a passport number).
nlohmann::json ParseBodyWithoutEcho(const http::Request& request);

/// The nominations of the same identity in earlier fiscal years (to be flagged); 409
/// duplicate-nomination when one other than `self` is in `fiscal_year` itself.
nlohmann::json EarlierParticipation(store::Db& tx, const std::string& identity_hash,
                                    std::int64_t fiscal_year, const std::string& self = {});

}  // namespace jilaf::invitations
