#pragma once

// The rules of the invitation programme year, as plain functions over plain data: handlers
// load rows and call these inside their write transaction, and unit tests call them directly.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aggregate/view.hpp"
#include "common/auth/principal.hpp"
#include "common/domain/state_machine.hpp"

namespace jilaf::invitations {

/// draft → open → selection → confirmed → running → completed; cancelled before running.
const domain::StateMachine& ProgrammeMachine();
/// submitted → screened → selected | waitlisted | rejected; selected → invited → visa_applied →
/// visa_granted | visa_denied; visa_granted → travel_booked → arrived → completed; withdrawn
/// from every state before arrival, no_show from travel_booked; programme_cancelled (terminal) is
/// reached only through the programme's cancellation.
const domain::StateMachine& NominationMachine();

/// False for the closed outcomes: rejected, visa_denied, withdrawn, no_show, completed,
/// programme_cancelled.
[[nodiscard]] bool IsOpenNomination(std::string_view status);
/// What a programme moving to `programme_to` does to one of its nominations in the same
/// transaction: completing it completes the `arrived`, cancelling it closes every open one into
/// `programme_cancelled` (freeing its seat); nullopt leaves the nomination as it is.
[[nodiscard]] std::optional<std::string> CarriedStatus(std::string_view programme_to,
                                                       std::string_view nomination_status);
/// True for a seated participant who has not arrived (selected up to travel_booked): the
/// programme cannot complete until staff record them as no_show or withdrawn.
[[nodiscard]] bool BlocksProgrammeCompletion(std::string_view status);

/// True for the states that occupy one of the programme's seats (selected up to completed).
[[nodiscard]] bool HoldsSeat(std::string_view status);
/// True when leaving a seat for this state promotes the first eligible waitlisted candidate.
[[nodiscard]] bool FreesSeatForWaitlist(std::string_view from, std::string_view to);

/// A programme's limits: total seats and ISO 3166-1 alpha-2 → seats. A country without a quota
/// is limited by the total seats only.
struct SeatLimits {
  std::int64_t seats = 0;
  std::map<std::string, std::int64_t> country_quotas;
  /// UN M49 region (util::M49Regions) → seats, counted over the nationalities of the region.
  std::map<std::string, std::int64_t> region_quotas;

  static SeatLimits FromProgramme(const nlohmann::json& programme);
};

/// Seats taken now, in total and per nationality.
struct Occupancy {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_country;

  /// Seats held by nationals of the countries M49 places in `region`.
  [[nodiscard]] std::int64_t InRegion(std::string_view region) const;
};

/// Which limit a selection would break.
enum class CapacityLimit { kNone, kSeats, kCountryQuota, kRegionQuota };

/// The limit that one more selected candidate of `nationality` would exceed, or kNone.
[[nodiscard]] CapacityLimit FindCapacityLimit(const SeatLimits& limits, const Occupancy& taken,
                                              const std::string& nationality);
/// Throws ApiError 409 `capacity-exceeded` naming the limit (`limit`: `seats`, `country_quota`
/// with `country`, or `region_quota` with `region`) when FindCapacityLimit finds one.
void CheckCapacity(const SeatLimits& limits, const Occupancy& taken,
                   const std::string& nationality);

struct WaitlistEntry {
  std::string nomination_id;
  std::string nationality;
  std::int64_t rank = 0;
};

/// The waitlisted candidate to promote into a freed seat: the lowest rank whose country still
/// has room under `limits` given `taken` (which no longer counts the departed candidate).
[[nodiscard]] std::optional<WaitlistEntry> PickPromotion(const SeatLimits& limits,
                                                         const Occupancy& taken,
                                                         std::vector<WaitlistEntry> waitlist);

/// The identity used for duplicate detection: family and given names together, lower-cased,
/// Latin diacritics stripped (é → e, Đ → d, ß → ss, Vietnamese tones), punctuation and any
/// spacing collapsed, tokens sorted so that name order does not matter.
[[nodiscard]] std::string NormaliseName(std::string_view family_name, std::string_view given_name);
/// NormaliseName + date of birth + nationality, the input of the duplicate blind index.
[[nodiscard]] std::string IdentityText(std::string_view family_name, std::string_view given_name,
                                       std::string_view date_of_birth,
                                       std::string_view nationality);

/// An e-mail address as identities compare it: lower-cased (ASCII), surrounding spaces dropped.
[[nodiscard]] std::string NormaliseEmail(std::string_view email);
/// A passport number as its blind index is taken: upper-cased, only letters and digits kept.
[[nodiscard]] std::string NormalisePassport(std::string_view passport);
/// NormaliseName + nationality + the union's name folded like names (in order): one of the
/// signals of a possible duplicate when no birth date is known.
[[nodiscard]] std::string NameNationalityUnionKey(const nlohmann::json& candidate);
/// Which of the signals `email` and `name_nationality_union` two candidates share (the
/// passport is compared by its blind index, outside the document).
[[nodiscard]] std::vector<std::string> SharedIdentitySignals(const nlohmann::json& a,
                                                             const nlohmann::json& b);

/// The state an admin may return a nomination to when staff moved it by mistake: rejected →
/// screened, no_show → travel_booked, withdrawn → the state it was withdrawn from (read from its
/// status_history). 409 invalid-transition naming the states that have a reversal otherwise.
[[nodiscard]] std::string ReversalTarget(const nlohmann::json& nomination);

/// The decrypted personal fields of a nomination.
struct PersonalData {
  std::optional<std::string> passport_number;
  std::optional<std::string> date_of_birth;
};

/// The nomination as `view` may see it: admin gets the passport number, staff a masked one and
/// the date of birth, viewers only names, nationality and the nominating organisation's name and
/// country besides the workflow fields.
[[nodiscard]] nlohmann::json RenderNomination(const nlohmann::json& doc,
                                              const PersonalData& personal,
                                              aggregate::Audience audience);

/// A nomination's names and contact details: the `personal` part of its events, published on
/// the people topic rather than the permanent events topic.
nlohmann::json PersonalEventData(const nlohmann::json& nomination);

/// The data of every `jilaf.invitations.nomination.*` event (never passport or birth date).
[[nodiscard]] nlohmann::json NominationEventData(const nlohmann::json& programme,
                                                 const nlohmann::json& nomination,
                                                 const std::optional<std::string>& previous_status);
/// The data of every `jilaf.invitations.programme.*` event.
[[nodiscard]] nlohmann::json ProgrammeEventData(const nlohmann::json& programme,
                                                const std::optional<std::string>& previous_status);

/// A calendar date plus whole months, the day clamped to the month's length
/// ("2026-08-31" + 6 → "2027-02-28").
[[nodiscard]] std::string AddMonths(const std::string& date, int months);
/// Follow-up reports are due this many months after the programme ends.
inline constexpr int kFollowUpMonths[] = {3, 6, 12};

/// One nomination as the fiscal-year report counts it.
struct ReportRow {
  std::string programme_id;
  std::string nationality;
  std::optional<std::string> region;
  std::string track;
  std::optional<std::string> gender;
  std::string status;
  std::int64_t count = 1;  // how many nominations share these values
};
/// nominated / selected (holding a seat, completed included) / completed, in total and by
/// country, region, track and gender, with the completion rate (completed / selected).
[[nodiscard]] nlohmann::json BuildFiscalYearReport(std::int64_t fiscal_year,
                                                   const std::vector<ReportRow>& rows);

}  // namespace jilaf::invitations
