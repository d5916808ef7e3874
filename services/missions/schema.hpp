#pragma once

#include <string>

#include "common/domain/state_machine.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// The topic the alumni directory is built from.
inline constexpr const char* kInvitationsTopic = "jilaf.invitations.events";
/// Where the alumni consumer's unreadable or failing messages go.
inline constexpr const char* kDeadLetterTopic = "jilaf.missions.dlq";
/// The service's own topic, which the person read model reads back.
inline constexpr const char* kMissionsTopic = "jilaf.missions.events";

/// Tables of the missions service. Each aggregate keeps its full JSON document in `doc`, with
/// the columns used for filtering beside it.
store::MigrationSet Migrations();

/// Research missions: planned → in_progress → completed → reported, or cancelled.
const domain::StateMachine& MissionStates();
/// A mission's findings report: draft → in_review → published (in_review → draft to revise).
const domain::StateMachine& ReportStates();
/// Education programmes: planned → in_progress → completed, or cancelled.
const domain::StateMachine& EducationStates();
/// Seminars: planned → registration_open → registration_closed → held → reported, or cancelled.
const domain::StateMachine& SeminarStates();

/// JILAF's fiscal year (April to March) of a "YYYY-MM-DD" date.
int FiscalYearOf(const std::string& date);

}  // namespace jilaf::missions
