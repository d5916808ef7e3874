#include <gtest/gtest.h>

#include "tests/support/domain_errors.hpp"

#include <set>

#include "common/http/problem.hpp"
#include "services/projects/money.hpp"
#include "services/projects/rules.hpp"

namespace jilaf::projects {
namespace {

using testing::DomainAsHttp;

// Runs `fn`, expects an ApiError with this status and slug, returns it for closer checks.
template <typename Fn>
http::ApiError Expect(int status, const std::string& slug, Fn fn) {
  try {
    DomainAsHttp(fn);
  } catch (const http::ApiError& error) {
    EXPECT_EQ(error.status(), status) << error.detail();
    EXPECT_EQ(error.slug(), slug) << error.detail();
    return error;
  }
  ADD_FAILURE() << "expected " << status << " " << slug;
  return http::ApiError(0, "", "", "");
}

// A copy, so that a missing member reads as null instead of tripping a const lookup.
nlohmann::json Ext(const http::ApiError& error) { return error.extensions(); }

money::Rate Rate(const std::string& text) {
  auto rate = money::ParseRate(text);
  EXPECT_TRUE(rate.has_value()) << text;
  return rate.value_or(money::Rate{});
}

TEST(Money, KnowsIso4217Exponents) {
  EXPECT_EQ(money::MinorUnitExponent("JPY"), 0);
  EXPECT_EQ(money::MinorUnitExponent("USD"), 2);
  EXPECT_EQ(money::MinorUnitExponent("VND"), 0);
  EXPECT_EQ(money::MinorUnitExponent("KWD"), 3);
  EXPECT_EQ(money::MinorUnitExponent("CLF"), 4);
  EXPECT_FALSE(money::MinorUnitExponent("XAU").has_value());  // no minor unit
  EXPECT_FALSE(money::MinorUnitExponent("ABC").has_value());
  EXPECT_FALSE(money::MinorUnitExponent("usd").has_value());
  EXPECT_FALSE(money::MinorUnitExponent("").has_value());
  const auto codes = money::CurrencyCodes();
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), codes.size());
  EXPECT_GT(codes.size(), 150u);
}

TEST(Money, ParsesRatesExactlyAndRejectsBadOnes) {
  const auto rate = Rate("151.2345");
  EXPECT_EQ(rate.numerator, 1512345);
  EXPECT_EQ(rate.denominator, 10000);
  EXPECT_EQ(rate.text, "151.2345");
  for (const char* bad : {"", "0", "0.000", "-1", "1e3", "1.", ".5", "1,5", "abc", "1234567890123",
                          "1.12345678901", " 1"}) {
    EXPECT_FALSE(money::ParseRate(bad).has_value()) << bad;
  }
}

TEST(Money, ConvertsWithIntegerArithmeticRoundingHalfUp) {
  // 1,234.56 USD at 151.2345 = 186,708.06432 yen → 186,708
  EXPECT_EQ(money::ToJpy(123456, "USD", Rate("151.2345")), 186708);
  // 0.01 USD at 150 = 1.5 yen → 2 (half up)
  EXPECT_EQ(money::ToJpy(1, "USD", Rate("150")), 2);
  EXPECT_EQ(money::ToJpy(1, "USD", Rate("149.99")), 1);  // 1.4999 → 1
  // VND has no minor unit: 1,000,000 VND at 0.0061 = 6,100 yen exactly.
  EXPECT_EQ(money::ToJpy(1000000, "VND", Rate("0.0061")), 6100);
  // KWD has three: 1.000 KWD at 489.123 = 489.123 → 489.
  EXPECT_EQ(money::ToJpy(1000, "KWD", Rate("489.123")), 489);
  // Where binary floating point goes wrong: 0.29 * 100 is 28.999999999999996 in double.
  EXPECT_EQ(money::ToJpy(29, "USD", Rate("100")), 29);
  EXPECT_EQ(money::ToJpy(5000000, "JPY", money::Rate{}), 5000000);
  EXPECT_FALSE(money::ToJpy(100, "JPY", Rate("2")).has_value());
  EXPECT_FALSE(money::ToJpy(-1, "USD", Rate("150")).has_value());
  EXPECT_FALSE(money::ToJpy(1, "XXX", Rate("150")).has_value());
  EXPECT_FALSE(money::ToJpy(money::kMaxAmount, "USD", Rate("999999999999")).has_value());
}

