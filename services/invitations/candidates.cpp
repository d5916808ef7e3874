#include "services/invitations/candidates.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/store/dialect.hpp"
#include "services/invitations/queries.hpp"

namespace jilaf::invitations {
namespace {

// The bits of a stored duplicate's `matched_on`, in the order the API lists them.
constexpr std::array<std::pair<int, const char*>, 3> kMatchBits{
    {{1, "email"}, {2, "name_nationality_union"}, {4, "passport"}}};

nlohmann::json MatchedOn(const nlohmann::json& bits) {
  nlohmann::json out = nlohmann::json::array();
  const int value = bits.is_number_integer() ? bits.get<int>() : 0;
  for (const auto& [bit, name] : kMatchBits) {
    if ((value & bit) != 0) out.push_back(name);
  }
  return out;
}

bool IsPassportNumber(std::string_view text) {
  if (text.size() < 5 || text.size() > 20) return false;
  for (char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// Error messages never repeat the value: it is personal data.
constexpr http::TextRule kPassportNumber = {"^[A-Z0-9]{5,20}$", IsPassportNumber,
                                            "5 to 20 upper-case letters and digits", 5, 20};

nlohmann::json ReadCandidate(http::ObjectReader& in, PersonalData& personal) {
  nlohmann::json c;
  c["family_name"] = in.RequiredString("family_name", 1, 100);
  c["given_name"] = in.RequiredString("given_name", 1, 100);
  if (auto native = in.OptionalString("native_name", 200)) c["native_name"] = *native;
  if (auto kana = in.OptionalString("katakana_name", 200)) c["katakana_name"] = *kana;
  if (auto gender = in.OptionalEnum("gender", {"female", "male", "other", "undisclosed"})) {
    c["gender"] = *gender;
  }
  c["nationality"] = in.RequiredCountry("nationality");
  c["email"] = in.RequiredEmail("email");
  c["languages"] = in.StringArray("languages", false, 20, 50);
  c["union"] = in.RequiredString("union", 1, 200);
  c["position"] = in.RequiredString("position", 1, 200);
  personal.date_of_birth = in.OptionalDate("date_of_birth");
  personal.passport_number = in.OptionalText("passport_number", kPassportNumber);
  in.RejectUnknownFields();
  return c;
}

}  // namespace

// The document; the personal fields go to `personal`, never into it.
nlohmann::json ReadNomination(const nlohmann::json& body, PersonalData& personal) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  if (auto candidate = in.Object("candidate", true)) {
    doc["candidate"] = ReadCandidate(*candidate, personal);
  }
  if (auto org = in.Object("nominating_organisation", true)) {
    auto& out = doc["nominating_organisation"];
    out = {{"name", org->RequiredString("name", 1, 200)},
           {"country", org->RequiredCountry("country")}};
    if (auto email = org->OptionalEmail("contact_email")) out["contact_email"] = *email;
    org->RejectUnknownFields();
  }
  in.Finish();
  return doc;
}

// The JSON parser quotes the last token it read in its message, which may be a passport number:
// keep the position, drop the quote.
nlohmann::json ParseBodyWithoutEcho(const http::Request& request) {
  try {
    return http::ParseJsonBody(request);
  } catch (const http::ApiError& error) {
    const auto cut = error.detail().find("; last read");
    if (cut == std::string::npos) throw;
    throw http::ApiError::BadRequest(error.detail().substr(0, cut));
  }
}

// The same person in the same fiscal year is refused; earlier years are returned to be flagged.
nlohmann::json EarlierParticipation(store::Db& tx, const std::vector<std::string>& identity_hashes,
                                    std::int64_t fiscal_year, const std::string& self) {
  nlohmann::json earlier = nlohmann::json::array();
  for (auto& found : NominationsOfIdentity(tx, identity_hashes)) {
    const std::int64_t year = found["fiscal_year"];
    const std::string id = found["nomination_id"];
    if (id == self) continue;
    if (year == fiscal_year) {
      throw http::ApiError(409, "duplicate-nomination", "Duplicate nomination",
                           "this person is already nominated in fiscal year " +
                               std::to_string(fiscal_year) + " (nomination " + id + ")")
          .With("existing_nomination_id", id)
          .With("existing_programme_id", found["programme_id"])
          .WithHeader("Link", "</v1/nominations/" + id + ">; rel=\"duplicate\"");
    }
    if (year < fiscal_year) earlier.push_back(std::move(found));
  }
  return earlier;
}

MatchKeys MatchKeysOf(const crypto::FieldCipher& cipher, const nlohmann::json& candidate,
                      const std::optional<std::string>& passport_number) {
  MatchKeys keys;
  keys.key_id = cipher.write_key_id();
  if (passport_number) {
    keys.passport_hashes = cipher.BlindIndexes("passport|" + NormalisePassport(*passport_number));
    keys.passport_hash = keys.passport_hashes.front();
  }
  keys.name_keys = cipher.BlindIndexes("name|" + NameNationalityUnionKey(candidate));
  keys.name_key = keys.name_keys.front();
  return keys;
}

std::vector<std::string> IdentityHashes(const crypto::FieldCipher& cipher,
                                        const nlohmann::json& candidate,
                                        const std::string& date_of_birth) {
  return cipher.BlindIndexes(IdentityText(
      candidate.at("family_name").get<std::string>(), candidate.at("given_name").get<std::string>(),
      date_of_birth, candidate.at("nationality").get<std::string>()));
}

crypto::RekeyTarget BlindIndexTarget(const crypto::FieldCipher& cipher) {
  crypto::RekeyTarget target{
      "nominations.blind_indexes",
      "nominations",
      "id",
      // An erased nomination has no keys (name_key ''): there is nothing to compute them from.
      "(index_key IS NULL OR index_key <> ?) AND name_key <> ''",
      {}};
  target.rewrite = [&cipher](store::Db& tx, const std::string& key) {
    auto row = tx.Prepare("SELECT id, doc FROM nominations WHERE id = ?");
    row.Bind(1, key);
    if (!row.Step()) return crypto::RowOutcome::kUnchanged;
    const std::string id = row.Text(0);
    const auto personal = LoadPersonalIfReadable(tx, cipher, id);
    if (!personal) return crypto::RowOutcome::kUnreadable;
    const auto candidate = nlohmann::json::parse(row.Text(1)).at("candidate");
    const auto keys = MatchKeysOf(cipher, candidate, personal->passport_number);
    SetMatchKeys(tx, id, keys.passport_hash, keys.name_key, keys.key_id);
    if (personal->date_of_birth) {
      SetIdentityHash(tx, id, IdentityHashes(cipher, candidate, *personal->date_of_birth).front());
    }
    return crypto::RowOutcome::kRewritten;
  };
  return target;
}

std::vector<crypto::RekeyTarget> RekeyTargets(const crypto::FieldCipher& cipher) {
  return {crypto::SealedColumn(cipher, "nomination_personal", "nomination_id", "passport_number",
                               "nomination_id || '/passport_number'"),
          crypto::SealedColumn(cipher, "nomination_personal", "nomination_id", "date_of_birth",
                               "nomination_id || '/date_of_birth'"),
          BlindIndexTarget(cipher)};
}

nlohmann::json PossibleDuplicates(store::Db& tx, const nlohmann::json& candidate,
                                  const MatchKeys& keys, const std::string& self) {
  auto query = PossibleDuplicatesQuery(tx, candidate, keys, self);
  return PossibleDuplicatesOf(query, candidate);
}

store::Stmt PossibleDuplicatesQuery(store::Db& tx, const nlohmann::json& candidate,
                                    const MatchKeys& keys, const std::string& self) {
  return SharingAnIdentifierQuery(tx, NormaliseEmail(candidate.value("email", "")),
                                  keys.passport_hashes, keys.name_keys, self);
}

nlohmann::json PossibleDuplicatesOf(store::Stmt& query, const nlohmann::json& candidate) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& other :
       SharingAnIdentifierRows(query, !NormaliseEmail(candidate.value("email", "")).empty())) {
    if (other.matched_on.empty()) continue;
    out.push_back(
        {{"nomination_id", std::move(other.nomination_id)},
         {"programme_id", std::move(other.programme_id)},
         {"fiscal_year", other.fiscal_year ? nlohmann::json(*other.fiscal_year) : nlohmann::json()},
         {"status", std::move(other.status)},
         {"matched_on", std::move(other.matched_on)}});
  }
  return out;
}

