// The rules of the invitation programme year: state machines, seats and quotas, waitlist
// promotion, duplicate detection, personal data; the domain functions directly, and the
// handlers in-process against a real SQLite store (no HTTP).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <tuple>

#include "common/crypto/field_cipher.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/calendar.hpp"
#include "common/util/iso3166.hpp"
#include "common/util/m49.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/schema.hpp"
#include "services/invitations/tables.hpp"
#include "tests/support/domain_errors.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"

namespace jilaf::invitations {
namespace {

using testing::DomainAsHttp;

template <typename Fn>
http::ApiError Problem(Fn fn) {
  try {
    DomainAsHttp(fn);
  } catch (const http::ApiError& error) {
    return error;
  }
  ADD_FAILURE() << "expected an ApiError";
  return http::ApiError(0, "none", "none", "none");
}

TEST(ProgrammeMachine, FollowsTheYearAndCancelsOnlyBeforeRunning) {
  const auto& machine = ProgrammeMachine();
  EXPECT_TRUE(machine.Allows("draft", "open"));
  EXPECT_TRUE(machine.Allows("open", "selection"));
  EXPECT_TRUE(machine.Allows("selection", "confirmed"));
  EXPECT_TRUE(machine.Allows("confirmed", "running"));
  EXPECT_TRUE(machine.Allows("running", "completed"));
  for (const char* state : {"draft", "open", "selection", "confirmed"}) {
    EXPECT_TRUE(machine.Allows(state, "cancelled")) << state;
  }
  EXPECT_FALSE(machine.Allows("running", "cancelled"));
  const auto error = Problem([&] { machine.Check("draft", "running"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.extensions()["allowed_transitions"],
            nlohmann::json::array({"cancelled", "open"}));
}

TEST(NominationMachine, AllowsTheParticipantJourneyOnly) {
  const auto& machine = NominationMachine();
  const std::vector<std::string> journey = {"submitted",     "screened",     "selected",
                                            "invited",       "visa_applied", "visa_granted",
                                            "travel_booked", "arrived",      "completed"};
  for (std::size_t i = 0; i + 1 < journey.size(); ++i) {
    EXPECT_TRUE(machine.Allows(journey[i], journey[i + 1])) << journey[i];
  }
  EXPECT_TRUE(machine.Allows("screened", "waitlisted"));
  EXPECT_TRUE(machine.Allows("waitlisted", "selected"));
  EXPECT_TRUE(machine.Allows("visa_applied", "visa_denied"));
  EXPECT_TRUE(machine.Allows("travel_booked", "no_show"));
  EXPECT_FALSE(machine.Allows("submitted", "selected"));
  EXPECT_FALSE(machine.Allows("arrived", "withdrawn"));
  EXPECT_FALSE(machine.Allows("completed", "withdrawn"));
  const auto error = Problem([&] { machine.Check("submitted", "invited"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.extensions()["allowed_transitions"],
            nlohmann::json::array({"rejected", "screened", "withdrawn"}));
  EXPECT_EQ(Problem([&] { machine.Check("submitted", "teleported"); }).status(), 422);
}

TEST(ProgrammeLifecycle, CompletionCompletesTheArrivedAndWaitsForTheOnesOnTheirWay) {
  EXPECT_EQ(CarriedStatus("completed", "arrived"), "completed");
  for (const char* status : {"submitted", "waitlisted", "travel_booked", "no_show", "withdrawn"}) {
    EXPECT_EQ(CarriedStatus("completed", status), std::nullopt) << status;
  }
  for (const char* status :
       {"selected", "invited", "visa_applied", "visa_granted", "travel_booked"}) {
    EXPECT_TRUE(BlocksProgrammeCompletion(status)) << status;
  }
  for (const char* status : {"submitted", "screened", "waitlisted", "arrived", "completed",
                             "withdrawn", "no_show", "visa_denied", "rejected"}) {
    EXPECT_FALSE(BlocksProgrammeCompletion(status)) << status;
  }
}

TEST(ProgrammeLifecycle, CancellationClosesEveryOpenNominationAndFreesItsSeat) {
  for (const char* status : {"submitted", "screened", "waitlisted", "selected", "invited",
                             "visa_applied", "visa_granted", "travel_booked", "arrived"}) {
    EXPECT_EQ(CarriedStatus("cancelled", status), "programme_cancelled") << status;
  }
  for (const char* status :
       {"rejected", "visa_denied", "withdrawn", "no_show", "completed", "programme_cancelled"}) {
    EXPECT_EQ(CarriedStatus("cancelled", status), std::nullopt) << status;
  }
  EXPECT_FALSE(HoldsSeat("programme_cancelled"));
  // Only the programme's cancellation reaches it: no move leads there, none leaves it.
  EXPECT_TRUE(NominationMachine().IsState("programme_cancelled"));
  EXPECT_FALSE(NominationMachine().Allows("selected", "programme_cancelled"));
  EXPECT_TRUE(NominationMachine().Next("programme_cancelled").empty());
  EXPECT_EQ(CarriedStatus("running", "arrived"), std::nullopt);
}

SeatLimits Limits() {
  SeatLimits limits;
  limits.seats = 3;
  limits.country_quotas = {{"VN", 1}, {"ID", 2}};
  return limits;
}

TEST(NominationSelection, RejectsWhenCountryQuotaIsFull) {
  Occupancy taken;
  taken.total = 1;
  taken.by_country["VN"] = 1;
  EXPECT_EQ(FindCapacityLimit(Limits(), taken, "VN"), CapacityLimit::kCountryQuota);
  const auto error = Problem([&] { CheckCapacity(Limits(), taken, "VN"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.extensions()["limit"], "country_quota");
  EXPECT_EQ(error.extensions()["country"], "VN");
  EXPECT_EQ(FindCapacityLimit(Limits(), taken, "ID"), CapacityLimit::kNone);
  // A country without a quota is bounded by the seats only.
  EXPECT_EQ(FindCapacityLimit(Limits(), taken, "TH"), CapacityLimit::kNone);
}

TEST(NominationSelection, RejectsWhenSeatsAreFull) {
  Occupancy taken;
  taken.total = 3;
  taken.by_country = {{"ID", 1}, {"TH", 2}};
  EXPECT_EQ(FindCapacityLimit(Limits(), taken, "ID"), CapacityLimit::kSeats);
  const auto error = Problem([&] { CheckCapacity(Limits(), taken, "KE"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.extensions()["limit"], "seats");
}

TEST(NominationSelection, RejectsWhenRegionQuotaIsFullNamingTheRegion) {
  SeatLimits limits;
  limits.seats = 10;
  limits.country_quotas = {{"VN", 5}};
  limits.region_quotas = {{"asia", 2}, {"africa", 1}};
  Occupancy taken;
  taken.total = 2;
  taken.by_country = {{"VN", 1}, {"TH", 1}};
  EXPECT_EQ(taken.InRegion("asia"), 2);
  // Viet Nam's own quota has room, Asia's has none; Kenya (Africa) and Germany (no quota) do.
  EXPECT_EQ(FindCapacityLimit(limits, taken, "VN"), CapacityLimit::kRegionQuota);
  EXPECT_EQ(FindCapacityLimit(limits, taken, "KE"), CapacityLimit::kNone);
  EXPECT_EQ(FindCapacityLimit(limits, taken, "DE"), CapacityLimit::kNone);
  const auto error = Problem([&] { CheckCapacity(limits, taken, "ID"); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.extensions()["limit"], "region_quota");
  EXPECT_EQ(error.extensions()["region"], "asia");
  EXPECT_EQ(error.extensions()["quota"], 2);
  // The waitlist skips candidates of a full region, as of a full country.
  const auto next = PickPromotion(limits, taken, {{"w1", "ID", 1}, {"w2", "KE", 2}});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->nomination_id, "w2");
}

TEST(M49Regions, PlaceEveryAssignedCountryTheWayTheUnDoes) {
  EXPECT_EQ(util::M49RegionOf("VN"), "asia");
  EXPECT_EQ(util::M49RegionOf("SA"), "asia");  // Western Asia: the Middle East
  EXPECT_EQ(util::M49RegionOf("EG"), "africa");
  EXPECT_EQ(util::M49RegionOf("BR"), "latin_america_caribbean");
  EXPECT_EQ(util::M49RegionOf("MX"), "latin_america_caribbean");
  EXPECT_EQ(util::M49RegionOf("US"), "northern_america");
  EXPECT_EQ(util::M49RegionOf("FJ"), "oceania");
  EXPECT_EQ(util::M49RegionOf("TR"), "asia");
  EXPECT_EQ(util::M49RegionOf("RU"), "europe");
  EXPECT_EQ(util::M49RegionOf("AQ"), std::nullopt);
  EXPECT_EQ(util::M49RegionOf("XX"), std::nullopt);
  // Every officially assigned code but Antarctica has exactly one region.
  int placed = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const std::string code{a, b};
      if (!util::IsIso3166Alpha2(code)) {
        EXPECT_EQ(util::M49RegionOf(code), std::nullopt) << code;
        continue;
      }
      if (code == "AQ") continue;
      EXPECT_TRUE(util::M49RegionOf(code).has_value()) << code;
      int regions = 0;
      for (const auto region : util::M49Regions()) {
        Occupancy one;
        one.by_country[code] = 1;
        regions += one.InRegion(region) == 1 ? 1 : 0;
      }
      EXPECT_EQ(regions, 1) << code;
      ++placed;
    }
  }
  EXPECT_EQ(placed, 248);
}

TEST(NominationReversal, ReturnsToTheStateAStaffMistakeLeft) {
  EXPECT_EQ(ReversalTarget({{"status", "rejected"}}), "screened");
  EXPECT_EQ(ReversalTarget({{"status", "no_show"}}), "travel_booked");
  const nlohmann::json withdrawn = {
      {"status", "withdrawn"},
      {"status_history",
       {{{"from", "submitted"}, {"to", "screened"}}, {{"from", "invited"}, {"to", "withdrawn"}}}}};
  EXPECT_EQ(ReversalTarget(withdrawn), "invited");
  for (const char* status : {"screened", "completed", "withdrawn"}) {
    try {
      (void)ReversalTarget({{"status", status}});  // a withdrawal without history has none
      ADD_FAILURE() << status;
    } catch (const http::ApiError& error) {
      EXPECT_EQ(error.status(), 409);
      EXPECT_EQ(error.slug(), "invalid-transition");
      EXPECT_TRUE(error.extensions().contains("reversible_states"));
    }
  }
}

TEST(WaitlistPromotion, TakesTheFirstRankFromAnEligibleCountry) {
  Occupancy taken;
  taken.total = 2;
  taken.by_country = {{"VN", 1}, {"ID", 1}};
  const std::vector<WaitlistEntry> waitlist = {
      {"c", "TH", 3}, {"a", "VN", 1}, {"b", "ID", 2}, {"d", "KE", 4}};
  const auto next = PickPromotion(Limits(), taken, waitlist);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->nomination_id, "b");  // rank 1 is from VN, whose quota is used up

  taken.by_country["ID"] = 2;
  taken.total = 2;
  EXPECT_EQ(PickPromotion(Limits(), taken, waitlist)->nomination_id, "c");
  taken.total = 3;
  EXPECT_FALSE(PickPromotion(Limits(), taken, waitlist).has_value());
  EXPECT_FALSE(PickPromotion(Limits(), {}, {}).has_value());
}

TEST(WaitlistPromotion, OnlyLeavingASeatBeforeTheProgrammePromotes) {
  EXPECT_TRUE(FreesSeatForWaitlist("selected", "withdrawn"));
  EXPECT_TRUE(FreesSeatForWaitlist("invited", "withdrawn"));
  EXPECT_TRUE(FreesSeatForWaitlist("visa_applied", "visa_denied"));
  EXPECT_FALSE(FreesSeatForWaitlist("screened", "withdrawn"));
  EXPECT_FALSE(FreesSeatForWaitlist("travel_booked", "no_show"));
}

TEST(DuplicateDetection, NamesMatchAcrossSpellings) {
  const auto base = NormaliseName("Nguyen", "Thi Lan");
  EXPECT_EQ(base, "lan nguyen thi");
  EXPECT_EQ(NormaliseName("NGUYỄN", "Thị  Lan"), base);
  EXPECT_EQ(NormaliseName("Thi Lan", "Nguyen"), base);                  // order swapped
  EXPECT_EQ(NormaliseName(" nguyen ", "thi-lan"), base);                // spacing and hyphen
  EXPECT_EQ(NormaliseName("Nguye\xCC\x82\xCC\x83n", "Thi Lan"), base);  // decomposed accents
  EXPECT_EQ(NormaliseName("Müller", "José María"), NormaliseName("MULLER", "Jose Maria"));
  EXPECT_EQ(NormaliseName("Đặng", "Văn Hùng"), NormaliseName("Dang", "Van Hung"));
  EXPECT_EQ(NormaliseName("O'Brien", "Siân"), NormaliseName("OBrien", "Sian"));
  EXPECT_EQ(NormaliseName("Straße", "Łukasz"), NormaliseName("Strasse", "Lukasz"));
  EXPECT_NE(NormaliseName("Nguyen", "Thi Lan"), NormaliseName("Nguyen", "Thi Lam"));
  // Other scripts are compared as written.
  EXPECT_EQ(NormaliseName("Иванов", "Иван"), "Иван Иванов");
  EXPECT_NE(IdentityText("Nguyen", "Lan", "1990-01-01", "VN"),
            IdentityText("Nguyen", "Lan", "1990-01-02", "VN"));
  EXPECT_NE(IdentityText("Nguyen", "Lan", "1990-01-01", "VN"),
            IdentityText("Nguyen", "Lan", "1990-01-01", "LA"));
}

nlohmann::json SampleNomination() {
  return {{"id", "n1"},
          {"programme_id", "p1"},
          {"status", "selected"},
          {"version", 3},
          {"candidate",
           {{"family_name", "Nguyen"},
            {"given_name", "Lan"},
            {"katakana_name", "グエン・ラン"},
            {"nationality", "VN"},
            {"gender", "female"},
            {"email", "lan@example.org"},
            {"languages", {"vi"}},
            {"union", "VGCL"},
            {"position", "Youth officer"}}},
          {"nominating_organisation",
           {{"name", "VGCL"}, {"country", "VN"}, {"contact_email", "intl@vgcl.example"}}}};
}

TEST(PersonalData, MaskedFieldsPerRole) {
  const PersonalData personal{"C1234567", "1991-04-05"};
  const auto admin = RenderNomination(SampleNomination(), personal, aggregate::Audience::kAdmin);
  EXPECT_EQ(admin["candidate"]["passport_number"], "C1234567");
  EXPECT_EQ(admin["candidate"]["date_of_birth"], "1991-04-05");

  const auto staff = RenderNomination(SampleNomination(), personal, aggregate::Audience::kStaff);
  EXPECT_EQ(staff["candidate"]["passport_number"], "*****567");
  EXPECT_EQ(staff["candidate"]["date_of_birth"], "1991-04-05");
  EXPECT_EQ(staff["candidate"]["email"], "lan@example.org");

  const auto viewer = RenderNomination(SampleNomination(), personal, aggregate::Audience::kViewer);
  const auto& c = viewer["candidate"];
  EXPECT_EQ(c["family_name"], "Nguyen");
  EXPECT_EQ(c["nationality"], "VN");
  for (const char* hidden :
       {"passport_number", "date_of_birth", "email", "gender", "union", "position", "languages"}) {
    EXPECT_FALSE(c.contains(hidden)) << hidden;
  }
  EXPECT_FALSE(viewer["nominating_organisation"].contains("contact_email"));
  EXPECT_EQ(viewer["status"], "selected");
  EXPECT_EQ(viewer.dump().find("C1234567"), std::string::npos);

  // Each role's whole view, exactly (the rendering moved onto aggregate's reader views
  // unchanged): nothing else is added, dropped or masked.
  auto doc = SampleNomination();
  doc["previous_participation"] = {{{"nomination_id", "n0"}, {"fiscal_year", 2024}}};
  auto expected_staff = doc;
  expected_staff["candidate"]["passport_number"] = "*****567";
  expected_staff["candidate"]["date_of_birth"] = "1991-04-05";
  EXPECT_EQ(RenderNomination(doc, personal, aggregate::Audience::kStaff), expected_staff);
  auto expected_admin = expected_staff;
  expected_admin["candidate"]["passport_number"] = "C1234567";
  EXPECT_EQ(RenderNomination(doc, personal, aggregate::Audience::kAdmin), expected_admin);
  auto expected_viewer = SampleNomination();  // without previous_participation
  expected_viewer["candidate"] = {{"family_name", "Nguyen"},
                                  {"given_name", "Lan"},
                                  {"katakana_name", "グエン・ラン"},
                                  {"nationality", "VN"}};
  expected_viewer["nominating_organisation"] = {{"name", "VGCL"}, {"country", "VN"}};
  EXPECT_EQ(RenderNomination(doc, personal, aggregate::Audience::kViewer), expected_viewer);
  EXPECT_EQ(RenderNomination(doc, {}, aggregate::Audience::kStaff), doc);

  auth::Principal who;
  who.roles = {auth::Role::kViewer};
  EXPECT_EQ(aggregate::AudienceOf(who), aggregate::Audience::kViewer);
  who.roles = {auth::Role::kStaff};
  EXPECT_EQ(aggregate::AudienceOf(who), aggregate::Audience::kStaff);
  who.roles = {auth::Role::kStaff, auth::Role::kAdmin};
  EXPECT_EQ(aggregate::AudienceOf(who), aggregate::Audience::kAdmin);
  EXPECT_EQ(aggregate::MaskedExceptLast("AB1", 3), "***");
}

TEST(PersonalData, EventsCarryTheContractFieldsButNoPersonalData) {
  const nlohmann::json programme = {{"id", "p1"},
                                    {"fiscal_year", 2026},
                                    {"title", {{"ja", "招へい"}, {"en", "Invitation"}}},
                                    {"track", "developing"}};
  const auto data = NominationEventData(programme, SampleNomination(), "screened");
  EXPECT_EQ(data["status"], "selected");
  EXPECT_EQ(data["previous_status"], "screened");
  EXPECT_TRUE(data["region"].is_null());
  EXPECT_EQ(data["candidate"]["gender"], "female");
  EXPECT_EQ(data["programme_title"]["en"], "Invitation");
  // Version 2: what names or reaches the person is the `personal` part, which the publisher
  // moves to the people topic; the rest stays on the events topic.
  for (const char* gone :
       {"family_name", "given_name", "email", "passport_number", "date_of_birth"}) {
    EXPECT_FALSE(data["candidate"].contains(gone)) << gone;
  }
  EXPECT_FALSE(data.contains("union"));
  EXPECT_FALSE(data["nominating_organisation"].contains("contact_email"));
  const auto& personal = data["personal"];
  EXPECT_EQ(personal["candidate"]["email"], "lan@example.org");
  EXPECT_EQ(personal["nominating_organisation"]["contact_email"], "intl@vgcl.example");
  EXPECT_EQ(personal["union"], "VGCL");
  EXPECT_EQ(personal["position"], "Youth officer");
  EXPECT_FALSE(personal["candidate"].contains("passport_number"));
  EXPECT_FALSE(personal["candidate"].contains("date_of_birth"));
  // An erased nomination's placeholders never go back to the people topic.
  auto erased = SampleNomination();
  erased["erased_at"] = "2027-01-01T00:00:00Z";
  EXPECT_FALSE(NominationEventData(programme, erased, std::nullopt).contains("personal"));
}

std::array<unsigned char, crypto::FieldCipher::kKeyBytes> TestKey(unsigned char fill) {
  std::array<unsigned char, crypto::FieldCipher::kKeyBytes> key{};
  key.fill(fill);
  return key;
}

TEST(FollowUps, DueDatesClampToTheMonth) {
  EXPECT_EQ(AddMonths("2026-06-20", 3), "2026-09-20");
  EXPECT_EQ(AddMonths("2026-08-31", 6), "2027-02-28");
  EXPECT_EQ(AddMonths("2027-08-31", 6), "2028-02-29");
  EXPECT_EQ(AddMonths("2026-11-30", 12), "2027-11-30");
}

TEST(Report, CountsByGroupWithCompletionRate) {
  const std::vector<ReportRow> rows = {
      {"p1", "VN", "Asia", "developing", "female", "completed"},
      {"p1", "VN", "Asia", "developing", "male", "selected"},
      {"p1", "ID", "Asia", "developing", std::nullopt, "rejected"},
      {"p2", "DE", std::nullopt, "industrialized", "female", "withdrawn"}};
  const auto report = BuildFiscalYearReport(2026, rows);
  EXPECT_EQ(report["nominated"], 4);
  EXPECT_EQ(report["selected"], 2);
  EXPECT_EQ(report["completed"], 1);
  EXPECT_DOUBLE_EQ(report["completion_rate"].get<double>(), 0.5);
  EXPECT_EQ(report["by_country"]["VN"]["selected"], 2);
  EXPECT_EQ(report["by_gender"]["unspecified"]["nominated"], 1);
  EXPECT_EQ(report["by_region"]["unspecified"]["nominated"], 1);
  EXPECT_EQ(report["by_track"]["industrialized"]["selected"], 0);
  EXPECT_EQ(report["countries"], 3);
}

TEST(Report, RowsCountedTogetherCountAsMany) {
  // FiscalYearRows hands over one row per group with its count, as the index counts them.
  const std::vector<ReportRow> rows = {
      {"p1", "VN", "Asia", "developing", "female", "completed", 3},
      {"p1", "VN", "Asia", "developing", std::nullopt, "submitted", 5},
      {"p2", "ID", std::nullopt, "industrialized", "male", "selected", 2}};
  const auto report = BuildFiscalYearReport(2026, rows);
  EXPECT_EQ(report["nominated"], 10);
  EXPECT_EQ(report["selected"], 5);
  EXPECT_EQ(report["completed"], 3);
  EXPECT_EQ(report["by_country"]["VN"]["nominated"], 8);
  EXPECT_EQ(report["by_gender"]["unspecified"]["nominated"], 5);
  EXPECT_EQ(report["by_programme"]["p2"]["selected"], 2);
  EXPECT_DOUBLE_EQ(report["completion_rate"].get<double>(), 0.6);
}

TEST(Report, SelectionsOfACancelledProgrammeNoLongerCountAsSelected) {
  const std::vector<ReportRow> rows = {
      {"p1", "VN", "Asia", "developing", "female", "programme_cancelled"},
      {"p1", "TH", "Asia", "developing", "male", "selected"}};
  const auto report = BuildFiscalYearReport(2026, rows);
  EXPECT_EQ(report["nominated"], 2);
  EXPECT_EQ(report["selected"], 1);
  EXPECT_EQ(report["by_country"]["VN"]["selected"], 0);
}

// The handlers in-process: a real store, requests built by hand.
class InvitationsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("jilaf-invitations");
    store_ = std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/invitations.db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), http::IdempotencyMigrations(),
                                         Migrations()});
    context_ = std::make_unique<Context>(Context{*store_, cipher_, dir_ + "/invitations.db"});
  }
  void TearDown() override {
    context_.reset();
    store_->Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  http::Request Make(const std::string& body, std::map<std::string, std::string> params,
                     auth::Role role = auth::Role::kStaff, const std::string& if_match = {}) {
    http::Request request;
    request.method = http::Method::kPost;
    request.body = body;
    request.headers = {{"content-type", "application/json"}};
    if (!if_match.empty()) request.headers.emplace_back("if-match", if_match);
    for (auto& [key, value] : params) request.params[key] = value;
    request.principal.subject = "test";
    request.principal.authenticated = true;
    request.principal.roles = {role};
    return request;
  }

  // Nominates a Vietnamese union officer "Lan <family>" with `email`; expects 201.
  nlohmann::json NominateLan(const std::string& programme, const std::string& family,
                             const std::string& email) {
    const nlohmann::json body = {
        {"candidate",
         {{"family_name", family},
          {"given_name", "Lan"},
          {"nationality", "VN"},
          {"email", email},
          {"union", "VGCL"},
          {"position", "Officer"}}},
        {"nominating_organisation", {{"name", "Centre"}, {"country", "VN"}}}};
    const auto response = CreateNomination(Make(body.dump(), {{"id", programme}}), *context_);
    EXPECT_EQ(response.status, 201) << response.body;
    return nlohmann::json::parse(response.body);
  }

  std::string Programme(std::int64_t fiscal_year, std::int64_t seats, nlohmann::json quotas) {
    const nlohmann::json body = {{"fiscal_year", fiscal_year},
                                 {"title", {{"ja", "招へい"}, {"en", "Young Leaders"}}},
                                 {"track", "developing"},
                                 {"region", "Asia"},
                                 {"start_date", std::to_string(fiscal_year) + "-06-01"},
                                 {"end_date", std::to_string(fiscal_year) + "-06-20"},
                                 {"seats", seats},
                                 {"country_quotas", quotas},
                                 {"status", "open"}};
    const auto response = CreateProgramme(Make(body.dump(), {}), *context_);
    EXPECT_EQ(response.status, 201) << response.body;
    return nlohmann::json::parse(response.body)["id"];
  }

  http::Response Nominate(const std::string& programme, const std::string& family,
                          const std::string& given, const std::string& nationality,
                          const std::string& birth = {}, const std::string& passport = {}) {
    nlohmann::json candidate = {{"family_name", family},      {"given_name", given},
                                {"nationality", nationality}, {"email", "c@example.org"},
                                {"union", "Union"},           {"position", "Officer"}};
    if (!birth.empty()) candidate["date_of_birth"] = birth;
    if (!passport.empty()) candidate["passport_number"] = passport;
    const nlohmann::json body = {
        {"candidate", candidate},
        {"nominating_organisation", {{"name", "Centre"}, {"country", nationality}}}};
    return CreateNomination(Make(body.dump(), {{"id", programme}}), *context_);
  }

  std::string NominateId(const std::string& programme, const std::string& family,
                         const std::string& nationality) {
    const auto response = Nominate(programme, family, "X", nationality);
    EXPECT_EQ(response.status, 201) << response.body;
    return nlohmann::json::parse(response.body)["id"];
  }

  // Moves the nomination through the handler, at its current version; answers the response body.
  nlohmann::json Move(const std::string& id, const std::string& to) {
    const std::int64_t version =
        store_->Read([&](store::Db& db) { return Nominations().Get(db, id)["version"]; });
    const auto request = Make(nlohmann::json{{"to", to}}.dump(), {{"id", id}}, auth::Role::kStaff,
                              http::MakeEtag(version));
    return nlohmann::json::parse(TransitionNominationHandler(request, *context_).body);
  }

  std::vector<std::string> EventTypes(const std::string& key) {
    return store_->Read([&](store::Db& db) {
      std::vector<std::string> types;
      auto stmt = db.Prepare("SELECT headers FROM outbox WHERE msg_key = ? ORDER BY seq");
      stmt.Bind(1, key);
      while (stmt.Step()) {
        const std::string headers = stmt.Text(0);
        const auto at = headers.find("jilaf.invitations.");
        types.push_back(headers.substr(at, headers.find('"', at) - at));
      }
      return types;
    });
  }

  std::string dir_;
  crypto::FieldCipher cipher_{TestKey(3)};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Context> context_;
};

TEST_F(InvitationsStoreTest, SelectionStopsAtQuotaAndSeats) {
  const auto programme = Programme(2026, 2, {{"VN", 1}});
  const auto a = NominateId(programme, "A", "VN");
  const auto b = NominateId(programme, "B", "VN");
  const auto c = NominateId(programme, "C", "TH");
  const auto d = NominateId(programme, "D", "KE");
  for (const auto& id : {a, b, c, d}) Move(id, "screened");
  Move(a, "selected");
  EXPECT_EQ(Problem([&] { Move(b, "selected"); }).extensions()["limit"], "country_quota");
  Move(c, "selected");
  EXPECT_EQ(Problem([&] { Move(d, "selected"); }).extensions()["limit"], "seats");
}

TEST_F(InvitationsStoreTest, FollowUpScanSkipsTheParticipantsOfACancelledProgramme) {
  const auto kept = Programme(2026, 5, nlohmann::json::object());
  const auto cancelled = Programme(2026, 5, nlohmann::json::object());
  for (const auto& programme : {kept, cancelled}) {
    const auto id = NominateId(programme, programme == kept ? "Kept" : "Gone", "VN");
    for (const char* to : {"screened", "selected", "invited", "visa_applied", "visa_granted",
                           "travel_booked", "arrived", "completed"}) {
      ASSERT_EQ(Move(id, to)["status"], to);
    }
  }
  const std::int64_t version =
      store_->Read([&](store::Db& db) { return Programmes().Get(db, cancelled)["version"]; });
  const auto moved = TransitionProgramme(Make(R"({"to": "cancelled"})", {{"id", cancelled}},
                                              auth::Role::kStaff, http::MakeEtag(version)),
                                         *context_);
  ASSERT_EQ(moved.status, 200) << moved.body;
  // Only the kept programme's three follow-ups go overdue.
  EXPECT_EQ(store_->Write([&](store::Db& tx) { return ScanOverdueFollowUps(tx, "2028-01-01"); }),
            3);
}

TEST_F(InvitationsStoreTest, WithdrawalPromotesTheFirstEligibleWaitlistedInTheSameCommit) {
  const auto programme = Programme(2026, 2, {{"VN", 1}});
  const auto a = NominateId(programme, "A", "VN");
  const auto b = NominateId(programme, "B", "TH");
  const auto w1 = NominateId(programme, "W1", "VN");
  const auto w2 = NominateId(programme, "W2", "KE");
  const auto w3 = NominateId(programme, "W3", "ID");
  for (const auto& id : {a, b, w1, w2, w3}) Move(id, "screened");
  Move(a, "selected");
  Move(b, "selected");
  Move(w1, "waitlisted");
  Move(w2, "waitlisted");
  Move(w3, "waitlisted");
  // B (TH) leaves: W1 is first but VN's quota is held by A, so W2 comes in.
  auto result = Move(b, "withdrawn");
  ASSERT_EQ(result["promoted"], nlohmann::json::array({w2}));
  EXPECT_EQ(EventTypes(b).back(), "jilaf.invitations.nomination.withdrawn");
  EXPECT_EQ(EventTypes(w2).back(), "jilaf.invitations.nomination.selected");
  // A (VN) is denied a visa: now W1 is eligible.
  Move(a, "invited");
  Move(a, "visa_applied");
  result = Move(a, "visa_denied");
  ASSERT_EQ(result["promoted"], nlohmann::json::array({w1}));
  const auto taken = store_->Read([&](store::Db& db) { return LoadOccupancy(db, programme); });
  EXPECT_EQ(taken.total, 2);
  const auto w3_doc = store_->Read([&](store::Db& db) { return Nominations().Get(db, w3); });
  EXPECT_EQ(w3_doc["status"], "waitlisted");
  EXPECT_EQ(w3_doc["waitlist_rank"], 3);
}

TEST_F(InvitationsStoreTest, SamePersonTwiceInAYearIsRefusedAndAnEarlierYearIsFlagged) {
  const auto p2025 = Programme(2025, 10, nlohmann::json::object());
  const auto p2026a = Programme(2026, 10, nlohmann::json::object());
  const auto p2026b = Programme(2026, 10, nlohmann::json::object());
  const auto earlier = Nominate(p2025, "Nguyễn", "Thị Lan", "VN", "1990-02-03");
  ASSERT_EQ(earlier.status, 201);
  const std::string earlier_id = nlohmann::json::parse(earlier.body)["id"];
  const auto first = Nominate(p2026a, "NGUYEN", "Thi Lan", "VN", "1990-02-03");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto flagged = nlohmann::json::parse(first.body);
  ASSERT_EQ(flagged["previous_participation"].size(), 1u);
  EXPECT_EQ(flagged["previous_participation"][0]["nomination_id"], earlier_id);
  EXPECT_EQ(flagged["previous_participation"][0]["fiscal_year"], 2025);

  const auto again = Problem([&] { Nominate(p2026b, "Thi Lan", "Nguyen", "VN", "1990-02-03"); });
  EXPECT_EQ(again.status(), 409);
  EXPECT_EQ(again.slug(), "duplicate-nomination");
  EXPECT_EQ(again.extensions()["existing_nomination_id"], flagged["id"]);
  // Another birth date or nationality is another person.
  EXPECT_EQ(Nominate(p2026b, "Nguyen", "Thi Lan", "VN", "1990-02-04").status, 201);
  EXPECT_EQ(Nominate(p2026b, "Nguyen", "Thi Lan", "LA", "1990-02-03").status, 201);
}

TEST_F(InvitationsStoreTest, BadInputNamesEveryFieldWithoutEchoingPersonalData) {
  const auto programme = Programme(2026, 10, nlohmann::json::object());
  const nlohmann::json body = {
      {"candidate",
       {{"family_name", std::string(300, 'x')},
        {"given_name", 5},
        {"nationality", "XX"},
        {"email", "nope"},
        {"union", "U"},
        {"position", "P"},
        {"date_of_birth", "1990-02-30"},
        {"passport_number", "secret passport 99"},
        {"shoe_size", 44}}},
      {"nominating_organisation", {{"name", "Centre"}, {"country", "ZZ"}}}};
  const auto error = Problem([&] {
    CreateNomination(Make(body.dump(), {{"id", programme}}), *context_);
  });
  EXPECT_EQ(error.status(), 422);
  std::set<std::string> fields;
  for (const auto& item : error.extensions()["errors"]) fields.insert(item["field"]);
  for (const char* field :
       {"/candidate/family_name", "/candidate/given_name", "/candidate/nationality",
        "/candidate/email", "/candidate/date_of_birth", "/candidate/passport_number",
        "/candidate/shoe_size", "/nominating_organisation/country"}) {
    EXPECT_EQ(fields.count(field), 1u) << field << " in " << error.extensions().dump();
  }
  EXPECT_EQ(error.extensions().dump().find("secret passport"), std::string::npos);

  auto malformed = Make(R"({"candidate": {"passport_number": "C12345)", {{"id", programme}});
  const auto syntax = Problem([&] { CreateNomination(malformed, *context_); });
  EXPECT_EQ(syntax.status(), 400);
  EXPECT_EQ(syntax.detail().find("C12345"), std::string::npos) << syntax.detail();
}

TEST_F(InvitationsStoreTest, OverdueFollowUpsAreAnnouncedOnce) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const auto id = NominateId(programme, "A", "VN");
  for (const char* to : {"screened", "selected", "invited", "visa_applied", "visa_granted",
                         "travel_booked", "arrived", "completed"}) {
    Move(id, to);
  }
  auto scan = [&](const std::string& today) {
    return store_->Write([&](store::Db& tx) { return ScanOverdueFollowUps(tx, today); });
  };
  EXPECT_EQ(scan("2026-09-20"), 0);  // due on 2026-09-20: not yet missed
  EXPECT_EQ(scan("2026-09-21"), 1);
  EXPECT_EQ(scan("2026-09-22"), 0);  // once only
  EXPECT_EQ(scan("2027-07-01"), 2);
  const auto listed = ListFollowUps(Make({}, {{"id", id}}), *context_);
  const auto items = nlohmann::json::parse(listed.body)["items"];
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["due_date"], "2026-09-20");
  EXPECT_EQ(items[2]["due_date"], "2027-06-20");
  EXPECT_EQ(items[0]["status"], "overdue");
}

TEST_F(InvitationsStoreTest, FiscalYearReportCountsInsideItsIndex) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const auto other_year = Programme(2025, 5, nlohmann::json::object());
  auto nominate = [&](const std::string& in, const std::string& family,
                      const std::string& nationality, const char* gender) {
    nlohmann::json candidate = {{"family_name", family},      {"given_name", "X"},
                                {"nationality", nationality}, {"email", family + "@example.org"},
                                {"union", "Union"},           {"position", "Officer"}};
    if (gender != nullptr) candidate["gender"] = gender;
    const nlohmann::json body = {
        {"candidate", candidate},
        {"nominating_organisation", {{"name", "Centre"}, {"country", nationality}}}};
    const auto response = CreateNomination(Make(body.dump(), {{"id", in}}), *context_);
    EXPECT_EQ(response.status, 201) << response.body;
    return nlohmann::json::parse(response.body)["id"].get<std::string>();
  };
  const auto a = nominate(programme, "A", "VN", "female");
  nominate(programme, "B", "VN", "female");
  nominate(programme, "C", "VN", nullptr);
  nominate(programme, "D", "TH", "male");
  nominate(other_year, "E", "VN", "female");
  Move(a, "screened");
  Move(a, "selected");

