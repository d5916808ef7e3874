#include "services/invitations/candidates.hpp"

#include <cctype>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "services/invitations/queries.hpp"

namespace jilaf::invitations {
namespace {

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
nlohmann::json EarlierParticipation(store::Db& tx, const std::string& identity_hash,
                                    std::int64_t fiscal_year, const std::string& self) {
  nlohmann::json earlier = nlohmann::json::array();
  for (auto& found : NominationsOfIdentity(tx, identity_hash)) {
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

MatchKeys MatchKeysOf(const FieldCipher& cipher, const nlohmann::json& candidate,
                      const std::optional<std::string>& passport_number) {
  MatchKeys keys;
  if (passport_number) {
    keys.passport_hash = cipher.BlindIndex("passport|" + NormalisePassport(*passport_number));
  }
  keys.name_key = cipher.BlindIndex("name|" + NameNationalityUnionKey(candidate));
  return keys;
}

nlohmann::json PossibleDuplicates(store::Db& tx, const nlohmann::json& candidate,
                                  const MatchKeys& keys, const std::string& self) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& other :
       NominationsSharingAnIdentifier(tx, NormaliseEmail(candidate.value("email", "")),
                                      keys.passport_hash, keys.name_key, self)) {
    auto matched = SharedIdentitySignals(candidate, other.doc.at("candidate"));
    if (keys.passport_hash && other.passport_hash == keys.passport_hash) {
      matched.emplace_back("passport");
    }
    if (matched.empty()) continue;
    out.push_back({{"nomination_id", other.doc.at("id")},
                   {"programme_id", other.doc.at("programme_id")},
                   {"fiscal_year", other.doc.value("fiscal_year", nlohmann::json())},
                   {"status", other.doc.at("status")},
                   {"matched_on", matched}});
  }
  return out;
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
