#include "services/invitations/schema.hpp"

#include "services/invitations/tables.hpp"

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
            "CREATE INDEX nominations_programme ON nominations(programme_id, status);"},
           {2,
            "the programme year: fiscal year, duplicates, waitlist, personal data, logistics,"
            " follow-ups",
            "ALTER TABLE nominations ADD COLUMN fiscal_year INTEGER;"
            "UPDATE nominations SET fiscal_year ="
            " (SELECT fiscal_year FROM programmes p WHERE p.id = nominations.programme_id);"
            // Keyed hash of the normalised identity (name, birth date, nationality): duplicates
            // are found without the birth date being stored in clear.
            "ALTER TABLE nominations ADD COLUMN identity_hash TEXT;"
            "ALTER TABLE nominations ADD COLUMN waitlist_rank INTEGER;"
            "CREATE INDEX nominations_identity ON nominations(identity_hash);"
            "CREATE INDEX nominations_fiscal_year ON nominations(fiscal_year, status);"
            // Ciphertexts only (crypto::FieldCipher); deleted with secure_delete so that nothing of
            // them stays in the file.
            "CREATE TABLE nomination_personal ("
            " nomination_id TEXT PRIMARY KEY REFERENCES nominations(id),"
            " passport_number TEXT,"
            " date_of_birth TEXT);"
            "CREATE TABLE itinerary_items ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " programme_id TEXT NOT NULL REFERENCES programmes(id),"
            " starts_at TEXT NOT NULL,"
            " doc TEXT NOT NULL);"
            "CREATE INDEX itinerary_programme ON itinerary_items(programme_id, starts_at);"
            "CREATE TABLE logistics ("
            " nomination_id TEXT PRIMARY KEY REFERENCES nominations(id),"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL);"
            "CREATE TABLE followups ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " nomination_id TEXT NOT NULL REFERENCES nominations(id),"
            " months INTEGER NOT NULL,"
            " due_date TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " overdue_notified INTEGER NOT NULL DEFAULT 0,"
            " doc TEXT NOT NULL,"
            " UNIQUE (nomination_id, months));"
            "CREATE INDEX followups_due ON followups(status, overdue_notified, due_date);"},
           {3,
            "document tables: every nomination document names its fiscal year; logistics keyed"
            " by id with its version and times beside the document",
            "UPDATE nominations SET doc = json_set(doc, '$.fiscal_year', fiscal_year)"
            " WHERE json_extract(doc, '$.fiscal_year') IS NULL AND fiscal_year IS NOT NULL;"
            "CREATE TABLE logistics_by_id ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE REFERENCES nominations(id),"
            " doc TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"
            "INSERT INTO logistics_by_id(id, doc, version, created_at, updated_at)"
            " SELECT nomination_id,"
            " json_set(doc, '$.id', nomination_id, '$.created_at',"
            " coalesce(json_extract(doc, '$.updated_at'), '')),"
            " version, coalesce(json_extract(doc, '$.updated_at'), ''),"
            " coalesce(json_extract(doc, '$.updated_at'), '') FROM logistics;"
            "DROP TABLE logistics;"
            "ALTER TABLE logistics_by_id RENAME TO logistics;"},
           // The index is filled by IndexForSearch at start (the words are folded in C++).
           {4, "search: the full-text index of nominations", Nominations().SearchSql()},
           // One person id per identity: the first nomination of the same blind index names
           // the person (a nomination without a birth date is a person of its own).
           {5, "nominations name their person",
            "UPDATE nominations SET doc = json_set(doc, '$.person_id', coalesce((SELECT n.id"
            " FROM nominations n WHERE n.identity_hash = nominations.identity_hash ORDER BY n.seq"
            " LIMIT 1), id)) WHERE json_extract(doc, '$.person_id') IS NULL;"},
           // Itinerary items can be corrected: they become versioned documents like the rest.
           {6, "itinerary items keep their version and times beside the document",
            "ALTER TABLE itinerary_items ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
            "ALTER TABLE itinerary_items ADD COLUMN created_at TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE itinerary_items ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';"
            "UPDATE itinerary_items SET"
            " version = coalesce(json_extract(doc, '$.version'), 1),"
            " created_at = coalesce(json_extract(doc, '$.created_at'), ''),"
            " updated_at = coalesce(json_extract(doc, '$.created_at'), ''),"
            " doc = json_set(doc, '$.version', coalesce(json_extract(doc, '$.version'), 1),"
            " '$.updated_at', coalesce(json_extract(doc, '$.created_at'), ''));"},
           // Possible duplicates without a birth date: a keyed hash of the passport number, set
           // on create and correction (rows before this version have none).
           {7, "nominations keep a blind index of the passport number",
            "ALTER TABLE nominations ADD COLUMN passport_hash TEXT;"
            "CREATE INDEX nominations_passport ON nominations(passport_hash);"
            "CREATE INDEX nominations_nationality ON nominations(nationality);"},
           // The fiscal-year report counts inside this index (FiscalYearRows) instead of
           // reading every nomination of the year: 89 ms -> 4 ms for 10,000 of them.
           {8, "the fiscal-year report reads an index only",
            "ALTER TABLE nominations ADD COLUMN gender TEXT"
            " GENERATED ALWAYS AS (json_extract(doc, '$.candidate.gender')) VIRTUAL;"
            "CREATE INDEX nominations_report"
            " ON nominations(fiscal_year, programme_id, nationality, status, gender);"},
           // Possible duplicates and people without a birth date are found through indexes,
           // not by reading every nomination of a nationality: the e-mail as NormaliseEmail
           // folds it, and a blind index of the name, nationality and union (filled in C++ by
           // FillMissingNameKeys at start for the rows stored before).
           {9, "nominations are matched through indexes",
            "ALTER TABLE nominations ADD COLUMN email_key TEXT"
            " GENERATED ALWAYS AS (lower(trim(json_extract(doc, '$.candidate.email')))) VIRTUAL;"
            "CREATE INDEX nominations_email ON nominations(email_key);"
            "ALTER TABLE nominations ADD COLUMN name_key TEXT;"
            "CREATE INDEX nominations_name_key ON nominations(name_key);"
            "DROP INDEX nominations_nationality;"},
           // The id of the field key the blind indexes were computed with, so that a field-key
           // rotation (crypto::FieldRekey) knows which rows to re-index. Every index so far
           // comes from the one key of a bare key file, whose id is "1".
           {10, "nominations name the key of their blind indexes",
            "ALTER TABLE nominations ADD COLUMN index_key TEXT;"
            "UPDATE nominations SET index_key = '1' WHERE name_key IS NOT NULL;"}}};
}

}  // namespace jilaf::invitations