  const auto report = store_->Read([&](store::Db& db) {
    // The plan counts in the index of schema version 8, not by reading every document.
    auto plan = db.Prepare(
        "EXPLAIN QUERY PLAN SELECT programme_id, nationality, gender, status, count(*)"
        " FROM nominations WHERE fiscal_year = ? GROUP BY programme_id, nationality, gender,"
        " status");
    plan.Bind(1, std::int64_t{2026});
    std::string steps;
    while (plan.Step()) steps += plan.Text(3) + "\n";
    EXPECT_NE(steps.find("USING INDEX nominations_report"), std::string::npos) << steps;
    return BuildFiscalYearReport(2026, FiscalYearRows(db, 2026));
  });
  EXPECT_EQ(report["nominated"], 4);
  EXPECT_EQ(report["selected"], 1);
  EXPECT_EQ(report["by_country"]["VN"]["nominated"], 3);
  EXPECT_EQ(report["by_gender"]["female"]["nominated"], 2);
  EXPECT_EQ(report["by_gender"]["female"]["selected"], 1);
  EXPECT_EQ(report["by_gender"]["unspecified"]["nominated"], 1);
  EXPECT_EQ(report["by_region"]["Asia"]["nominated"], 4);
  EXPECT_EQ(report["by_programme"].size(), 1U);
}

