// Corrections of a nomination's candidate and nominating organisation (a misspelt name, a new
// passport, a changed e-mail): the create's rules run again on the corrected record.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/aggregate/sequences.hpp"
#include "common/http/problem.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

struct PersonalField {
  const char* name;
  std::optional<std::string> PersonalData::*slot;
};
constexpr PersonalField kPersonalFields[] = {{"passport_number", &PersonalData::passport_number},
                                             {"date_of_birth", &PersonalData::date_of_birth}};

// The members of `before` and `after` (two objects) that differ, as "<prefix>.<member>".
void AddChanged(const nlohmann::json& before, const nlohmann::json& after,
                const std::string& prefix, nlohmann::json& changed) {
  std::set<std::string> keys;
  for (const auto& [key, value] : before.items()) keys.insert(key);
  for (const auto& [key, value] : after.items()) keys.insert(key);
  for (const auto& key : keys) {
    if (before.value(key, nlohmann::json()) != after.value(key, nlohmann::json())) {
      changed.push_back(prefix + "." + key);
    }
  }
}

// One correction, as it goes: the rule before the save, the announcement after.
struct Correction {
  Correction(const crypto::FieldCipher& cipher, nlohmann::json patch)
      : cipher(cipher), patch(std::move(patch)) {}

  const crypto::FieldCipher& cipher;
  nlohmann::json patch;
  PersonalData personal;
  bool personal_changed = false;
  std::optional<std::string> identity_hash;
  MatchKeys match_keys;
  nlohmann::json changed = nlohmann::json::array();

  void Rule(store::Db& tx, nlohmann::json& doc) {
    const std::string id = doc.at("id");
    if (doc.at("status") == "completed") {
      throw http::ApiError::Conflict("nomination " + id +
                                     " is completed; its record is no longer corrected")
          .With("status", "completed");
    }
    const auto editable = aggregate::Pick(doc, {"candidate", "nominating_organisation"});
    PersonalData patched;
    auto corrected = ReadNomination(aggregate::MergePatch(editable, patch), patched);
    MergePersonal(LoadPersonal(tx, cipher, id), patched);
    AddChanged(editable["candidate"], corrected["candidate"], "candidate", changed);
    AddChanged(editable["nominating_organisation"], corrected["nominating_organisation"],
               "nominating_organisation", changed);
    std::sort(changed.begin(), changed.end());
    doc["candidate"] = std::move(corrected["candidate"]);
    doc["nominating_organisation"] = std::move(corrected["nominating_organisation"]);
    CheckDuplicates(tx, doc);
  }

  // A personal field named in the patch is replaced (null removes it); the others are kept.
  void MergePersonal(const PersonalData& stored, const PersonalData& patched) {
    personal = stored;
    const auto candidate = patch.value("candidate", nlohmann::json::object());
    for (const auto& field : kPersonalFields) {
      if (!candidate.is_object() || !candidate.contains(field.name)) continue;
      auto& slot = personal.*field.slot;
      const auto& value = patched.*field.slot;
      if (slot == value) continue;
      changed.push_back(std::string("candidate.") + field.name);  // the name, never the value
      personal_changed = true;
      slot = value;
    }
  }

  // The blind index follows the corrected identity; the same person twice in one year is 409.
  void CheckDuplicates(store::Db& tx, nlohmann::json& doc) {
    doc.erase("previous_participation");
    doc.erase("duplicates");
    match_keys = MatchKeysOf(cipher, doc["candidate"], personal.passport_number);
    const auto possible =
        PossibleDuplicates(tx, doc["candidate"], match_keys, doc.at("id").get<std::string>());
    if (!possible.empty()) doc["duplicates"] = StoredDuplicates(possible);
    if (!personal.date_of_birth) return;
    const auto& c = doc["candidate"];
    const auto identity_hashes = IdentityHashes(cipher, c, *personal.date_of_birth);
    identity_hash = identity_hashes.front();
    auto earlier =
        EarlierParticipation(tx, identity_hashes, doc.at("fiscal_year").get<std::int64_t>(),
                             doc.at("id").get<std::string>());
    if (!earlier.empty()) doc["previous_participation"] = std::move(earlier);
  }

  void Announce(aggregate::Change& change, const nlohmann::json& doc) {
    const std::string id = doc.at("id");
    SetIdentityHash(change.tx, id, identity_hash);
    SetMatchKeys(change.tx, id, match_keys.passport_hash, match_keys.name_key, match_keys.key_id);
    if (personal_changed) {
      SecureDelete(change.tx);  // the old ciphertext does not stay in free pages
      StorePersonal(change.tx, cipher, id, personal);
    }
    const auto programme = Programmes().Get(change.tx, doc.at("programme_id").get<std::string>());
    change.Emit(NominationFacts(programme, doc, std::nullopt, {{"changed", changed}}, "updated"));
  }
};

}  // namespace

http::Response CorrectNomination(const http::Request& request, Context& context) {
  Correction correction(context.cipher, ParseBodyWithoutEcho(request));
  const auto view = aggregate::AudienceOf(request.principal);
  return aggregate::Modify(
      context.store, request, NominationKind(), request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) { correction.Rule(change.tx, doc); },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        correction.Announce(change, doc);
        change.Respond(aggregate::DocResponse(RenderForView(change.tx, context.cipher, doc, view)));
      });
}

}  // namespace jilaf::invitations
