#pragma once

// What a nomination's candidate and nominating organisation are made of, read once for the
// create (nominations.cpp) and the correction (corrections.cpp), and the duplicate check both run.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto/field_cipher.hpp"
#include "common/crypto/rekey.hpp"
#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/domain.hpp"

namespace jilaf::invitations {

/// `{"candidate", "nominating_organisation"}` read with field-precise 422s; the passport number
/// and date of birth go to `personal`, never into the document.
nlohmann::json ReadNomination(const nlohmann::json& body, PersonalData& personal);

/// The request body as JSON; a parse error keeps its position but not the parser's quote of the
/// input (which may be a passport number).
nlohmann::json ParseBodyWithoutEcho(const http::Request& request);

/// The nominations of the same identity in earlier fiscal years (to be flagged); 409
/// duplicate-nomination when one other than `self` is in `fiscal_year` itself.
nlohmann::json EarlierParticipation(store::Db& tx, const std::vector<std::string>& identity_hashes,
                                    std::int64_t fiscal_year, const std::string& self = {});

/// The indexed keys a candidate is matched on when no birth date is known (kept in columns of
/// their own, never in the document): the blind index of the passport number, if any, and that
/// of NameNationalityUnionKey.
struct MatchKeys {
  /// Under the newest key of the ring (what is stored), and the id of that key.
  std::optional<std::string> passport_hash;
  std::string name_key;
  std::string key_id;
  /// Under every key of the ring, newest first (what is looked up).
  std::vector<std::string> passport_hashes;
  std::vector<std::string> name_keys;
};
[[nodiscard]] MatchKeys MatchKeysOf(const crypto::FieldCipher& cipher,
                                    const nlohmann::json& candidate,
                                    const std::optional<std::string>& passport_number);

/// The blind index of a person's identity (IdentityText) under every key of the ring, newest
/// first: the first is stored, all are looked up.
[[nodiscard]] std::vector<std::string> IdentityHashes(const crypto::FieldCipher& cipher,
                                                      const nlohmann::json& candidate,
                                                      const std::string& date_of_birth);

/// The rotation's target that brings a nomination's blind indexes (identity, passport, name)
/// under the newest key (column index_key names the key they were computed with).
[[nodiscard]] crypto::RekeyTarget BlindIndexTarget(const crypto::FieldCipher& cipher);
/// Everything a field-key rotation rewrites here: the sealed passport numbers and birth dates,
/// then the blind indexes.
[[nodiscard]] std::vector<crypto::RekeyTarget> RekeyTargets(const crypto::FieldCipher& cipher);

/// The other nominations that may be the same person — same e-mail (ignoring case), same
/// passport blind index, or same normalised name, nationality and union — each as
/// `{nomination_id, programme_id, fiscal_year, status, matched_on: [...]}`; a warning, never a
/// refusal. Found through indexes, so it costs the same however many nominations there are.
nlohmann::json PossibleDuplicates(store::Db& tx, const nlohmann::json& candidate,
                                  const MatchKeys& keys, const std::string& self);
/// How a document stores `possible_duplicates`: under `duplicates`, each as
/// `[nomination id, matched bits]` (1 e-mail, 2 name, nationality and union, 4 passport). The
/// other nomination's programme, year and status are read when the nomination is rendered.
[[nodiscard]] nlohmann::json StoredDuplicates(const nlohmann::json& possible_duplicates);
/// Replaces every item's stored `duplicates` by `possible_duplicates` as the API shows them, the
/// other nominations read now in one indexed query for all `items` (an array: one page); an
/// entry whose nomination no longer exists is left out.
void ExpandPossibleDuplicates(store::Db& db, nlohmann::json& items);
/// PossibleDuplicates in two steps: the bound statement (to send ahead), then its answer.
store::Stmt PossibleDuplicatesQuery(store::Db& tx, const nlohmann::json& candidate,
                                    const MatchKeys& keys, const std::string& self);
nlohmann::json PossibleDuplicatesOf(store::Stmt& query, const nlohmann::json& candidate);
/// The warnings a 201 carries for `possible_duplicates` (none when it is empty).
nlohmann::json DuplicateWarnings(const nlohmann::json& possible_duplicates);

}  // namespace jilaf::invitations