// The plan of a list filtered by year, nationality and status, as DocTable::List writes it:
// one range of nominations_list (schema version 12) in seq order, no sort of the year's rows.
std::string FilteredListPlan(store::Db& db) {
  auto plan = db.Prepare(
      "EXPLAIN QUERY PLAN SELECT seq, doc FROM nominations WHERE seq > ? AND status = ?"
      " AND nationality = ? AND fiscal_year = ? ORDER BY seq LIMIT ?");
  std::string steps;
  while (plan.Step()) steps += plan.Text(3) + "\n";
  return steps;
}

TEST_F(InvitationsStoreTest, FilteredListReadsOneIndexRangeInOrder) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  std::vector<std::string> vietnamese;
  for (int i = 0; i < 4; ++i) {
    vietnamese.push_back(NominateId(programme, "V" + std::to_string(i), "VN"));
    NominateId(programme, "T" + std::to_string(i), "TH");
  }
  Move(vietnamese[1], "screened");
  const auto steps = store_->Read([](store::Db& db) { return FilteredListPlan(db); });
  EXPECT_NE(steps.find("USING INDEX nominations_list (fiscal_year=? AND nationality=? AND"
                       " status=? AND rowid>?)"),
            std::string::npos)
      << steps;
  EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;
  // Two pages of one: the submitted Vietnamese nominations in the order they were made.
  std::vector<std::string> listed;
  std::string token;
  do {
    std::unordered_map<std::string, std::string> query = {{"nationality", "VN"},
                                                          {"status", "submitted"},
                                                          {"fiscal_year", "2026"},
                                                          {"page_size", "2"}};
    if (!token.empty()) query["page_token"] = token;
    auto request = Make("", {});
    request.method = http::Method::kGet;
    request.query = query;
    const auto response = SearchNominations(request, *context_);
    ASSERT_EQ(response.status, 200) << response.body;
    const auto body = nlohmann::json::parse(response.body);
    for (const auto& item : body["items"]) listed.push_back(item["id"]);
    token = body.value("next_page_token", "");
  } while (!token.empty());
  EXPECT_EQ(listed, (std::vector<std::string>{vietnamese[0], vietnamese[2], vietnamese[3]}));
}