TEST(ProjectStates, EveryTransitionOfTheIssue) {
  const auto& m = rules::ProjectStates();
  const std::vector<std::pair<std::string, std::string>> allowed = {
      {"proposed", "under_review"}, {"under_review", "approved"}, {"under_review", "rejected"},
      {"under_review", "proposed"}, {"approved", "active"},       {"active", "completed"},
      {"completed", "closed"},      {"active", "suspended"},      {"suspended", "active"}};
  for (const auto& [from, to] : allowed) EXPECT_NO_THROW(m.Check(from, to)) << from << to;
  for (const auto& from : m.States()) {
    for (const auto& to : m.States()) {
      const bool listed =
          std::find(allowed.begin(), allowed.end(), std::pair(from, to)) != allowed.end();
      EXPECT_EQ(m.Allows(from, to), listed) << from << " -> " << to;
    }
  }
  Expect(409, "invalid-transition", [&] { m.Check("proposed", "approved"); });
  Expect(409, "invalid-transition", [&] { m.Check("closed", "active"); });
  Expect(422, "validation", [&] { m.Check("proposed", "funded"); });
}

TEST(TrancheStates, PlannedRequestedApprovedPaidOrCancelled) {
  const auto& m = rules::TrancheStates();
  EXPECT_TRUE(m.Allows("planned", "requested"));
  EXPECT_TRUE(m.Allows("requested", "approved"));
  EXPECT_TRUE(m.Allows("approved", "paid"));
  for (const char* from : {"planned", "requested", "approved"}) {
    EXPECT_TRUE(m.Allows(from, "cancelled")) << from;
  }
  EXPECT_FALSE(m.Allows("planned", "approved"));
  EXPECT_FALSE(m.Allows("paid", "cancelled"));
  EXPECT_TRUE(m.Next("paid").empty());
  EXPECT_TRUE(m.Next("cancelled").empty());
}

TEST(ReportAndDispatchStates, Transitions) {
  const auto& r = rules::ReportStates();
  EXPECT_TRUE(r.Allows("due", "submitted"));
  EXPECT_TRUE(r.Allows("submitted", "approved"));
  EXPECT_TRUE(r.Allows("submitted", "returned"));
  EXPECT_TRUE(r.Allows("returned", "submitted"));
  EXPECT_FALSE(r.Allows("due", "approved"));
  EXPECT_TRUE(r.Next("approved").empty());
  const auto& d = rules::DispatchStates();
  EXPECT_TRUE(d.Allows("planned", "in_progress"));
  EXPECT_TRUE(d.Allows("in_progress", "completed"));
  EXPECT_TRUE(d.Allows("planned", "cancelled"));
  EXPECT_FALSE(d.Allows("completed", "cancelled"));
}

TEST(FiscalYear, AprilToMarch) {
  EXPECT_EQ(rules::FiscalYearOf("2026-04-01"), 2026);
  EXPECT_EQ(rules::FiscalYearOf("2027-03-31"), 2026);
  EXPECT_EQ(rules::FiscalYearOf("2026-03-31"), 2025);
  EXPECT_EQ(rules::FiscalYearBounds(2026),
            std::make_pair(std::string("2026-04-01"), std::string("2027-03-31")));
}

