#include "services/invitations/domain.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

#include "common/aggregate/sequences.hpp"
#include "common/http/problem.hpp"
#include "common/util/fold.hpp"
#include "common/util/m49.hpp"

namespace jilaf::invitations {
namespace {

std::int64_t IntOr(const nlohmann::json& doc, const char* key, std::int64_t fallback) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

nlohmann::json OrNull(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it == doc.end() ? nlohmann::json(nullptr) : *it;
}

}  // namespace

const domain::StateMachine& ProgrammeMachine() {
  static const domain::StateMachine machine("programme", {{"draft", {"open", "cancelled"}},
                                                          {"open", {"selection", "cancelled"}},
                                                          {"selection", {"confirmed", "cancelled"}},
                                                          {"confirmed", {"running", "cancelled"}},
                                                          {"running", {"completed"}}});
  return machine;
}

const domain::StateMachine& NominationMachine() {
  static const domain::StateMachine machine(
      "nomination", {{"submitted", {"screened", "rejected", "withdrawn"}},
                     {"screened", {"selected", "waitlisted", "rejected", "withdrawn"}},
                     {"waitlisted", {"selected", "rejected", "withdrawn"}},
                     {"selected", {"invited", "withdrawn"}},
                     {"invited", {"visa_applied", "withdrawn"}},
                     {"visa_applied", {"visa_granted", "visa_denied", "withdrawn"}},
                     {"visa_granted", {"travel_booked", "withdrawn"}},
                     {"travel_booked", {"arrived", "no_show", "withdrawn"}},
                     {"arrived", {"completed"}},
                     // Set only by cancelling the programme (CarriedStatus), never by a move.
                     {"programme_cancelled", {}}});
  return machine;
}

std::optional<std::string> CarriedStatus(std::string_view programme_to,
                                         std::string_view nomination_status) {
  if (programme_to == "completed" && nomination_status == "arrived") return "completed";
  if (programme_to == "cancelled" && IsOpenNomination(nomination_status)) {
    return "programme_cancelled";
  }
  return std::nullopt;
}

bool IsOpenNomination(std::string_view status) {
  static constexpr std::string_view kClosed[] = {"rejected", "visa_denied", "withdrawn",
                                                 "no_show",  "completed",   "programme_cancelled"};
  return std::find(std::begin(kClosed), std::end(kClosed), status) == std::end(kClosed);
}

bool BlocksProgrammeCompletion(std::string_view status) {
  return HoldsSeat(status) && status != "arrived" && status != "completed";
}

std::string ReversalTarget(const nlohmann::json& nomination) {
  const std::string status = nomination.at("status");
  if (status == "rejected") return "screened";
  if (status == "no_show") return "travel_booked";
  if (status == "withdrawn") {
    const auto history = nomination.value("status_history", nlohmann::json::array());
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      if (it->value("to", "") == "withdrawn") return it->value("from", "");
    }
  }
  throw http::ApiError(409, "invalid-transition", "Invalid state transition",
                       "a nomination in state " + status +
                           " has no reversal; reversible states: rejected, withdrawn (when its"
                           " history shows the state it left), no_show")
      .With("from", status)
      .With("reversible_states", {"rejected", "withdrawn", "no_show"});
}

bool HoldsSeat(std::string_view status) {
  static constexpr std::string_view kSeated[] = {"selected",     "invited",       "visa_applied",
                                                 "visa_granted", "travel_booked", "arrived",
                                                 "completed"};
  return std::find(std::begin(kSeated), std::end(kSeated), status) != std::end(kSeated);
}

bool FreesSeatForWaitlist(std::string_view from, std::string_view to) {
  // A no-show is discovered when the programme is under way: too late to bring someone in.
  return HoldsSeat(from) && (to == "withdrawn" || to == "visa_denied");
}

SeatLimits SeatLimits::FromProgramme(const nlohmann::json& programme) {
  SeatLimits limits;
  limits.seats = IntOr(programme, "seats", 0);
  if (const auto it = programme.find("country_quotas"); it != programme.end() && it->is_object()) {
    for (const auto& [country, quota] : it->items()) {
      if (quota.is_number_integer()) limits.country_quotas[country] = quota.get<std::int64_t>();
    }
  }
  if (const auto it = programme.find("region_quotas"); it != programme.end() && it->is_object()) {
    for (const auto& [region, quota] : it->items()) {
      if (quota.is_number_integer()) limits.region_quotas[region] = quota.get<std::int64_t>();
    }
  }
  return limits;
}

std::int64_t Occupancy::InRegion(std::string_view region) const {
  std::int64_t sum = 0;
  for (const auto& [country, taken] : by_country) {
    if (util::M49RegionOf(country) == region) sum += taken;
  }
  return sum;
}