TEST_F(InvitationsStoreTest, NominationsStoredBeforeTheNameKeyAreMatchedOnceItIsFilled) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  auto nominate = [&](const std::string& family, const std::string& email) {
    return NominateLan(programme, family, email);
  };
  const auto first = nominate("Tran", "tran@example.org");
  EXPECT_FALSE(first.contains("possible_duplicates"));
  // As if `first` had been stored before schema version 9: its name key is not there yet.
  store_->Write([&](store::Db& tx) {
    auto forget = tx.Prepare("UPDATE nominations SET name_key = NULL WHERE id = ?");
    forget.Bind(1, first["id"].get<std::string>());
    forget.Run();
  });
  EXPECT_FALSE(nominate("Tran", "other@example.org").contains("possible_duplicates"));

  EXPECT_EQ(FillMissingNameKeys(*store_,
                                [&](const nlohmann::json& candidate) {
                                  return MatchKeysOf(cipher_, candidate, std::nullopt).name_key;
                                }),
            1);
  const auto third = nominate("TRÂN", "third@example.org");  // folded like names are
  ASSERT_EQ(third["possible_duplicates"].size(), 2U) << third.dump();
  EXPECT_EQ(third["possible_duplicates"][0]["nomination_id"], first["id"]);
  EXPECT_EQ(third["possible_duplicates"][0]["matched_on"],
            nlohmann::json::array({"name_nationality_union"}));
  const auto by_email = nominate("Le", "TRAN@Example.ORG");
  ASSERT_EQ(by_email["possible_duplicates"].size(), 1U) << by_email.dump();
  EXPECT_EQ(by_email["possible_duplicates"][0]["matched_on"], nlohmann::json::array({"email"}));
}

