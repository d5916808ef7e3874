#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/domain/state_machine.hpp"

// The domain rules of the projects service as plain functions over plain values, so unit tests
// call them directly. Each throws http::ApiError (409 or 422) naming what blocks the change.
namespace jilaf::projects::rules {

/// proposed → under_review → approved | rejected; approved → active → completed → closed;
/// active ⇄ suspended. under_review → proposed sends a proposal back for rework.
const domain::StateMachine& ProjectStates();
/// planned → requested → approved → paid; planned, requested, approved → cancelled.
const domain::StateMachine& TrancheStates();
/// due → submitted → approved | returned; returned → submitted.
const domain::StateMachine& ReportStates();
/// planned → in_progress → completed; planned, in_progress → cancelled.
const domain::StateMachine& DispatchStates();

/// The Japanese fiscal year (April to March) a date "YYYY-MM-DD" falls in: 2026-03-31 → 2025.
[[nodiscard]] int FiscalYearOf(const std::string& date);
/// First and last day of a fiscal year: {"2026-04-01", "2027-03-31"}.
[[nodiscard]] std::pair<std::string, std::string> FiscalYearBounds(int fiscal_year);

/// True once a project has been approved: from then on its budget and period change only
/// through amendments.
[[nodiscard]] bool IsApprovedOrLater(const std::string& project_status);

/// Rejects a direct change of budget or period on an approved project (409 pointing to
/// amendments). `fields` are the members a PATCH touches.
void CheckDirectChange(const std::string& project_status, const std::vector<std::string>& fields);

/// An amendment is possible only on an approved project that is not closed.
void CheckAmendable(const std::string& project_status);

/// One review decision on record.
struct Review {
  std::string decision;  // approve, reject, request_changes
};
/// approved needs an `approve` review on record, rejected a `reject` one.
void CheckReviewsAllow(const std::vector<Review>& reviews, const std::string& to);

/// One tranche as far as money is concerned.
struct TrancheMoney {
  std::string id;
  std::string status;
  std::int64_t amount_jpy = 0;
};
/// The JPY sum of approved and paid tranches, leaving out `except_id`.
[[nodiscard]] std::int64_t CommittedJpy(const std::vector<TrancheMoney>& tranches,
                                        const std::string& except_id = {});
/// The ceiling: committing `amount_jpy` more must keep approved + paid within the budget.
/// 409 `budget-exceeded` with `budget_jpy`, `committed_jpy`, `remaining_jpy`, `requested_jpy`.
void CheckBudgetCeiling(std::int64_t budget_jpy, std::int64_t committed_jpy,
                        std::int64_t amount_jpy);
/// An amended budget may not fall below what is already committed (409 with both figures).
void CheckBudgetCoversCommitted(std::int64_t new_budget_jpy, std::int64_t committed_jpy);

/// One reporting obligation.
struct ReportDue {
  std::string id;
  std::string kind;  // progress, financial, final
  std::string due_date;
  std::string status;
  std::optional<std::string> overdue_notified_for;  // the due date already announced overdue
};
/// The report-before-tranche hold: a tranche planned for `tranche_date` cannot be approved while
/// a progress report due before that date is not approved. The earliest such report of
/// `reports`, or none when nothing holds the tranche.
[[nodiscard]] std::optional<ReportDue> HoldingReport(const std::vector<ReportDue>& reports,
                                                     const std::string& tranche_date);
/// The hold as a refusal: 409 `report-outstanding` naming HoldingReport's report (`report_id`,
/// `report_due_date`, `report_status`).
void CheckReportHold(const std::vector<ReportDue>& reports, const std::string& tranche_date);

/// False once a project is completed, closed or rejected: the overdue scan no longer announces
/// its reports (the foundation chases reports only while the work runs).
[[nodiscard]] bool OwesReportNotices(const std::string& project_status);
/// The reports that missed their due date as of `today` (still due, or returned and not yet
/// resubmitted) and were not yet announced for that due date: each date is announced once.
[[nodiscard]] std::vector<ReportDue> NewlyOverdue(const std::vector<ReportDue>& reports,
                                                  const std::string& today);

/// One expert dispatch's period (inclusive dates).
struct DispatchPeriod {
  std::string id;
  std::string expert_id;
  std::string from_date;
  std::string to_date;
  std::string status;
};
/// The same person cannot be on two overlapping dispatches (cancelled ones do not count).
/// 409 `dispatch-overlap` naming the other dispatch.
void CheckNoOverlap(const std::vector<DispatchPeriod>& existing, const DispatchPeriod& candidate);

/// Dispatches need a project whose support type includes expert dispatch.
void CheckDispatchAllowed(const std::string& support_type);

/// Separation of duties (--separation-of-duties, on by default): the person who did the earlier
/// step of a decision may not do the next one. Each check passes when `enforced` is false or when
/// the earlier step has no one on record (""). A refusal is 403 `separation-of-duties` naming the
/// `rule` and the `earlier_actor`.
inline constexpr const char* kAuthorCannotApprove = "author-cannot-approve";
inline constexpr const char* kApproverCannotPay = "approver-cannot-pay";
/// The author of a project proposal cannot record an `approve` review of it (other decisions
/// stay open to the author).
void CheckReviewerIsNotAuthor(bool enforced, const std::string& author, const std::string& reviewer,
                              const std::string& decision);
/// The person who approved a tranche cannot mark it paid.
void CheckPayerIsNotApprover(bool enforced, const std::string& approver, const std::string& payer);

/// Tranches need a project whose support type includes financing.
void CheckFinancingAllowed(const std::string& support_type);
/// Tranches are planned and approved only on an approved or active project.
void CheckProjectCanDisburse(const std::string& project_status);

}  // namespace jilaf::projects::rules
