#include "services/missions/tables.hpp"

#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

using aggregate::Column;
using aggregate::DocTable;

// The three aggregates share their columns (migration 2) and their filters.
DocTable AggregateTable(std::string name, std::string what, std::string collection) {
  return DocTable(
      {std::move(name),
       std::move(what),
       std::move(collection),
       {{"status", "status"}, {"fiscal_year", "fiscal_year", Column::Type::kInteger}},
       {{"country", {"country", "countries[]"}}},
       true,
       // Titles and the people of each kind (absent paths index nothing).
       {"title", "theme", "co_organiser", "delegation[].name", "delegation[].organisation",
        "meetings[].counterpart", "participants[].name", "participants[].organisation",
        "registrations[].name", "registrations[].organisation"}});
}

}  // namespace

const aggregate::Publisher& Events() {
  // Version 2 of alumnus events: no names or e-mail (docs/events.md).
  static const aggregate::Publisher publisher("missions", {{"alumnus", 2}});
  return publisher;
}

const DocTable& AlumniTable() {
  static const DocTable table(
      {"alumni",
       "alumnus",
       "/v1/alumni",
       {{"country", "country"}, {"fiscal_year", "fiscal_year", Column::Type::kInteger}},
       {{"programme_id", {"programme_id"}}},
       false});
  return table;
}

const Aggregate& Mission() {
  static const DocTable table = AggregateTable("missions", "mission", "/v1/missions");
  static const Aggregate of{
      {table, Events(), "mission"},
      MissionStates(),
      "missions",
      ReadMission,
      RequirePublishedReport,
      MissionCreated,
      MissionFacts,
      MissionSnapshot,
      // What the OpenAPI document's PATCH names; meetings and the report have routes of their own.
      {"title", "countries", "start_date", "end_date", "objectives", "delegation"},
      {"meetings", "report"}};
  return of;
}

const Aggregate& Education() {
  static const DocTable table =
      AggregateTable("education_programmes", "education programme", "/v1/education-programmes");
  static const Aggregate of{{table, Events(), "education_programme"},
                            EducationStates(),
                            "education-programmes",
                            ReadProgramme,
                            CompleteParticipants,
                            ProgrammeCreated,
                            ProgrammeMoved,
                            ProgrammeSnapshot,
                            {"title", "location", "country", "venue", "start_date", "end_date",
                             "attendance_threshold_percent"},
                            {"courses", "participants", "attendance"},
                            nullptr,
                            CoursesAsInput};
  return of;
}

const Aggregate& Seminar() {
  static const DocTable table = AggregateTable("seminars", "seminar", "/v1/seminars");
  static const Aggregate of{
      {table, Events(), "seminar"},
      SeminarStates(),
      "seminars",
      ReadSeminar,
      nullptr,
      SeminarFacts,
      SeminarMoved,
      SeminarSnapshot,
      {"title", "co_organisers", "venue", "start_date", "end_date", "capacity", "agenda"},
      {"registrations"},
      CheckCapacityCoversRegistrations};
  return of;
}

aggregate::EventFacts Fact(const Aggregate& of, const nlohmann::json& doc, std::string name,
                           std::string what, nlohmann::json data) {
  const std::string id = doc.at("id");
  return {std::move(name), std::move(what), id, of.subject + "/" + id, std::move(data)};
}

}  // namespace jilaf::missions