TEST_F(InvitationsStoreTest, PossibleDuplicatesAreTheOldestMatchesOfEveryIdentifierBounded) {
  const auto programme = Programme(2026, 50, nlohmann::json::object());
  auto nominate = [&](const std::string& family, const std::string& email) {
    return NominateLan(programme, family, email);
  };
  // One match by e-mail, older than all of a dozen matches by name: the answer is the oldest
  // kMaxPossibleDuplicates of them all, in the order they were stored, each identifier's
  // matches taken from its own index.
  std::vector<nlohmann::json> expected{nominate("Le", "shared@example.org")["id"]};
  for (int i = 0; i < 12; ++i) {
    expected.push_back(nominate("Tran", "tran" + std::to_string(i) + "@example.org")["id"]);
  }
  const auto last = nominate("Tran", "shared@example.org");
  const auto& found = last["possible_duplicates"];
  ASSERT_EQ(found.size(), static_cast<std::size_t>(kMaxPossibleDuplicates)) << last.dump();
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i]["nomination_id"], expected[i]) << i;
  }
  EXPECT_EQ(found[0]["matched_on"], nlohmann::json::array({"email"}));
  EXPECT_EQ(found[1]["matched_on"], nlohmann::json::array({"name_nationality_union"}));
}

// The document keeps only the other nominations' ids and what matched; their programme, year
// and status are read when the nomination is rendered, alone or on a page.
TEST_F(InvitationsStoreTest, PossibleDuplicatesAreStoredAsIdsAndRenderedFromTheOthersNow) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const auto first = NominateLan(programme, "Tran", "tran@example.org");
  const auto second = NominateLan(programme, "Tran", "TRAN@example.org");
  const std::string id = second["id"];
  ASSERT_EQ(second["possible_duplicates"].size(), 1U) << second.dump();
  EXPECT_EQ(second["possible_duplicates"][0]["status"], "submitted");
  EXPECT_FALSE(second.contains("duplicates"));
  const auto stored = store_->Read([&](store::Db& db) { return Nominations().Get(db, id); });
  EXPECT_FALSE(stored.contains("possible_duplicates")) << stored.dump();
  EXPECT_EQ(stored["duplicates"], nlohmann::json::parse("[[" + first["id"].dump() + ", 3]]"));

  Move(first["id"], "screened");
  const auto got = nlohmann::json::parse(GetNomination(Make("", {{"id", id}}), *context_).body);
  EXPECT_FALSE(got.contains("duplicates")) << got.dump();
  const nlohmann::json expected = nlohmann::json::array(
      {{{"nomination_id", first["id"]},
        {"programme_id", programme},
        {"fiscal_year", 2026},
        {"status", "screened"},
        {"matched_on", nlohmann::json::array({"email", "name_nationality_union"})}}});
  EXPECT_EQ(got["possible_duplicates"], expected) << got.dump();

  auto search = Make("", {});
  search.method = http::Method::kGet;
  search.query = {{"q", "Tran"}};
  const auto page = nlohmann::json::parse(SearchNominations(search, *context_).body);
  ASSERT_EQ(page["items"].size(), 2U) << page.dump();
  for (const auto& item : page["items"]) {
    EXPECT_FALSE(item.contains("duplicates")) << item.dump();
    if (item["id"] == id) {
      EXPECT_EQ(item["possible_duplicates"], expected) << item.dump();
    } else {
      EXPECT_EQ(item["id"], first["id"]);
      EXPECT_FALSE(item.contains("possible_duplicates")) << item.dump();
    }
  }
}