TEST(BudgetCeiling, ApprovedAndPaidNeverExceedTheBudget) {
  const std::vector<rules::TrancheMoney> tranches = {{"a", "paid", 3'000'000},
                                                     {"b", "approved", 1'500'000},
                                                     {"c", "planned", 9'000'000},
                                                     {"d", "cancelled", 9'000'000},
                                                     {"e", "requested", 400'000}};
  EXPECT_EQ(rules::CommittedJpy(tranches), 4'500'000);
  EXPECT_EQ(rules::CommittedJpy(tranches, "b"), 3'000'000);
  EXPECT_NO_THROW(rules::CheckBudgetCeiling(5'000'000, 4'500'000, 500'000));  // exactly full
  const auto error = Expect(409, "budget-exceeded",
                            [] { rules::CheckBudgetCeiling(5'000'000, 4'500'000, 500'001); });
  EXPECT_EQ(Ext(error)["remaining_jpy"], 500'000);
  EXPECT_EQ(Ext(error)["requested_jpy"], 500'001);
  EXPECT_EQ(Ext(error)["committed_jpy"], 4'500'000);
}

TEST(BudgetCeiling, ForeignCurrencyTrancheIsCheckedInYenAtItsFixedRate) {
  // Budget 10,000,000 yen, 6,500,000 committed: 3,500,000 remain.
  // 23,333.33 USD at 150 = 3,499,999.5 → 3,500,000 (half up): fits exactly.
  const auto fits = money::ToJpy(2333333, "USD", Rate("150"));
  ASSERT_EQ(fits, 3'500'000);
  EXPECT_NO_THROW(rules::CheckBudgetCeiling(10'000'000, 6'500'000, *fits));
  // One cent more is 3,500,001 yen: over.
  const auto over = money::ToJpy(2333334, "USD", Rate("150"));
  ASSERT_EQ(over, 3'500'001);
  const auto error = Expect(409, "budget-exceeded",
                            [&] { rules::CheckBudgetCeiling(10'000'000, 6'500'000, *over); });
  EXPECT_EQ(Ext(error)["remaining_jpy"], 3'500'000);
}

TEST(BudgetCeiling, AmendedBudgetMustCoverCommitted) {
  EXPECT_NO_THROW(rules::CheckBudgetCoversCommitted(4'500'000, 4'500'000));
  const auto error = Expect(409, "budget-below-committed",
                            [] { rules::CheckBudgetCoversCommitted(4'000'000, 4'500'000); });
  EXPECT_EQ(Ext(error)["committed_jpy"], 4'500'000);
}

TEST(ReportHold, ProgressReportDueBeforeTheTrancheMustBeApproved) {
  std::vector<rules::ReportDue> reports = {{"r-late", "progress", "2026-12-31", "due", {}},
                                           {"r-fin", "financial", "2026-05-01", "due", {}},
                                           {"r-1", "progress", "2026-06-30", "submitted", {}},
                                           {"r-0", "progress", "2026-03-31", "approved", {}}};
  // Tranche on 2026-06-30: r-1 is due on, not before, that day.
  EXPECT_NO_THROW(rules::CheckReportHold(reports, "2026-06-30"));
  // Tranche on 2026-07-01: r-1 (submitted, not approved) holds it.
  auto error =
      Expect(409, "report-outstanding", [&] { rules::CheckReportHold(reports, "2026-07-01"); });
  EXPECT_EQ(Ext(error)["report_id"], "r-1");
  EXPECT_EQ(Ext(error)["report_status"], "submitted");
  EXPECT_NE(error.detail().find("r-1"), std::string::npos);
  // Missing (still due) reports hold too; the earliest one is named.
  reports[2].status = "due";
  reports.push_back({"r-2", "progress", "2026-09-30", "returned", {}});
  error = Expect(409, "report-outstanding", [&] { rules::CheckReportHold(reports, "2027-01-01"); });
  EXPECT_EQ(Ext(error)["report_id"], "r-1");
  EXPECT_NE(error.detail().find("still missing"), std::string::npos);
  reports[2].status = "approved";
  error = Expect(409, "report-outstanding", [&] { rules::CheckReportHold(reports, "2026-10-01"); });
  EXPECT_EQ(Ext(error)["report_id"], "r-2");
  // The same rule without the refusal, as the overdue scan asks it of one report.
  EXPECT_EQ(rules::HoldingReport(reports, "2026-10-01")->id, "r-2");
  EXPECT_FALSE(rules::HoldingReport(reports, "2026-09-30").has_value());
  EXPECT_FALSE(rules::HoldingReport({reports[1]}, "2027-01-01").has_value());  // financial
}

TEST(Overdue, OncePerMissedDueDate) {
  std::vector<rules::ReportDue> reports = {{"a", "progress", "2026-05-31", "due", {}},
                                           {"b", "financial", "2026-05-31", "submitted", {}},
                                           {"c", "final", "2026-06-02", "due", {}},
                                           {"d", "progress", "2026-04-30", "returned", {}}};
  auto overdue = rules::NewlyOverdue(reports, "2026-06-01");
  ASSERT_EQ(overdue.size(), 2u);
  EXPECT_EQ(overdue[0].id, "a");
  EXPECT_EQ(overdue[1].id, "d");
  reports[0].overdue_notified_for = "2026-05-31";
  reports[3].overdue_notified_for = "2026-04-30";
  EXPECT_TRUE(rules::NewlyOverdue(reports, "2026-06-01").empty());
  // A new due date is a new miss.
  reports[0].due_date = "2026-06-01";
  EXPECT_TRUE(rules::NewlyOverdue(reports, "2026-06-01").empty());  // due today: not yet missed
  overdue = rules::NewlyOverdue(reports, "2026-06-05");
  ASSERT_EQ(overdue.size(), 2u);
  EXPECT_EQ(overdue[0].id, "a");
  EXPECT_EQ(overdue[1].id, "c");
}

TEST(Dispatches, SamePersonCannotOverlap) {
  const std::vector<rules::DispatchPeriod> existing = {
      {"d1", "expert-1", "2026-06-01", "2026-06-30", "planned"},
      {"d2", "expert-1", "2026-09-01", "2026-09-10", "cancelled"},
      {"d3", "expert-2", "2026-07-01", "2026-07-31", "in_progress"}};
  EXPECT_NO_THROW(
      rules::CheckNoOverlap(existing, {"", "expert-1", "2026-07-01", "2026-07-31", "planned"}));
  EXPECT_NO_THROW(
      rules::CheckNoOverlap(existing, {"", "expert-1", "2026-09-05", "2026-09-06", "planned"}));
  EXPECT_NO_THROW(
      rules::CheckNoOverlap(existing, {"d1", "expert-1", "2026-06-10", "2026-07-10", "planned"}));
  const auto error = Expect(409, "dispatch-overlap", [&] {
    rules::CheckNoOverlap(existing, {"", "expert-1", "2026-06-30", "2026-07-05", "planned"});
  });
  EXPECT_EQ(Ext(error)["dispatch_id"], "d1");
  Expect(409, "dispatch-overlap", [&] {
    rules::CheckNoOverlap(existing, {"", "expert-2", "2026-06-01", "2026-08-01", "planned"});
  });
}

TEST(Amendments, BudgetAndPeriodChangeOnlyThroughAmendmentsAfterApproval) {
  for (const char* status : {"proposed", "under_review", "rejected"}) {
    EXPECT_NO_THROW(rules::CheckDirectChange(status, {"budget", "start_date", "end_date"}));
    Expect(409, "not-amendable", [&] { rules::CheckAmendable(status); });
  }
  for (const char* status : {"approved", "active", "suspended", "completed"}) {
    for (const char* field : {"budget", "start_date", "end_date"}) {
      const auto error =
          Expect(409, "amendment-required", [&] { rules::CheckDirectChange(status, {field}); });
      EXPECT_EQ(Ext(error)["field"], std::string("/") + field);
    }
    EXPECT_NO_THROW(rules::CheckDirectChange(status, {"description", "title"}));
    EXPECT_NO_THROW(rules::CheckAmendable(status));
  }
  Expect(409, "not-amendable", [] { rules::CheckAmendable("closed"); });
  Expect(409, "conflict", [] { rules::CheckDirectChange("closed", {"description"}); });
}

TEST(Reviews, DecisionNeedsAMatchingReview) {
  Expect(409, "review-missing", [] { rules::CheckReviewsAllow({}, "approved"); });
  Expect(409, "review-missing", [] { rules::CheckReviewsAllow({{"reject"}}, "approved"); });
  EXPECT_NO_THROW(rules::CheckReviewsAllow({{"request_changes"}, {"approve"}}, "approved"));
  EXPECT_NO_THROW(rules::CheckReviewsAllow({{"reject"}}, "rejected"));
  EXPECT_NO_THROW(rules::CheckReviewsAllow({}, "proposed"));
}

TEST(SeparationOfDuties, AuthorCannotApproveTheirOwnProposal) {
  const auto refused = Expect(403, "separation-of-duties", [] {
    rules::CheckReviewerIsNotAuthor(true, "staff-a", "staff-a", "approve");
  });
  EXPECT_EQ(Ext(refused)["rule"], "author-cannot-approve");
  EXPECT_EQ(Ext(refused)["earlier_actor"], "staff-a");
  EXPECT_NO_THROW(rules::CheckReviewerIsNotAuthor(true, "staff-a", "staff-b", "approve"));
  // The author may still reject or ask for changes; only approval needs a second person.
  EXPECT_NO_THROW(rules::CheckReviewerIsNotAuthor(true, "staff-a", "staff-a", "reject"));
  EXPECT_NO_THROW(rules::CheckReviewerIsNotAuthor(true, "staff-a", "staff-a", "request_changes"));
  // Off by setting, or no author on record: nothing to separate.
  EXPECT_NO_THROW(rules::CheckReviewerIsNotAuthor(false, "staff-a", "staff-a", "approve"));
  EXPECT_NO_THROW(rules::CheckReviewerIsNotAuthor(true, "", "staff-a", "approve"));
}

TEST(SeparationOfDuties, ApproverCannotPayTheTranche) {
  const auto refused = Expect(403, "separation-of-duties",
                              [] { rules::CheckPayerIsNotApprover(true, "staff-a", "staff-a"); });
  EXPECT_EQ(Ext(refused)["rule"], "approver-cannot-pay");
  EXPECT_EQ(Ext(refused)["earlier_actor"], "staff-a");
  EXPECT_NO_THROW(rules::CheckPayerIsNotApprover(true, "staff-a", "staff-b"));
  EXPECT_NO_THROW(rules::CheckPayerIsNotApprover(false, "staff-a", "staff-a"));
  EXPECT_NO_THROW(rules::CheckPayerIsNotApprover(true, "", "staff-a"));
}

TEST(SupportType, DecidesWhatAProjectCanHave) {
  EXPECT_NO_THROW(rules::CheckDispatchAllowed("both"));
  Expect(409, "no-expert-support", [] { rules::CheckDispatchAllowed("financing"); });
  EXPECT_NO_THROW(rules::CheckFinancingAllowed("financing"));
  Expect(409, "no-financing", [] { rules::CheckFinancingAllowed("expert_dispatch"); });
  Expect(409, "project-not-disbursing", [] { rules::CheckProjectCanDisburse("suspended"); });
}

}  // namespace
}  // namespace jilaf::projects
