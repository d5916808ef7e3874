#pragma once

// Where the service keeps its records and how their events are named: one place for the tables,
// the publisher, the kinds and the facts of every event.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/aggregate/sequences.hpp"

namespace jilaf::invitations {

const aggregate::DocTable& Programmes();
const aggregate::DocTable& Nominations();
const aggregate::DocTable& ItineraryItems();
/// One logistics document per nomination: its id is the nomination's.
const aggregate::DocTable& Logistics();
const aggregate::DocTable& FollowUps();

/// `{"items": [...]}`: every document of `table` whose `column` is `id`, ordered by the document
/// member `order_by` (then by insertion).
nlohmann::json ItemsOf(store::Db& db, const aggregate::DocTable& table, const std::string& column,
                       const std::string& id, const std::string& order_by);

/// `jilaf.invitations.events`, source `/jilaf/invitations`.
const aggregate::Publisher& Events();

const aggregate::Kind& ProgrammeKind();
const aggregate::Kind& NominationKind();
const aggregate::Kind& ItineraryKind();

/// `jilaf.invitations.programme.<what>`.
aggregate::EventFacts ProgrammeFacts(const nlohmann::json& programme, const std::string& what,
                                     const std::optional<std::string>& previous_status);
/// `jilaf.invitations.nomination.<status>` (or `.<what>` when given), `extra` merged into the
/// data.
aggregate::EventFacts NominationFacts(const nlohmann::json& programme,
                                      const nlohmann::json& nomination,
                                      const std::optional<std::string>& previous_status,
                                      const nlohmann::json& extra = nullptr,
                                      const std::string& what = {});
/// `jilaf.invitations.followup.<what>`, with the candidate of `nomination`.
aggregate::EventFacts FollowUpFacts(const nlohmann::json& followup,
                                    const nlohmann::json& nomination, const std::string& what);

}  // namespace jilaf::invitations