TEST_F(InvitationsStoreTest, DuplicateLookupReadsOnlyTheIdentifierIndexes) {
  // Each identifier's branch is answered from its index alone (the entry's rowid is the seq):
  // reading the table row of every match for `id <> ?` made the check's cost grow with the store.
  const auto plan = store_->Read([](store::Db& db) {
    auto explain =
        db.Prepare("EXPLAIN QUERY PLAN " + SharedIdentifierSql(store::Engine::kSqlite, 1, 1));
    std::vector<std::string> steps;
    while (explain.Step()) steps.push_back(explain.Text(3));
    return steps;
  });
  // Not the e-mail branch: SQLite 3.40 does not use an index on a generated column (email_key)
  // as covering, so that branch still reads the row of each match.
  int branches = 0;
  for (const auto& step : plan) {
    for (const char* index : {"nominations_name_key", "nominations_passport"}) {
      if (step.find(index) == std::string::npos) continue;
      ++branches;
      EXPECT_NE(step.find("COVERING INDEX"), std::string::npos) << step;
    }
  }
  EXPECT_EQ(branches, 2);
}

TEST_F(InvitationsStoreTest, PossibleDuplicatesOfAStoredNominationLeaveItOut) {
  // A correction checks a nomination that is already stored: it is not its own duplicate.
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const std::string first = NominateLan(programme, "Tran", "tran@example.org")["id"];
  const std::string second = NominateLan(programme, "Tran", "tran@example.org")["id"];
  const auto found = store_->Read([&](store::Db& db) {
    auto keys = db.Prepare("SELECT email_key, name_key FROM nominations WHERE id = ?");
    keys.Bind(1, second);
    EXPECT_TRUE(keys.Step());
    return NominationsSharingAnIdentifier(db, keys.Text(0), {}, {keys.Text(1)}, second);
  });
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].nomination_id, first);
  EXPECT_EQ(found[0].matched_on, (std::vector<std::string>{"email", "name_nationality_union"}));
}

