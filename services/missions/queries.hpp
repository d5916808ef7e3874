#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/store.hpp"

// The missions service's purpose-written SQL, each statement behind a name: the alumni
// projection and engagements, certificates, and the yearly report's counts.
// Records themselves are read and written through the tables of tables.hpp.
namespace jilaf::missions {

/// `text` in lower case (ASCII): emails compare case-insensitively.
std::string Lower(std::string text);

/// Adds an alumnus to the directory unless its nomination is there already (a replay is a no-op).
void InsertAlumnusOnce(store::Db& tx, const nlohmann::json& doc);
/// The alumnus a registration belongs to: by nomination id if given, else by email
/// (case-insensitive). nullopt when the person is not an alumnus.
std::optional<std::string> FindAlumnus(store::Db& db, const std::string& email,
                                       const std::optional<std::string>& nomination_id);
/// Records in the alumnus's history that they registered for `target` (a seminar or an
/// education programme), completing an invitation if one was sent.
void LinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, int fiscal_year,
                      const std::string& registration_id);
/// Undoes LinkRegistration when the registration is cancelled (an invitation stays recorded).
void UnlinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                        const std::string& target_id);
/// The alumnus's engagements, oldest first: `{kind, target_id, fiscal_year, invited_at,
/// registered_at, registration_id}` (times and registration null when absent).
nlohmann::json Engagements(store::Db& db, const std::string& alumnus_id);
/// Records an invitation; false when the alumnus was invited to this target already.
bool RecordInvitation(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, std::int64_t fiscal_year,
                      const std::string& at);

/// Stores an issued certificate under its verification code.
void InsertCertificate(store::Db& tx, const std::string& code, const std::string& programme_id,
                       const std::string& participant_id, std::int64_t fiscal_year,
                       const nlohmann::json& certificate);
/// The certificate with this verification code.
std::optional<nlohmann::json> FindCertificate(store::Db& db, const std::string& code);

/// Certificates issued in the fiscal year.
std::int64_t CertificatesIssued(store::Db& db, std::int64_t fiscal_year);
/// The report's `alumni` part: new alumni, alumni invited and alumni participating that year.
nlohmann::json AlumniParticipation(store::Db& db, std::int64_t fiscal_year);

}  // namespace jilaf::missions