CapacityLimit FindCapacityLimit(const SeatLimits& limits, const Occupancy& taken,
                                const std::string& nationality) {
  if (taken.total >= limits.seats) return CapacityLimit::kSeats;
  const auto quota = limits.country_quotas.find(nationality);
  if (quota != limits.country_quotas.end()) {
    const auto used = taken.by_country.find(nationality);
    if ((used == taken.by_country.end() ? 0 : used->second) >= quota->second) {
      return CapacityLimit::kCountryQuota;
    }
  }
  if (const auto region = util::M49RegionOf(nationality)) {
    const auto quota = limits.region_quotas.find(std::string(*region));
    if (quota != limits.region_quotas.end() && taken.InRegion(*region) >= quota->second) {
      return CapacityLimit::kRegionQuota;
    }
  }
  return CapacityLimit::kNone;
}

void CheckCapacity(const SeatLimits& limits, const Occupancy& taken,
                   const std::string& nationality) {
  switch (FindCapacityLimit(limits, taken, nationality)) {
    case CapacityLimit::kNone:
      return;
    case CapacityLimit::kSeats:
      throw http::ApiError(
          409, "capacity-exceeded", "Capacity exceeded",
          "all " + std::to_string(limits.seats) + " seats of the programme are taken")
          .With("limit", "seats")
          .With("seats", limits.seats)
          .With("taken", taken.total);
    case CapacityLimit::kCountryQuota: {
      const auto quota = limits.country_quotas.at(nationality);
      throw http::ApiError(
          409, "capacity-exceeded", "Capacity exceeded",
          "the quota of " + std::to_string(quota) + " seats for " + nationality + " is used up")
          .With("limit", "country_quota")
          .With("country", nationality)
          .With("quota", quota);
    }
    case CapacityLimit::kRegionQuota: {
      const std::string region(*util::M49RegionOf(nationality));
      const auto quota = limits.region_quotas.at(region);
      throw http::ApiError(409, "capacity-exceeded", "Capacity exceeded",
                           "the quota of " + std::to_string(quota) + " seats for the region " +
                               region + " (UN M49), which " + nationality +
                               " belongs to, is used up")
          .With("limit", "region_quota")
          .With("region", region)
          .With("country", nationality)
          .With("quota", quota);
    }
  }
}

std::optional<WaitlistEntry> PickPromotion(const SeatLimits& limits, const Occupancy& taken,
                                           std::vector<WaitlistEntry> waitlist) {
  std::stable_sort(waitlist.begin(), waitlist.end(),
                   [](const WaitlistEntry& a, const WaitlistEntry& b) { return a.rank < b.rank; });
  for (auto& entry : waitlist) {
    const auto limit = FindCapacityLimit(limits, taken, entry.nationality);
    if (limit == CapacityLimit::kSeats) return std::nullopt;
    if (limit == CapacityLimit::kNone) return std::move(entry);
  }
  return std::nullopt;
}

std::string NormaliseName(std::string_view family_name, std::string_view given_name) {
  std::vector<std::string> tokens;
  util::AppendFoldedTokens(family_name, tokens);
  util::AppendFoldedTokens(given_name, tokens);
  std::sort(tokens.begin(), tokens.end());
  std::string out;
  for (const auto& token : tokens) out += (out.empty() ? "" : " ") + token;
  return out;
}

std::string IdentityText(std::string_view family_name, std::string_view given_name,
                         std::string_view date_of_birth, std::string_view nationality) {
  return NormaliseName(family_name, given_name) + "|" + std::string(date_of_birth) + "|" +
         std::string(nationality);
}

std::string NormaliseEmail(std::string_view email) {
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.front()))) {
    email.remove_prefix(1);
  }
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.back()))) {
    email.remove_suffix(1);
  }
  std::string out(email);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string NormalisePassport(std::string_view passport) {
  std::string out;
  for (const unsigned char c : passport) {
    if (std::isalnum(c)) out += static_cast<char>(std::toupper(c));
  }
  return out;
}

std::string NameNationalityUnionKey(const nlohmann::json& candidate) {
  std::vector<std::string> union_tokens;
  util::AppendFoldedTokens(candidate.value("union", ""), union_tokens);
  std::string union_name;
  for (const auto& token : union_tokens) union_name += (union_name.empty() ? "" : " ") + token;
  return NormaliseName(candidate.value("family_name", ""), candidate.value("given_name", "")) +
         "|" + candidate.value("nationality", "") + "|" + union_name;
}

std::vector<std::string> SharedIdentitySignals(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> shared;
  const auto email_a = NormaliseEmail(a.value("email", ""));
  if (!email_a.empty() && email_a == NormaliseEmail(b.value("email", ""))) {
    shared.emplace_back("email");
  }
  if (NameNationalityUnionKey(a) == NameNationalityUnionKey(b)) {
    shared.emplace_back("name_nationality_union");
  }
  return shared;
}

namespace {

// Viewers read names and nationality, not contact details, union, position or history.
const aggregate::ViewerView kNominationViewerView{
    {{"candidate", {"family_name", "given_name", "nationality", "native_name", "katakana_name"}},
     {"nominating_organisation", {"name", "country"}}},
    {"previous_participation"},
    {}};

}  // namespace