TEST_F(InvitationsStoreTest, FiscalYearIsTheOneStartDateFallsIn) {
  nlohmann::json body = {{"title", {{"ja", "招へい"}, {"en", "Winter"}}},
                         {"track", "developing"},
                         {"start_date", "2027-02-10"},
                         {"end_date", "2027-02-28"},
                         {"seats", 5}};
  // Left out: derived (February 2027 belongs to fiscal year 2026, April to March).
  const auto created = CreateProgramme(Make(body.dump(), {}), *context_);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto programme = nlohmann::json::parse(created.body);
  EXPECT_EQ(programme["fiscal_year"], 2026);
  // Sent and wrong: refused, naming the field and the year it must be.
  body["fiscal_year"] = 2025;
  auto error = Problem([&] { CreateProgramme(Make(body.dump(), {}), *context_); });
  EXPECT_EQ(error.status(), 422);
  const auto errors = error.extensions()["errors"];
  ASSERT_EQ(errors.size(), 1u) << errors.dump();
  EXPECT_EQ(errors[0]["field"], "/fiscal_year");
  EXPECT_NE(errors[0]["message"].get<std::string>().find("must be 2026"), std::string::npos);
  body["fiscal_year"] = 2026;
  EXPECT_EQ(CreateProgramme(Make(body.dump(), {}), *context_).status, 201);
  // A new start date may not move the programme into another fiscal year.
  auto patch =
      Make(R"({"start_date": "2027-04-02", "end_date": "2027-04-20"})", {{"id", programme["id"]}},
           auth::Role::kStaff, "\"v" + std::to_string(programme["version"].get<int>()) + "\"");
  patch.method = http::Method::kPatch;
  error = Problem([&] { UpdateProgramme(patch, *context_); });
  EXPECT_EQ(error.status(), 422);
  EXPECT_EQ(error.extensions()["errors"][0]["field"], "/start_date") << error.extensions().dump();
}

TEST_F(InvitationsStoreTest, LetterDateAndFollowUpScanUseTheTokyoDate) {
  // 2026-03-31T15:30Z: still 31 March in UTC, already 1 April in Tokyo.
  const util::ScopedBusinessClock clock(1774971000000);
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const auto id = NominateId(programme, "A", "VN");
  Move(id, "screened");
  Move(id, "selected");
  const auto letter = GetDocument(Make({}, {{"id", id}, {"kind", "invitation-letter"}}), *context_);
  ASSERT_EQ(letter.status, 200);
  EXPECT_NE(letter.body.find("2026-04-01"), std::string::npos) << letter.body;
  EXPECT_EQ(letter.body.find("2026-03-31"), std::string::npos);
  const auto scan = RunFollowUpScan(Make("{}", {}, auth::Role::kAdmin), *context_);
  EXPECT_EQ(nlohmann::json::parse(scan.body)["as_of"], "2026-04-01");
}

