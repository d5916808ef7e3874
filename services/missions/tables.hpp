#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/domain/state_machine.hpp"

// Where the missions service keeps its records and how its events are named: declared once.
namespace jilaf::missions {

/// The service's events: topic jilaf.missions.events, source /jilaf/missions.
const aggregate::Publisher& Events();

/// The alumni directory (a read model of the invitations topic; no version).
const aggregate::DocTable& AlumniTable();

/// One of the service's three aggregates (missions, education programmes, seminars): its table
/// and events, its states, where its events' subjects live, and what is its own: how a create
/// body reads, the rule of its transitions, and the data of its events.
struct Aggregate {
  aggregate::Kind kind;
  const domain::StateMachine& states;
  std::string subject;                                 // "missions": subject "missions/<id>"
  nlohmann::json (*read)(const nlohmann::json& body);  // a new document, without its status
  void (*rule)(aggregate::Change&, nlohmann::json& doc, const std::string& to);  // may be null
  nlohmann::json (*created)(const nlohmann::json& doc);
  nlohmann::json (*moved)(const nlohmann::json& doc);  // in its new status (the sequence adds the
                                                       // previous one)
  nlohmann::json (*snapshot)(const nlohmann::json& doc);
  /// The members of the create body a PATCH may correct (empty: no PATCH route); the stored
  /// values are read again with `read` after the merge patch, so the create's rules hold.
  std::vector<std::string> corrects = {};
  /// Members `read` starts afresh that the stored document keeps (registrations, a report).
  std::vector<std::string> keeps = {};
  /// A rule the corrected document must still keep (capacity above registrations); may be null.
  void (*still)(const nlohmann::json& doc) = nullptr;
  /// Members `read` needs that a PATCH does not change, as body input (a programme's courses
  /// without the ids the service gave them); may be null.
  nlohmann::json (*unchanged_input)(const nlohmann::json& doc) = nullptr;
};

const Aggregate& Mission();
const Aggregate& Education();
const Aggregate& Seminar();

// The aggregates' own parts, each beside its handlers.

/// A research mission (countries, dates, objectives, delegation, meetings).
nlohmann::json ReadMission(const nlohmann::json& body);
/// A mission becomes `reported` only with a published findings report.
void RequirePublishedReport(aggregate::Change&, nlohmann::json& doc, const std::string& to);
nlohmann::json MissionFacts(const nlohmann::json& doc);
nlohmann::json MissionCreated(const nlohmann::json& doc);
nlohmann::json MissionSnapshot(const nlohmann::json& doc);

/// An education programme in Japan or abroad, with courses and dated sessions and the
/// attendance threshold for completion.
nlohmann::json ReadProgramme(const nlohmann::json& body);
/// Moving to `completed` completes every participant whose attendance meets the threshold and
/// issues their certificates.
void CompleteParticipants(aggregate::Change& change, nlohmann::json& doc, const std::string& to);
nlohmann::json ProgrammeCreated(const nlohmann::json& doc);
nlohmann::json ProgrammeMoved(const nlohmann::json& doc);
nlohmann::json ProgrammeSnapshot(const nlohmann::json& doc);

/// An international seminar (co-organised with ITUC-AP unless told otherwise), venue, dates,
/// agenda and capacity.
nlohmann::json ReadSeminar(const nlohmann::json& body);
nlohmann::json SeminarFacts(const nlohmann::json& doc);
nlohmann::json SeminarMoved(const nlohmann::json& doc);
nlohmann::json SeminarSnapshot(const nlohmann::json& doc);
/// The courses of an education programme as a create body holds them (no ids), so that a
/// correction of its dates is checked against its sessions.
nlohmann::json CoursesAsInput(const nlohmann::json& doc);
/// 409 when the capacity is below the registrations already taken.
void CheckCapacityCoversRegistrations(const nlohmann::json& doc);

/// An event about the aggregate `doc`: keyed by its id, subject `<subject>/<id>`.
aggregate::EventFacts Fact(const Aggregate& of, const nlohmann::json& doc, std::string name,
                           std::string what, nlohmann::json data);

}  // namespace jilaf::missions