nlohmann::json StoredDuplicates(const nlohmann::json& possible_duplicates) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& found : possible_duplicates) {
    int bits = 0;
    for (const auto& reason : found.at("matched_on")) {
      for (const auto& [bit, name] : kMatchBits) {
        if (reason == name) bits |= bit;
      }
    }
    out.push_back(nlohmann::json::array({found.at("nomination_id"), bits}));
  }
  return out;
}

void ExpandPossibleDuplicates(store::Db& db, nlohmann::json& items) {
  // Plain structs and objects built member by member: a page renders hundreds of entries, and
  // nlohmann's initializer lists copy every value once more.
  struct Other {
    std::string programme_id;
    std::optional<std::int64_t> fiscal_year;
    std::string status;
  };
  std::vector<std::string> ids;
  for (const auto& item : items) {
    if (const auto it = item.find("duplicates"); it != item.end()) {
      for (const auto& ref : *it) ids.push_back(ref.at(0).get_ref<const std::string&>());
    }
  }
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<std::string, Other> others;
  others.reserve(ids.size());
  auto stmt =
      db.Prepare("SELECT id, programme_id, fiscal_year, status FROM nominations WHERE id IN " +
                 store::JsonArrayStrings(db, "?"));
  stmt.Bind(1, nlohmann::json(ids).dump());
  while (stmt.Step())
    others.emplace(stmt.Text(0), Other{stmt.Text(1), stmt.OptInt(2), stmt.Text(3)});
  for (auto& item : items) {
    const auto it = item.find("duplicates");
    if (it == item.end()) continue;
    nlohmann::json possible = nlohmann::json::array();
    for (const auto& ref : *it) {
      const auto& id = ref.at(0).get_ref<const std::string&>();
      const auto other = others.find(id);
      if (other == others.end()) continue;  // deleted since
      nlohmann::json entry(nlohmann::json::value_t::object);
      auto& members = entry.get_ref<nlohmann::json::object_t&>();
      members.emplace("nomination_id", id);
      members.emplace("programme_id", other->second.programme_id);
      members.emplace("fiscal_year", other->second.fiscal_year
                                         ? nlohmann::json(*other->second.fiscal_year)
                                         : nlohmann::json());
      members.emplace("status", other->second.status);
      members.emplace("matched_on", MatchedOn(ref.at(1)));
      possible.push_back(std::move(entry));
    }
    item.erase(it);
    if (!possible.empty()) item["possible_duplicates"] = std::move(possible);
  }
}

nlohmann::json DuplicateWarnings(const nlohmann::json& possible_duplicates) {
  nlohmann::json warnings = nlohmann::json::array();
  if (!possible_duplicates.is_array() || possible_duplicates.empty()) return warnings;
  std::string list;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& found : possible_duplicates) {
    const std::string id = found.at("nomination_id");
    list += (list.empty() ? "" : ", ") + id;
    ids.push_back(id);
  }
  warnings.push_back({{"code", "possible-duplicate"},
                      {"detail", "this candidate may be the person already nominated as " + list +
                                     ": compare them (possible_duplicates) before screening"},
                      {"nomination_ids", ids}});
  return warnings;
}

}  // namespace jilaf::invitations