TEST_F(InvitationsStoreTest, LettersComeInEnglishAndJapaneseWithTheMaskedPassport) {
  const auto programme = Programme(2026, 5, nlohmann::json::object());
  const auto created = Nominate(programme, "Nguyen", "<Lan>", "VN", "1990-02-03", "C7654321");
  const std::string id = nlohmann::json::parse(created.body)["id"];
  EXPECT_EQ(created.body.find("C7654321"), std::string::npos);
  Move(id, "screened");
  Move(id, "selected");
  auto request = Make({}, {{"id", id}, {"kind", "invitation-letter"}});
  request.query["lang"] = "ja";
  const auto ja = GetDocument(request, *context_);
  EXPECT_EQ(ja.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(ja.body.find("招へい状"), std::string::npos);
  EXPECT_NE(ja.body.find("*****321"), std::string::npos);
  EXPECT_NE(ja.body.find("&lt;Lan&gt;"), std::string::npos);
  EXPECT_EQ(ja.body.find("C7654321"), std::string::npos);
  auto admin = Make({}, {{"id", id}, {"kind", "guarantor-letter"}}, auth::Role::kAdmin);
  const auto en = GetDocument(admin, *context_);
  EXPECT_NE(en.body.find("Letter of Guarantee"), std::string::npos);
  EXPECT_NE(en.body.find("C7654321"), std::string::npos);
  EXPECT_NE(en.body.find("1990-02-03"), std::string::npos);
}

TEST_F(InvitationsStoreTest, XXIsNoCountryInABodyOrAQueryFilter) {
  const auto programme = Programme(2026, 10, nlohmann::json::object());
  const auto body = Problem([&] { Nominate(programme, "A", "B", "XX"); });
  EXPECT_EQ(body.status(), 422);
  EXPECT_NE(body.extensions().dump().find("/candidate/nationality"), std::string::npos);
  auto list = Make({}, {{"id", programme}});
  list.method = http::Method::kGet;
  list.query["nationality"] = "XX";
  const auto query = Problem([&] { ListNominations(list, *context_); });
  EXPECT_EQ(query.status(), 400);
  EXPECT_NE(query.detail().find("nationality"), std::string::npos) << query.detail();
  list.query["nationality"] = "VN";
  EXPECT_EQ(ListNominations(list, *context_).status, 200);
}

TEST_F(InvitationsStoreTest, TransitionReasonAcceptsTheDeprecatedAliases) {
  const auto programme = Programme(2026, 10, nlohmann::json::object());
  const auto id = NominateId(programme, "A", "VN");
  auto request = Make(R"({"to": "screened", "note": "looks good"})", {{"id", id}},
                      auth::Role::kStaff, "\"v1\"");
  const auto moved = nlohmann::json::parse(TransitionNominationHandler(request, *context_).body);
  EXPECT_EQ(moved["status"], "screened");
  EXPECT_EQ(moved["status_reason"], "looks good");
  auto both = Make(R"({"to": "selected", "reason": "a", "comment": "b"})", {{"id", id}},
                   auth::Role::kStaff, "\"v2\"");
  EXPECT_EQ(Problem([&] { TransitionNominationHandler(both, *context_); }).status(), 422);
}

// Version 3 rewrites the tables of version 2 into document tables: logistics keyed by id, and
// every nomination document naming its fiscal year.
// A store file at schema `version` of the invitations, holding programme p1 of 2025 and what
// `fill` writes: the starting point of a migration test.
void StoreAtVersion(const std::string& path, std::size_t version,
                    const std::function<void(store::Db&)>& fill) {
  auto up_to = Migrations();
  up_to.migrations.resize(version);
  store::Store old(store::StoreOptions{path}, {up_to});
  old.Write([&](store::Db& tx) {
    tx.Exec(
        "INSERT INTO programmes(id, fiscal_year, track, status, version, doc, created_at,"
        " updated_at) VALUES ('p1', 2025, 'developing', 'open', 1, '{\"id\":\"p1\"}', 't', 't');");
    fill(tx);
  });
  old.Stop();
}

TEST(InvitationsMigration, OldRowsReadBackThroughTheDocumentTables) {
  const auto dir = testing::MakeTempDir("jilaf-invitations-migration");
  StoreAtVersion(dir + "/inv.db", 2, [](store::Db& tx) {
    tx.Exec(
        "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
        " created_at, updated_at, fiscal_year) VALUES ('n1', 'p1', 'VN', 'selected', 3,"
        " '{\"id\":\"n1\",\"version\":3}', 't', 't', 2025);"
        "INSERT INTO logistics(nomination_id, version, doc) VALUES ('n1', 2,"
        " '{\"nomination_id\":\"n1\",\"version\":2,\"updated_at\":\"2026-01-02T00:00:00Z\","
        "\"hotel\":null}');");
  });
  store::Store store(store::StoreOptions{dir + "/inv.db"}, {Migrations()});
  const auto logistics = store.Read([](store::Db& db) { return Logistics().Find(db, "n1"); });
  ASSERT_TRUE(logistics.has_value());
  EXPECT_EQ((*logistics)["version"], 2);
  EXPECT_EQ((*logistics)["nomination_id"], "n1");
  EXPECT_EQ((*logistics)["updated_at"], "2026-01-02T00:00:00Z");
  const auto nomination = store.Read([](store::Db& db) { return Nominations().Get(db, "n1"); });
  EXPECT_EQ(nomination["fiscal_year"], 2025);
  // The next version goes through the versioned update.
  auto next = *logistics;
  store.Write([&](store::Db& tx) { Logistics().Update(tx, next); });
  EXPECT_EQ(next["version"], 3);
  store.Stop();
  std::filesystem::remove_all(dir);
}

// Version 12 adds the index of the filtered list to a store that already holds nominations:
// the list of a year, nationality and status then reads it, in the order the rows were written.
TEST(InvitationsMigration, Version12IndexesTheNominationsAlreadyStored) {
  const auto dir = testing::MakeTempDir("jilaf-invitations-migration-12");
  StoreAtVersion(dir + "/inv.db", 11, [](store::Db& tx) {
    for (const auto& [id, nationality, status] :
         {std::tuple{"n1", "VN", "submitted"}, std::tuple{"n2", "TH", "submitted"},
          std::tuple{"n3", "VN", "screened"}, std::tuple{"n4", "VN", "submitted"}}) {
      auto insert = tx.Prepare(
          "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
          " created_at, updated_at, fiscal_year) VALUES (?, 'p1', ?, ?, 1, json_object('id', ?),"
          " 't', 't', 2025)");
      insert.Bind(1, id).Bind(2, nationality).Bind(3, status).Bind(4, id);
      insert.Run();
    }
  });
  store::Store store(store::StoreOptions{dir + "/inv.db"}, {Migrations()});
  store.Read([](store::Db& db) {
    const auto steps = FilteredListPlan(db);
    EXPECT_NE(steps.find("USING INDEX nominations_list"), std::string::npos) << steps;
    http::PageRequest page;
    page.page_size = 10;
    const auto body = Nominations().List(db, page,
                                         {{"status", std::string("submitted")},
                                          {"nationality", std::string("VN")},
                                          {"fiscal_year", std::int64_t{2025}}});
    ASSERT_EQ(body["items"].size(), 2U) << body.dump();
    EXPECT_EQ(body["items"][0]["id"], "n1");
    EXPECT_EQ(body["items"][1]["id"], "n4");
  });
  store.Stop();
  std::filesystem::remove_all(dir);
}

// Version 13 rewrites the possible duplicates a document copied into ids and matched bits,
// which read back as before.
TEST(InvitationsMigration, Version13KeepsOnlyTheIdsOfPossibleDuplicates) {
  const auto dir = testing::MakeTempDir("jilaf-invitations-migration-13");
  StoreAtVersion(dir + "/inv.db", 12, [](store::Db& tx) {
    tx.Exec(
        "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
        " created_at, updated_at, fiscal_year) VALUES"
        " ('n1', 'p1', 'VN', 'selected', 1, '{\"id\":\"n1\"}', 't', 't', 2025),"
        " ('n2', 'p1', 'VN', 'submitted', 1, '{\"id\":\"n2\"}', 't', 't', 2025),"
        " ('n3', 'p1', 'VN', 'submitted', 1, '{\"id\":\"n3\",\"possible_duplicates\":["
        "{\"nomination_id\":\"n1\",\"programme_id\":\"p1\",\"fiscal_year\":2025,"
        "\"status\":\"submitted\",\"matched_on\":[\"email\",\"passport\"]},"
        "{\"nomination_id\":\"n2\",\"programme_id\":\"p1\",\"fiscal_year\":2025,"
        "\"status\":\"submitted\",\"matched_on\":[\"name_nationality_union\"]}]}',"
        " 't', 't', 2025);");
  });
  store::Store store(store::StoreOptions{dir + "/inv.db"}, {Migrations()});
  store.Read([](store::Db& db) {
    auto n3 = Nominations().Get(db, "n3");
    EXPECT_FALSE(n3.contains("possible_duplicates")) << n3.dump();
    EXPECT_EQ(n3["duplicates"], nlohmann::json::parse(R"([["n1", 5], ["n2", 2]])"));
    EXPECT_FALSE(Nominations().Get(db, "n2").contains("duplicates"));
    auto items = nlohmann::json::array({n3});
    ExpandPossibleDuplicates(db, items);
    const auto& found = items[0]["possible_duplicates"];
    ASSERT_EQ(found.size(), 2U) << items.dump();
    EXPECT_EQ(found[0]["status"], "selected");  // the other nomination's status now
    EXPECT_EQ(found[0]["matched_on"], nlohmann::json::parse(R"(["email", "passport"])"));
    EXPECT_EQ(found[1]["nomination_id"], "n2");
    EXPECT_EQ(found[1]["fiscal_year"], 2025);
  });
  store.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jilaf::invitations
