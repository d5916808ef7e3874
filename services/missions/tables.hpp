#pragma once

#include <nlohmann/json.hpp>

#include <string>

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
/// and events, its states, where its events' subjects live, and the data of its own events.
struct Aggregate {
  aggregate::Kind kind;
  const domain::StateMachine& states;
  std::string subject;  // "missions": subject "missions/<id>"
  nlohmann::json (*created)(const nlohmann::json& doc);
  nlohmann::json (*moved)(const nlohmann::json& doc, const std::string& from);  // to its status
  nlohmann::json (*snapshot)(const nlohmann::json& doc);
};

const Aggregate& Mission();
const Aggregate& Education();
const Aggregate& Seminar();

// The data of each aggregate's events, beside its handlers.
nlohmann::json MissionCreated(const nlohmann::json& doc);
nlohmann::json MissionMoved(const nlohmann::json& doc, const std::string& from);
nlohmann::json MissionSnapshot(const nlohmann::json& doc);
nlohmann::json ProgrammeCreated(const nlohmann::json& doc);
nlohmann::json ProgrammeMoved(const nlohmann::json& doc, const std::string& from);
nlohmann::json ProgrammeSnapshot(const nlohmann::json& doc);
nlohmann::json SeminarCreated(const nlohmann::json& doc);
nlohmann::json SeminarMoved(const nlohmann::json& doc, const std::string& from);
nlohmann::json SeminarSnapshot(const nlohmann::json& doc);

/// An event about the aggregate `doc`: keyed by its id, subject `<subject>/<id>`.
aggregate::EventFacts Fact(const Aggregate& of, const nlohmann::json& doc, std::string name,
                           std::string what, nlohmann::json data);

}  // namespace jilaf::missions
