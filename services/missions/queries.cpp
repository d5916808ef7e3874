#include "services/missions/queries.hpp"

#include <algorithm>
#include <cctype>

#include "common/store/json_doc.hpp"
#include "common/util/clock.hpp"

namespace jilaf::missions {
namespace {

std::int64_t CountIn(store::Db& db, const std::string& sql, std::int64_t fiscal_year) {
  auto stmt = db.Prepare(sql);
  stmt.Bind(1, fiscal_year);
  return stmt.Step() ? stmt.Int(0) : 0;
}

}  // namespace

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void InsertAlumnusOnce(store::Db& tx, const nlohmann::json& doc) {
  // Keyed by nomination: the same completion re-sent under another event id changes nothing.
  auto insert = tx.Prepare(
      "INSERT INTO alumni(id, nomination_id, email_lower, country, fiscal_year, doc, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(nomination_id) DO NOTHING");
  insert.Bind(1, doc["id"].get<std::string>())
      .Bind(2, doc["nomination_id"].get<std::string>())
      .Bind(3, Lower(doc["email"].get<std::string>()))
      .Bind(4, doc["country"].get<std::string>())
      .Bind(5, doc["fiscal_year"].get<std::int64_t>())
      .Bind(6, doc.dump())
      .Bind(7, doc["created_at"].get<std::string>());
  insert.Run();
}

std::optional<std::string> FindAlumnus(store::Db& db, const std::string& email,
                                       const std::optional<std::string>& nomination_id) {
  if (nomination_id) {
    auto stmt = db.Prepare("SELECT id FROM alumni WHERE nomination_id = ?");
    stmt.Bind(1, *nomination_id);
    if (stmt.Step()) return stmt.Text(0);
  }
  // The most recent programme first: a person invited twice has one history per nomination.
  auto stmt = db.Prepare("SELECT id FROM alumni WHERE email_lower = ? ORDER BY seq DESC LIMIT 1");
  stmt.Bind(1, Lower(email));
  if (stmt.Step()) return stmt.Text(0);
  return std::nullopt;
}

void LinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, int fiscal_year,
                      const std::string& registration_id) {
  auto upsert = tx.Prepare(
      "INSERT INTO alumni_engagements(alumnus_id, target_kind, target_id, fiscal_year,"
      " registered_at, registration_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT(alumnus_id, target_kind, target_id) DO UPDATE SET registered_at = ?5,"
      " registration_id = ?6");
  upsert.Bind(1, alumnus_id)
      .Bind(2, kind)
      .Bind(3, target_id)
      .Bind(4, fiscal_year)
      .Bind(5, util::NowRfc3339())
      .Bind(6, registration_id);
  upsert.Run();
}

void UnlinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                        const std::string& target_id) {
  auto update = tx.Prepare(
      "UPDATE alumni_engagements SET registered_at = NULL, registration_id = NULL"
      " WHERE alumnus_id = ? AND target_kind = ? AND target_id = ?");
  update.Bind(1, alumnus_id).Bind(2, kind).Bind(3, target_id);
  update.Run();
}

nlohmann::json Engagements(store::Db& db, const std::string& alumnus_id) {
  auto stmt = db.Prepare(
      "SELECT target_kind, target_id, fiscal_year, invited_at, registered_at, registration_id"
      " FROM alumni_engagements WHERE alumnus_id = ? ORDER BY seq");
  stmt.Bind(1, alumnus_id);
  auto optional = [&stmt](int column) {
    return stmt.IsNull(column) ? nlohmann::json() : nlohmann::json(stmt.Text(column));
  };
  nlohmann::json out = nlohmann::json::array();
  while (stmt.Step()) {
    out.push_back({{"kind", stmt.Text(0)},
                   {"target_id", stmt.Text(1)},
                   {"fiscal_year", stmt.Int(2)},
                   {"invited_at", optional(3)},
                   {"registered_at", optional(4)},
                   {"registration_id", optional(5)}});
  }
  return out;
}

bool RecordInvitation(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, std::int64_t fiscal_year,
                      const std::string& at) {
  auto insert = tx.Prepare(
      "INSERT INTO alumni_engagements(alumnus_id, target_kind, target_id, fiscal_year,"
      " invited_at) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT(alumnus_id, target_kind, target_id) DO UPDATE SET invited_at = ?5"
      " WHERE alumni_engagements.invited_at IS NULL");  // the stored row (PostgreSQL: else
                                                        // ambiguous)
  insert.Bind(1, alumnus_id).Bind(2, kind).Bind(3, target_id).Bind(4, fiscal_year).Bind(5, at);
  insert.Run();
  return tx.Changes() != 0;
}

void InsertCertificate(store::Db& tx, const std::string& code, const std::string& programme_id,
                       const std::string& participant_id, std::int64_t fiscal_year,
                       const nlohmann::json& certificate) {
  auto insert = tx.Prepare(
      "INSERT INTO certificates(code, programme_id, participant_id, fiscal_year, doc,"
      " created_at) VALUES (?, ?, ?, ?, ?, ?)");
  insert.Bind(1, code)
      .Bind(2, programme_id)
      .Bind(3, participant_id)
      .Bind(4, fiscal_year)
      .Bind(5, certificate.dump())
      .Bind(6, util::NowRfc3339());
  insert.Run();
}

std::optional<nlohmann::json> FindCertificate(store::Db& db, const std::string& code) {
  return store::LoadJsonDoc(db, "SELECT doc FROM certificates WHERE code = ?", code);
}

std::int64_t CertificatesIssued(store::Db& db, std::int64_t fiscal_year) {
  return CountIn(db, "SELECT count(*) FROM certificates WHERE fiscal_year = ?", fiscal_year);
}

nlohmann::json AlumniParticipation(store::Db& db, std::int64_t fy) {
  return {{"new_alumni", CountIn(db, "SELECT count(*) FROM alumni WHERE fiscal_year = ?", fy)},
          {"invited", CountIn(db,
                              "SELECT count(DISTINCT alumnus_id) FROM alumni_engagements"
                              " WHERE fiscal_year = ? AND invited_at IS NOT NULL",
                              fy)},
          {"participating", CountIn(db,
                                    "SELECT count(DISTINCT alumnus_id) FROM alumni_engagements"
                                    " WHERE fiscal_year = ? AND registered_at IS NOT NULL",
                                    fy)}};
}

}  // namespace jilaf::missions
