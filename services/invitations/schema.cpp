#include "services/invitations/schema.hpp"

namespace jilaf::invitations {

store::MigrationSet Migrations() {
  return {"invitations",
          {{1, "programmes and nominations",
            "CREATE TABLE programmes ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " fiscal_year INTEGER NOT NULL,"
            " track TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"
            "CREATE INDEX programmes_filter ON programmes(fiscal_year, track, status);"
            "CREATE TABLE nominations ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " programme_id TEXT NOT NULL REFERENCES programmes(id),"
            " nationality TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"
            "CREATE INDEX nominations_programme ON nominations(programme_id, status);"}}};
}

}  // namespace jilaf::invitations
