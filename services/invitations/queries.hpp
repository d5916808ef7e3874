#pragma once

// The service's purpose-written SQL, each statement behind a name: seat counts, the waitlist,
// duplicate detection, the encrypted personal data, overdue scans, reports and erasure. Every
// other read and write of the records goes through the tables of tables.hpp.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto/field_cipher.hpp"
#include "common/store/sqlite.hpp"
#include "common/store/store.hpp"
#include "services/invitations/domain.hpp"

namespace jilaf::invitations {

/// Seats taken in a programme now, in total and per nationality.
Occupancy LoadOccupancy(store::Db& db, const std::string& programme_id);
/// The rank the next candidate put on the programme's waitlist gets.
std::int64_t NextWaitlistRank(store::Db& db, const std::string& programme_id);
/// The programme's waitlisted nominations, by rank.
std::vector<WaitlistEntry> LoadWaitlist(store::Db& db, const std::string& programme_id);

/// Earlier nominations of the person with this blind index, oldest year first:
/// `{nomination_id, programme_id, fiscal_year, status}`.
nlohmann::json NominationsOfIdentity(store::Db& db,
                                     const std::vector<std::string>& identity_hashes);
/// The person id of the first nomination with this blind index, if any (the same person under
/// another nomination: a later year, or an earlier one entered late).
std::optional<std::string> PersonOfIdentity(store::Db& db,
                                            const std::vector<std::string>& identity_hashes);
/// Records the blind index of a nomination's passport number (never kept in its document).
void SetMatchKeys(store::Db& tx, const std::string& nomination_id,
                  const std::optional<std::string>& passport_hash, const std::string& name_key,
                  const std::string& index_key);
/// Fills the name key of nominations stored before schema version 9 (a key folded in C++ cannot
/// be computed by the migration), a batch per write transaction; returns how many.
std::int64_t FillMissingNameKeys(store::Store& store,
                                 const std::function<std::string(const nlohmann::json&)>& key_of);
/// Another nomination that may be the same person, and what it shares with the candidate
/// ("email", "name_nationality_union", "passport"), read from indexed columns (no document
/// parsed).
struct DuplicateCandidate {
  std::string nomination_id;
  std::string programme_id;
  std::optional<std::int64_t> fiscal_year;
  std::string status;
  std::vector<std::string> matched_on;
};
/// How many earlier nominations a possible duplicate names at most (the earliest ones): a person
/// nominated again and again must not make each new nomination slower and larger than the last.
inline constexpr std::int64_t kMaxPossibleDuplicates = 10;
/// The statement NominationsSharingAnIdentifier runs for that many passport and name keys:
/// ?1 the nomination itself, ?2 the e-mail key, ?3 the limit, then the passport and name keys.
[[nodiscard]] std::string SharedIdentifierSql(store::Engine engine, std::size_t passport_count,
                                              std::size_t name_count);
/// The nominations other than `self` with the same e-mail (NormaliseEmail), the same passport
/// blind index or the same name key (the blind index of NameNationalityUnionKey), each found
/// through its index, the earliest kMaxPossibleDuplicates.
std::vector<DuplicateCandidate> NominationsSharingAnIdentifier(
    store::Db& db, const std::string& email_key, const std::vector<std::string>& passport_hashes,
    const std::vector<std::string>& name_keys, const std::string& self);
/// NominationsSharingAnIdentifier in two steps: its statement, bound and not yet run (so that
/// it can be sent ahead, store::Stmt::Prefetch), then its rows.
store::Stmt SharingAnIdentifierQuery(store::Db& db, const std::string& email_key,
                                     const std::vector<std::string>& passport_hashes,
                                     const std::vector<std::string>& name_keys,
                                     const std::string& self);
std::vector<DuplicateCandidate> SharingAnIdentifierRows(store::Stmt& stmt, bool by_email);
/// The person id of the first earlier nomination of the same candidate found without a birth
/// date: the same e-mail address (ASCII case ignored), nationality and folded name
/// (NormaliseName). With `only_without_birth_date`, only nominations that have no blind index
/// (entered without a birth date) are considered: two birth dates that differ are two people.
std::optional<std::string> PersonOfContact(store::Db& db, const nlohmann::json& candidate,
                                           bool only_without_birth_date);
/// PersonOfContact in two steps: its statement, bound and not yet run (none without an
/// e-mail), then the person id it finds.
std::optional<store::Stmt> PersonOfContactQuery(store::Db& db, const nlohmann::json& candidate,
                                                bool only_without_birth_date);
std::optional<std::string> PersonOfContactRows(store::Stmt& stmt, const nlohmann::json& candidate);
/// Records the blind index of a new nomination's identity (never kept in its document).
void SetIdentityHash(store::Db& tx, const std::string& nomination_id,
                     const std::optional<std::string>& identity_hash);

/// The decrypted passport number and date of birth of a nomination (empty when none).
PersonalData LoadPersonal(store::Db& db, const crypto::FieldCipher& cipher, const std::string& id);
/// The personal data of nomination `id`; nullopt if a stored value does not open with the ring
/// (unless `partial`, which leaves such a field empty instead).
std::optional<PersonalData> LoadPersonalIfReadable(store::Db& db, const crypto::FieldCipher& cipher,
                                                   const std::string& id, bool partial = false);
/// Encrypts and stores (or replaces) the nomination's personal fields.
void StorePersonal(store::Db& tx, const crypto::FieldCipher& cipher,
                   const std::string& nomination_id, const PersonalData& personal);
/// The nomination as `view` may see it, its personal fields decrypted when allowed, its
/// possible duplicates as stored (ExpandPossibleDuplicates renders them, once for a page).
nlohmann::json RenderWithStoredDuplicates(store::Db& db, const crypto::FieldCipher& cipher,
                                          const nlohmann::json& nomination,
                                          aggregate::Audience view);
/// The nomination as `view` may see it, its personal fields decrypted when allowed.
nlohmann::json RenderForView(store::Db& db, const crypto::FieldCipher& cipher,
                             const nlohmann::json& nomination, aggregate::Audience view);
/// Overwrites deleted cells with zeros for the rest of this transaction.
void SecureDelete(store::Db& tx);
/// Erases the nomination's personal fields.
void DeletePersonal(store::Db& tx, const std::string& nomination_id);
/// Erases the stored replies to Idempotency-Key requests that mention the nomination (the 201
/// of its creation repeats the names).
void ForgetRepliesNaming(store::Db& tx, const std::string& nomination_id);
/// Checkpoints the WAL of the database file and truncates it, so that old page images
/// (ciphertexts included) leave the disk.
void CheckpointAndTruncateWal(const std::string& db_path);

/// Deletes the outbox rows of `topic` keyed by `key` (a person's records on the people topic):
/// sent ones are history the topic now holds, unsent ones are superseded by the tombstone.
void ForgetPersonRecords(store::Db& tx, const std::string& topic, const std::string& key);

/// Whether any nomination names `person_id` as its person.
bool PersonHasNominations(store::Db& db, const std::string& person_id);

/// Merges the nominations' full-text index, so terms of replaced documents leave its segments.
void OptimiseNominationSearch(store::Db& tx);

/// Ids of the follow-ups still due on a date before `today`, never announced overdue.
std::vector<std::string> FollowUpsOverdueOn(store::Db& db, const std::string& today);

/// The nominations of a fiscal year as the report counts them.
std::vector<ReportRow> FiscalYearRows(store::Db& db, std::int64_t fiscal_year);

}  // namespace jilaf::invitations
