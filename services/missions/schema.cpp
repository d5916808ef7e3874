#include "services/missions/schema.hpp"

#include "common/store/dialect.hpp"
#include "common/util/calendar.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

// Migration 3: each aggregate's `history` becomes `status_history`, its entries' `note` becoming
// `reason` (the one status-history shape of every service: {from, to, at, by, reason?}).
std::string StatusHistorySql(const std::string& table) {
  return "UPDATE " + table +
         " SET doc = json_remove(json_set(doc, '$.status_history', json((SELECT"
         " json_group_array(json(CASE WHEN json_type(h.value, '$.note') IS NULL THEN h.value"
         " ELSE json_remove(json_set(h.value, '$.reason', json_extract(h.value, '$.note')),"
         " '$.note') END)) FROM json_each(doc, '$.history') AS h))), '$.history')"
         " WHERE json_type(doc, '$.history') = 'array';";
}

std::string MissionsTable() {
  return "CREATE TABLE missions ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " version INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL,"
         " updated_at TEXT NOT NULL);";
}

std::string EducationAndAlumni() {
  return "ALTER TABLE missions ADD COLUMN status TEXT NOT NULL DEFAULT 'planned';"
         "ALTER TABLE missions ADD COLUMN fiscal_year INTEGER NOT NULL DEFAULT 0;"
         "CREATE INDEX missions_filter ON missions(fiscal_year, status);"
         "CREATE TABLE education_programmes ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " status TEXT NOT NULL,"
         " fiscal_year INTEGER NOT NULL,"
         " version INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL,"
         " updated_at TEXT NOT NULL);"
         "CREATE INDEX education_filter ON education_programmes(fiscal_year, status);"
         "CREATE TABLE seminars ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " status TEXT NOT NULL,"
         " fiscal_year INTEGER NOT NULL,"
         " version INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL,"
         " updated_at TEXT NOT NULL);"
         "CREATE INDEX seminars_filter ON seminars(fiscal_year, status);"
         "CREATE TABLE certificates ("
         " code TEXT PRIMARY KEY,"
         " programme_id TEXT NOT NULL,"
         " participant_id TEXT NOT NULL,"
         " fiscal_year INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL,"
         " UNIQUE(programme_id, participant_id));"
         // The alumni directory: a read model of jilaf.invitations.events. One alumnus per
         // completed nomination, so a replayed event (even under a new event id) is a no-op.
         "CREATE TABLE alumni ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " nomination_id TEXT NOT NULL UNIQUE,"
         " email_lower TEXT NOT NULL,"
         " country TEXT NOT NULL,"
         " fiscal_year INTEGER NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL);"
         "CREATE INDEX alumni_filter ON alumni(country, fiscal_year);"
         "CREATE INDEX alumni_email ON alumni(email_lower);"
         // What an alumnus was invited to and registered for: their history with missions.
         "CREATE TABLE alumni_engagements ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " alumnus_id TEXT NOT NULL REFERENCES alumni(id),"
         " target_kind TEXT NOT NULL,"
         " target_id TEXT NOT NULL,"
         " fiscal_year INTEGER NOT NULL,"
         " invited_at TEXT,"
         " registered_at TEXT,"
         " registration_id TEXT,"
         " UNIQUE(alumnus_id, target_kind, target_id));";
}

// On PostgreSQL the data step (json functions over documents) has nothing to convert: the
// database began on this engine.
constexpr const char* kDone = "SELECT 1";

}  // namespace

store::MigrationSet Migrations() {
  return {"missions",
          {{1, "missions", MissionsTable(), store::PostgresTypes(MissionsTable())},
           {2, "education, seminars, certificates, alumni", EducationAndAlumni(),
            store::PostgresTypes(EducationAndAlumni())},
           {3, "status_history with reason",
            StatusHistorySql("missions") + StatusHistorySql("education_programmes") +
                StatusHistorySql("seminars"),
            kDone},
           // Filled by IndexForSearch at start (the words are folded in C++).
           {4, "search: the full-text indexes of missions, education programmes and seminars",
            Mission().kind.table.SearchSql() + Education().kind.table.SearchSql() +
                Seminar().kind.table.SearchSql(),
            Mission().kind.table.SearchSql(store::Engine::kPostgres) +
                Education().kind.table.SearchSql(store::Engine::kPostgres) +
                Seminar().kind.table.SearchSql(store::Engine::kPostgres)},
           {5, "people: the person read model fed from both topics", PeopleTable().CreateSql(),
            PeopleTable().CreateSql(store::Engine::kPostgres)}}};
}

const domain::StateMachine& MissionStates() {
  static const domain::StateMachine machine("mission", {{"planned", {"in_progress", "cancelled"}},
                                                        {"in_progress", {"completed", "cancelled"}},
                                                        {"completed", {"reported"}}});
  return machine;
}

const domain::StateMachine& ReportStates() {
  static const domain::StateMachine machine(
      "report", {{"draft", {"in_review"}}, {"in_review", {"draft", "published"}}});
  return machine;
}

const domain::StateMachine& EducationStates() {
  static const domain::StateMachine machine(
      "education programme",
      {{"planned", {"in_progress", "cancelled"}}, {"in_progress", {"completed", "cancelled"}}});
  return machine;
}

const domain::StateMachine& SeminarStates() {
  static const domain::StateMachine machine(
      "seminar", {{"planned", {"registration_open", "cancelled"}},
                  {"registration_open", {"registration_closed", "cancelled"}},
                  {"registration_closed", {"registration_open", "held", "cancelled"}},
                  {"held", {"reported"}}});
  return machine;
}

int FiscalYearOf(const std::string& date) { return date.size() < 7 ? 0 : util::FiscalYearOf(date); }

}  // namespace jilaf::missions
