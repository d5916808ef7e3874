#include "services/invitations/queries.hpp"

#include <chrono>
#include <thread>

#include "common/log/log.hpp"
#include "common/store/dialect.hpp"
#include "services/invitations/candidates.hpp"

namespace jilaf::invitations {

Occupancy LoadOccupancy(store::Db& db, const std::string& programme_id) {
  Occupancy taken;
  auto stmt = db.Prepare(
      "SELECT nationality, count(*) FROM nominations WHERE programme_id = ? AND status IN"
      " ('selected', 'invited', 'visa_applied', 'visa_granted', 'travel_booked', 'arrived',"
      " 'completed') GROUP BY nationality");
  stmt.Bind(1, programme_id);
  while (stmt.Step()) {
    taken.by_country[stmt.Text(0)] = stmt.Int(1);
    taken.total += stmt.Int(1);
  }
  return taken;
}

std::int64_t NextWaitlistRank(store::Db& db, const std::string& programme_id) {
  auto stmt =
      db.Prepare("SELECT coalesce(max(waitlist_rank), 0) FROM nominations WHERE programme_id = ?");
  stmt.Bind(1, programme_id);
  return stmt.Step() ? stmt.Int(0) + 1 : 1;
}

std::vector<WaitlistEntry> LoadWaitlist(store::Db& db, const std::string& programme_id) {
  std::vector<WaitlistEntry> waitlist;
  auto stmt = db.Prepare(
      "SELECT id, nationality, waitlist_rank FROM nominations WHERE programme_id = ? AND"
      " status = 'waitlisted' ORDER BY waitlist_rank");
  stmt.Bind(1, programme_id);
  while (stmt.Step()) waitlist.push_back({stmt.Text(0), stmt.Text(1), stmt.Int(2)});
  return waitlist;
}

// Blind indexes are looked up under every key of the ring (newest first, as a JSON array): rows
// indexed under an older key are found until the rotation has re-indexed them.
nlohmann::json NominationsOfIdentity(store::Db& db,
                                     const std::vector<std::string>& identity_hashes) {
  nlohmann::json found = nlohmann::json::array();
  auto stmt = db.Prepare(
      "SELECT id, programme_id, fiscal_year, status FROM nominations WHERE identity_hash IN " +
      store::JsonArrayStrings(db, "?") + " ORDER BY fiscal_year, seq");
  stmt.Bind(1, nlohmann::json(identity_hashes).dump());
  while (stmt.Step()) {
    found.push_back({{"nomination_id", stmt.Text(0)},
                     {"programme_id", stmt.Text(1)},
                     {"fiscal_year", stmt.OptInt(2).value_or(0)},
                     {"status", stmt.Text(3)}});
  }
  return found;
}

std::optional<std::string> PersonOfIdentity(store::Db& db,
                                            const std::vector<std::string>& identity_hashes) {
  auto stmt = db.Prepare("SELECT coalesce(" + store::JsonText(db, "doc", "person_id") +
                         ", id) FROM nominations WHERE identity_hash IN " +
                         store::JsonArrayStrings(db, "?") + " ORDER BY seq LIMIT 1");
  stmt.Bind(1, nlohmann::json(identity_hashes).dump());
  if (!stmt.Step()) return std::nullopt;
  return stmt.Text(0);
}

void SetMatchKeys(store::Db& tx, const std::string& nomination_id,
                  const std::optional<std::string>& passport_hash, const std::string& name_key,
                  const std::string& index_key) {
  auto stmt = tx.Prepare(
      "UPDATE nominations SET passport_hash = ?, name_key = ?, index_key = ? WHERE id = ?");
  stmt.Bind(1, passport_hash).Bind(2, name_key).Bind(3, index_key).Bind(4, nomination_id);
  stmt.Run();
}

std::int64_t FillMissingNameKeys(store::Store& store,
                                 const std::function<std::string(const nlohmann::json&)>& key_of) {
  constexpr std::int64_t kBatch = 2000;
  std::int64_t filled = 0;
  for (std::int64_t done = kBatch; done == kBatch; filled += done) {
    done = store.Write([&](store::Db& tx) {
      auto select = tx.Prepare("SELECT seq, doc FROM nominations WHERE name_key IS NULL LIMIT ?");
      select.Bind(1, kBatch);
      auto update = tx.Prepare("UPDATE nominations SET name_key = ? WHERE seq = ?");
      std::int64_t rows = 0;
      while (select.Step()) {
        update.Reset();
        update.Bind(1, key_of(nlohmann::json::parse(select.Text(1)).at("candidate")))
            .Bind(2, select.Int(0));
        update.Run();
        ++rows;
      }
      return rows;
    });
  }
  return filled;
}

std::string SharedIdentifierSql(store::Engine engine, std::size_t passport_count,
                                std::size_t name_count) {
  // What is shared is compared on the keys themselves: the same e-mail key, the same blind index
  // of name, nationality and union, the same passport blind index (under any key of the ring).
  // The keys as bound parameters (usually one of each, one per key of the ring), not a JSON
  // array: SQLite would build a temporary B-tree for each `IN (SELECT ... json_each)` on
  // every call, and this runs for every nomination created. The matches are found apart from
  // their order (a MATERIALIZED sub-select, then ORDER BY seq LIMIT): with the LIMIT in the same
  // query, PostgreSQL without statistics on the table (a fresh, fast-growing one, before
  // autovacuum's first ANALYZE) walks the primary key in seq order looking for 20 matches that
  // are not there, the whole table at every nomination, instead of the three indexes. Planned
  // per run (kPlanPerRun): a generic plan made while the table was empty is a sequential scan.
  int next = 4;
  const auto placeholders = [&next](std::size_t count) {
    if (count == 0) return std::string("(NULL)");
    std::string list = "(";
    for (std::size_t i = 0; i < count; ++i) {
      list += (i == 0 ? "?" : ", ?") + std::to_string(next++);
    }
    return list + ")";
  };
  const std::string passports = placeholders(passport_count);
  const std::string names = placeholders(name_count);
  const std::string flags = "email_key = ?2 AS by_email, name_key IN " + names +
                            " AS by_name, passport_hash IS NOT NULL AND passport_hash IN " +
                            passports + " AS by_passport";
  // SQLite: the oldest matches of each identifier on its own index, which keeps its rows in seq
  // (rowid) order for one key, so each branch stops after ?3 rows; the oldest ?3 of all are among
  // them. Finding every match first cost a lookup per match, and the matches of a common name grow
  // with the store (docs/benchmarks.md, "Growth"). The nomination itself is left out by its seq
  // (the rowid every index entry holds; NULL while it is being created), not by its id: `id <> ?1`
  // made each branch read the table row of every match, a random page of a large table, so the
  // check cost more as the store grew until the matches reached ?3 (docs/benchmarks.md, "Why the
  // writer's cost grew with the store"). PostgreSQL's indexes do not keep seq order within a key,
  // and without statistics its planner walks the primary key instead, so it keeps the
  // MATERIALIZED form.
  static constexpr const char* kSelf = "(SELECT seq FROM nominations WHERE id = ?1)";
  return engine == store::Engine::kPostgres
             ? std::string(store::kPlanPerRun) + "WITH found AS MATERIALIZED (SELECT seq, id," +
                   " programme_id, fiscal_year, status, " + flags +
                   " FROM nominations WHERE id <> ?1 AND (email_key = ?2 OR passport_hash IN " +
                   passports + " OR name_key IN " + names +
                   ")) SELECT id, programme_id, fiscal_year, status, by_email, by_name, by_passport"
                   " FROM found ORDER BY seq LIMIT ?3"
             : "SELECT id, programme_id, fiscal_year, status, " + flags +
                   " FROM nominations WHERE seq IN (SELECT seq FROM (SELECT seq FROM nominations"
                   " WHERE email_key = ?2 AND seq IS NOT " +
                   kSelf +
                   " ORDER BY seq LIMIT ?3) UNION ALL SELECT seq FROM (SELECT seq FROM nominations"
                   " WHERE name_key IN " +
                   names + " AND seq IS NOT " + kSelf +
                   " ORDER BY seq LIMIT ?3) UNION ALL SELECT seq FROM (SELECT seq FROM"
                   " nominations WHERE passport_hash IS NOT NULL AND passport_hash IN " +
                   passports + " AND seq IS NOT " + kSelf +
                   " ORDER BY seq LIMIT ?3)) ORDER BY seq LIMIT ?3";
}

std::vector<DuplicateCandidate> NominationsSharingAnIdentifier(
    store::Db& db, const std::string& email_key, const std::vector<std::string>& passport_hashes,
    const std::vector<std::string>& name_keys, const std::string& self) {
  auto stmt = SharingAnIdentifierQuery(db, email_key, passport_hashes, name_keys, self);
  return SharingAnIdentifierRows(stmt, !email_key.empty());
}

store::Stmt SharingAnIdentifierQuery(store::Db& db, const std::string& email_key,
                                     const std::vector<std::string>& passport_hashes,
                                     const std::vector<std::string>& name_keys,
                                     const std::string& self) {
  auto stmt =
      db.Prepare(SharedIdentifierSql(db.engine(), passport_hashes.size(), name_keys.size()));
  stmt.Bind(1, self).Bind(2, email_key).Bind(3, kMaxPossibleDuplicates);
  int at = 4;
  for (const auto& hash : passport_hashes) stmt.Bind(at++, hash);
  for (const auto& key : name_keys) stmt.Bind(at++, key);
  return stmt;
}

std::vector<DuplicateCandidate> SharingAnIdentifierRows(store::Stmt& stmt, bool by_email) {
  std::vector<DuplicateCandidate> found;
  while (stmt.Step()) {
    DuplicateCandidate other{stmt.Text(0), stmt.Text(1), stmt.OptInt(2), stmt.Text(3), {}};
    if (by_email && stmt.OptInt(4).value_or(0) == 1) {
      other.matched_on.emplace_back("email");
    }
    if (stmt.OptInt(5).value_or(0) == 1) other.matched_on.emplace_back("name_nationality_union");
    if (stmt.OptInt(6).value_or(0) == 1) other.matched_on.emplace_back("passport");
    found.push_back(std::move(other));
  }
  return found;
}

namespace {

std::string CandidateText(const nlohmann::json& candidate, const char* key) {
  const auto it = candidate.find(key);
  return it != candidate.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> PersonOfContact(store::Db& db, const nlohmann::json& candidate,
                                           bool only_without_birth_date) {
  auto stmt = PersonOfContactQuery(db, candidate, only_without_birth_date);
  if (!stmt) return std::nullopt;
  return PersonOfContactRows(*stmt, candidate);
}

std::optional<store::Stmt> PersonOfContactQuery(store::Db& db, const nlohmann::json& candidate,
                                                bool only_without_birth_date) {
  const auto text = [&](const char* key) { return CandidateText(candidate, key); };
  const std::string email = text("email");
  if (email.empty()) return std::nullopt;
  auto stmt =
      db.Prepare("SELECT coalesce(" + store::JsonText(db, "doc", "person_id") + ", id), " +
                 store::JsonText(db, "doc", "candidate.family_name") + ", " +
                 store::JsonText(db, "doc", "candidate.given_name") +
                 " FROM nominations WHERE email_key = ?1 AND nationality = ?2" +
                 (only_without_birth_date ? " AND identity_hash IS NULL" : "") + " ORDER BY seq");
  stmt.Bind(1, NormaliseEmail(email)).Bind(2, text("nationality"));
  return stmt;
}

std::optional<std::string> PersonOfContactRows(store::Stmt& stmt, const nlohmann::json& candidate) {
  const std::string name = NormaliseName(CandidateText(candidate, "family_name"),
                                         CandidateText(candidate, "given_name"));
  while (stmt.Step()) {
    if (NormaliseName(stmt.Text(1), stmt.Text(2)) == name) return stmt.Text(0);
  }
  return std::nullopt;
}

void SetIdentityHash(store::Db& tx, const std::string& nomination_id,
                     const std::optional<std::string>& identity_hash) {
  auto stmt = tx.Prepare("UPDATE nominations SET identity_hash = ? WHERE id = ?");
  stmt.Bind(1, identity_hash).Bind(2, nomination_id);
  stmt.Run();
}

void StorePersonal(store::Db& tx, const crypto::FieldCipher& cipher,
                   const std::string& nomination_id, const PersonalData& personal) {
  std::optional<std::string> passport;
  std::optional<std::string> birth;
  if (personal.passport_number) {
    passport = cipher.Encrypt(*personal.passport_number, nomination_id + "/passport_number");
  }
  if (personal.date_of_birth) {
    birth = cipher.Encrypt(*personal.date_of_birth, nomination_id + "/date_of_birth");
  }
  auto insert = tx.Prepare(
      "INSERT INTO nomination_personal(nomination_id, passport_number, date_of_birth)"
      " VALUES (?, ?, ?) ON CONFLICT(nomination_id) DO UPDATE SET"
      " passport_number = excluded.passport_number, date_of_birth = excluded.date_of_birth");
  insert.Bind(1, nomination_id).Bind(2, passport).Bind(3, birth);
  insert.Run();
}

// PostgreSQL keeps no free-page copies to overwrite; its dead row versions go at the next
// VACUUM (docs/operations.md).
void SecureDelete(store::Db& tx) {
  if (tx.engine() == store::Engine::kSqlite) tx.Exec("PRAGMA secure_delete = ON");
}

void DeletePersonal(store::Db& tx, const std::string& nomination_id) {
  auto stmt = tx.Prepare("DELETE FROM nomination_personal WHERE nomination_id = ?");
  stmt.Bind(1, nomination_id);
  stmt.Run();
}

void ForgetRepliesNaming(store::Db& tx, const std::string& nomination_id) {
  auto stmt = tx.Prepare("DELETE FROM idempotency_keys WHERE " + store::Contains(tx, "body"));
  stmt.Bind(1, nomination_id);
  stmt.Run();
}

void ForgetPersonRecords(store::Db& tx, const std::string& topic, const std::string& key) {
  auto stmt = tx.Prepare("DELETE FROM outbox WHERE topic = ? AND msg_key = ?");
  stmt.Bind(1, topic).Bind(2, key);
  stmt.Run();
}

bool PersonHasNominations(store::Db& db, const std::string& person_id) {
  auto stmt = db.Prepare("SELECT 1 FROM nominations WHERE coalesce(" +
                         store::JsonText(db, "doc", "person_id") + ", id) = ? LIMIT 1");
  stmt.Bind(1, person_id);
  return stmt.Step();
}

void OptimiseNominationSearch(store::Db& tx) {
  // FTS5's merge of its segments; PostgreSQL's GIN index is tidied by autovacuum.
  // After the batch's index writes (Nominations() writes them at the batch's end), so that the
  // terms an erasure replaced leave the segments too.
  if (tx.engine() == store::Engine::kSqlite) {
    tx.AtBatchEnd([](store::Db& db) {
      db.Exec("INSERT INTO nominations_search(nominations_search) VALUES('optimize')");
    });
  }
}

void CheckpointAndTruncateWal(const std::string& db_path) {
  if (db_path.empty()) return;  // not on SQLite
  store::Db db(db_path, {});
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto stmt = db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (stmt.Step() && stmt.Int(0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  log::Warn("WAL checkpoint after an erasure stayed busy; it completes at the next checkpoint");
}

std::vector<std::string> FollowUpsOverdueOn(store::Db& db, const std::string& today) {
  std::vector<std::string> ids;
  auto stmt = db.Prepare(
      "SELECT f.id FROM followups f JOIN nominations n ON n.id = f.nomination_id"
      " JOIN programmes p ON p.id = n.programme_id"
      " WHERE f.status = 'due' AND f.overdue_notified = 0 AND f.due_date < ?"
      " AND p.status <> 'cancelled' ORDER BY f.due_date");
  stmt.Bind(1, today);
  while (stmt.Step()) ids.push_back(stmt.Text(0));
  return ids;
}

std::vector<ReportRow> FiscalYearRows(store::Db& db, std::int64_t fiscal_year) {
  std::vector<ReportRow> rows;
  // Counted inside the index nominations_report (schema version 8): no nomination's document
  // is read, and each programme's once, so the report stays fast as the years fill up.
  auto stmt = db.Prepare(
      "SELECT g.programme_id, g.nationality, " + store::JsonText(db, "p.doc", "region") +
      ", p.track, g.gender, g.status, g.n"
      " FROM (SELECT programme_id, nationality, gender, status, count(*) AS n FROM nominations"
      " WHERE fiscal_year = ? GROUP BY programme_id, nationality, gender, status) g"
      " JOIN programmes p ON p.id = g.programme_id");
  stmt.Bind(1, fiscal_year);
  while (stmt.Step()) {
    rows.push_back({stmt.Text(0), stmt.Text(1), stmt.OptText(2), stmt.Text(3), stmt.OptText(4),
                    stmt.Text(5), stmt.Int(6)});
  }
  return rows;
}

nlohmann::json RenderWithStoredDuplicates(store::Db& db, const crypto::FieldCipher& cipher,
                                          const nlohmann::json& nomination,
                                          aggregate::Audience view) {
  if (view == aggregate::Audience::kViewer) return RenderNomination(nomination, {}, view);
  return RenderNomination(nomination, LoadPersonal(db, cipher, nomination.at("id")), view);
}

nlohmann::json RenderForView(store::Db& db, const crypto::FieldCipher& cipher,
                             const nlohmann::json& nomination, aggregate::Audience view) {
  nlohmann::json one =
      nlohmann::json::array({RenderWithStoredDuplicates(db, cipher, nomination, view)});
  ExpandPossibleDuplicates(db, one);
  return std::move(one[0]);
}

PersonalData LoadPersonal(store::Db& db, const crypto::FieldCipher& cipher, const std::string& id) {
  return LoadPersonalIfReadable(db, cipher, id, true).value_or(PersonalData{});
}

std::optional<PersonalData> LoadPersonalIfReadable(store::Db& db, const crypto::FieldCipher& cipher,
                                                   const std::string& id, bool partial) {
  PersonalData personal;
  auto stmt = db.Prepare(
      "SELECT passport_number, date_of_birth FROM nomination_personal WHERE nomination_id = ?");
  stmt.Bind(1, id);
  if (stmt.Step()) {
    if (auto sealed = stmt.OptText(0)) {
      personal.passport_number = cipher.Decrypt(*sealed, id + "/passport_number");
      if (!personal.passport_number && !partial) return std::nullopt;
    }
    if (auto sealed = stmt.OptText(1)) {
      personal.date_of_birth = cipher.Decrypt(*sealed, id + "/date_of_birth");
      if (!personal.date_of_birth && !partial) return std::nullopt;
    }
  }
  return personal;
}

}  // namespace jilaf::invitations