nlohmann::json RenderNomination(const nlohmann::json& doc, const PersonalData& personal,
                                aggregate::Audience audience) {
  if (audience == aggregate::Audience::kViewer) {
    return aggregate::ForViewer(doc, kNominationViewerView);
  }
  nlohmann::json out = doc;
  if (personal.passport_number) {
    // Staff see the last three characters, enough to tell two passports apart.
    out["candidate"]["passport_number"] =
        audience == aggregate::Audience::kAdmin
            ? *personal.passport_number
            : aggregate::MaskedExceptLast(*personal.passport_number, 3);
  }
  if (personal.date_of_birth) out["candidate"]["date_of_birth"] = *personal.date_of_birth;
  return out;
}

nlohmann::json PersonalEventData(const nlohmann::json& nomination) {
  const auto& c = nomination.at("candidate");
  nlohmann::json personal;
  personal["candidate"] = aggregate::Pick(c, {"family_name", "given_name", "email"});
  personal["union"] = c.at("union");
  personal["position"] = c.at("position");
  personal["nominating_organisation"] = {
      {"contact_email", OrNull(nomination.at("nominating_organisation"), "contact_email")}};
  return personal;
}

nlohmann::json NominationEventData(const nlohmann::json& programme,
                                   const nlohmann::json& nomination,
                                   const std::optional<std::string>& previous_status) {
  const auto& c = nomination.at("candidate");
  const auto& org = nomination.at("nominating_organisation");
  auto data = aggregate::Pick(
      nomination, {"programme_id", "status", "waitlist_rank", "previous_participation"});
  data["nomination_id"] = nomination.at("id");
  if (nomination.contains("person_id")) data["person_id"] = nomination["person_id"];
  data["programme_title"] = programme.at("title");
  data["fiscal_year"] = programme.at("fiscal_year");
  data["track"] = programme.at("track");
  data["region"] = OrNull(programme, "region");
  data["previous_status"] = previous_status ? nlohmann::json(*previous_status) : nullptr;
  // The permanent topic gets the facts the statistics count; names and contact details go on
  // the people topic (the publisher moves `personal` there), where erasure reaches them.
  data["candidate"] = aggregate::Pick(c, {"nationality"});
  data["candidate"]["gender"] = OrNull(c, "gender");
  data["nominating_organisation"] = aggregate::Pick(org, {"name", "country"});
  // An erased person's placeholders never go back on the people topic after the tombstone.
  if (!nomination.contains("erased_at")) data["personal"] = PersonalEventData(nomination);
  return data;
}

nlohmann::json ProgrammeEventData(const nlohmann::json& programme,
                                  const std::optional<std::string>& previous_status) {
  auto data = aggregate::Pick(programme, {"fiscal_year", "title", "track", "status", "seats",
                                          "country_quotas", "start_date", "end_date", "version"});
  data["programme_id"] = programme.at("id");
  data["region"] = OrNull(programme, "region");
  if (const auto it = programme.find("region_quotas"); it != programme.end() && !it->empty()) {
    data["region_quotas"] = *it;
  }
  if (previous_status) data["previous_status"] = *previous_status;
  return data;
}

std::string AddMonths(const std::string& date, int months) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (std::sscanf(date.c_str(), "%d-%d-%d", &year, &month, &day) != 3) return date;
  const int index = year * 12 + (month - 1) + months;
  year = index / 12;
  month = index % 12 + 1;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int last = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  day = std::min(day, last);
  char out[40];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", year, month, day);
  return out;
}

nlohmann::json BuildFiscalYearReport(std::int64_t fiscal_year, const std::vector<ReportRow>& rows) {
  struct Counts {
    std::int64_t nominated = 0, selected = 0, completed = 0;
    [[nodiscard]] nlohmann::json Json() const {
      return {
          {"nominated", nominated},
          {"selected", selected},
          {"completed", completed},
          {"completion_rate",
           selected == 0 ? 0.0 : static_cast<double>(completed) / static_cast<double>(selected)}};
    }
  };
  Counts total;
  std::map<std::string, Counts> by_country, by_region, by_track, by_gender, by_programme;
  for (const auto& row : rows) {
    const bool selected = HoldsSeat(row.status);
    const bool completed = row.status == "completed";
    for (Counts* counts :
         {&total, &by_country[row.nationality], &by_region[row.region.value_or("unspecified")],
          &by_track[row.track], &by_gender[row.gender.value_or("unspecified")],
          &by_programme[row.programme_id]}) {
      counts->nominated += row.count;
      if (selected) counts->selected += row.count;
      if (completed) counts->completed += row.count;
    }
  }
  auto group = [](const std::map<std::string, Counts>& groups) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, counts] : groups) out[key] = counts.Json();
    return out;
  };
  nlohmann::json report = total.Json();
  report["fiscal_year"] = fiscal_year;
  report["countries"] = by_country.size();
  report["by_country"] = group(by_country);
  report["by_region"] = group(by_region);
  report["by_track"] = group(by_track);
  report["by_gender"] = group(by_gender);
  report["by_programme"] = group(by_programme);
  return report;
}

}  // namespace jilaf::invitations
