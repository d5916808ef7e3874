#include "services/projects/rules.hpp"

#include <algorithm>

#include "common/http/problem.hpp"
#include "common/util/calendar.hpp"

namespace jilaf::projects::rules {

const domain::StateMachine& ProjectStates() {
  static const domain::StateMachine machine("project",
                                            {{"proposed", {"under_review"}},
                                             {"under_review", {"approved", "rejected", "proposed"}},
                                             {"approved", {"active"}},
                                             {"active", {"completed", "suspended"}},
                                             {"suspended", {"active"}},
                                             {"completed", {"closed"}}});
  return machine;
}

const domain::StateMachine& TrancheStates() {
  static const domain::StateMachine machine("tranche", {{"planned", {"requested", "cancelled"}},
                                                        {"requested", {"approved", "cancelled"}},
                                                        {"approved", {"paid", "cancelled"}}});
  return machine;
}

const domain::StateMachine& ReportStates() {
  static const domain::StateMachine machine("report", {{"due", {"submitted"}},
                                                       {"submitted", {"approved", "returned"}},
                                                       {"returned", {"submitted"}}});
  return machine;
}

const domain::StateMachine& DispatchStates() {
  static const domain::StateMachine machine(
      "dispatch",
      {{"planned", {"in_progress", "cancelled"}}, {"in_progress", {"completed", "cancelled"}}});
  return machine;
}

int FiscalYearOf(const std::string& date) { return util::FiscalYearOf(date); }

std::pair<std::string, std::string> FiscalYearBounds(int fiscal_year) {
  return util::FiscalYearBounds(fiscal_year);
}

bool IsApprovedOrLater(const std::string& project_status) {
  return project_status == "approved" || project_status == "active" ||
         project_status == "suspended" || project_status == "completed" ||
         project_status == "closed";
}

void CheckDirectChange(const std::string& project_status, const std::vector<std::string>& fields) {
  if (!IsApprovedOrLater(project_status)) return;
  for (const auto& field : fields) {
    if (field == "budget" || field == "start_date" || field == "end_date") {
      throw http::ApiError(409, "amendment-required", "Amendment required",
                           "the project is " + project_status + "; its " + field +
                               " changes only through POST /v1/projects/{id}/amendments")
          .With("field", "/" + field)
          .With("status", project_status);
    }
  }
  if (project_status == "closed") {
    throw http::ApiError::Conflict("the project is closed; it can no longer be changed")
        .With("status", project_status);
  }
}

void CheckAmendable(const std::string& project_status) {
  if (!IsApprovedOrLater(project_status) || project_status == "closed") {
    throw http::ApiError(409, "not-amendable", "Project cannot be amended",
                         "amendments apply to approved projects that are not closed; this one is " +
                             project_status +
                             (IsApprovedOrLater(project_status) ? "" : " (change it directly)"))
        .With("status", project_status);
  }
}

void CheckReviewsAllow(const std::vector<Review>& reviews, const std::string& to) {
  const std::string needed = to == "approved" ? "approve" : to == "rejected" ? "reject" : "";
  if (needed.empty()) return;
  const bool found = std::any_of(reviews.begin(), reviews.end(),
                                 [&](const Review& review) { return review.decision == needed; });
  if (!found) {
    throw http::ApiError(409, "review-missing", "Review missing",
                         "a project becomes " + to + " only after a reviewer recorded an '" +
                             needed + "' decision (POST /v1/projects/{id}/reviews)")
        .With("needed_decision", needed);
  }
}

std::int64_t CommittedJpy(const std::vector<TrancheMoney>& tranches, const std::string& except_id) {
  std::int64_t sum = 0;
  for (const auto& tranche : tranches) {
    if (tranche.id == except_id) continue;
    if (tranche.status == "approved" || tranche.status == "paid") sum += tranche.amount_jpy;
  }
  return sum;
}

void CheckBudgetCeiling(std::int64_t budget_jpy, std::int64_t committed_jpy,
                        std::int64_t amount_jpy) {
  const std::int64_t remaining = budget_jpy - committed_jpy;
  if (amount_jpy <= remaining) return;
  throw http::ApiError(409, "budget-exceeded", "Budget exceeded",
                       "this tranche is JPY " + std::to_string(amount_jpy) + " but only JPY " +
                           std::to_string(std::max<std::int64_t>(remaining, 0)) +
                           " of the approved budget remains")
      .With("budget_jpy", budget_jpy)
      .With("committed_jpy", committed_jpy)
      .With("remaining_jpy", std::max<std::int64_t>(remaining, 0))
      .With("requested_jpy", amount_jpy);
}

void CheckBudgetCoversCommitted(std::int64_t new_budget_jpy, std::int64_t committed_jpy) {
  if (new_budget_jpy >= committed_jpy) return;
  throw http::ApiError(409, "budget-below-committed", "Budget below committed",
                       "approved and paid tranches already total JPY " +
                           std::to_string(committed_jpy) + "; the budget cannot go below that")
      .With("committed_jpy", committed_jpy)
      .With("budget_jpy", new_budget_jpy);
}

std::optional<ReportDue> HoldingReport(const std::vector<ReportDue>& reports,
                                       const std::string& tranche_date) {
  const ReportDue* blocking = nullptr;
  for (const auto& report : reports) {
    if (report.kind != "progress" || report.status == "approved") continue;
    if (report.due_date >= tranche_date) continue;
    if (blocking == nullptr || report.due_date < blocking->due_date) blocking = &report;
  }
  if (blocking == nullptr) return std::nullopt;
  return *blocking;
}

void CheckReportHold(const std::vector<ReportDue>& reports, const std::string& tranche_date) {
  const auto blocking = HoldingReport(reports, tranche_date);
  if (!blocking) return;
  throw http::ApiError(409, "report-outstanding", "Report outstanding",
                       "progress report " + blocking->id + " due " + blocking->due_date + " is " +
                           (blocking->status == "due" ? std::string("still missing")
                                                      : blocking->status + ", not approved") +
                           "; the tranche cannot be approved before it is")
      .With("report_id", blocking->id)
      .With("report_due_date", blocking->due_date)
      .With("report_status", blocking->status);
}

bool OwesReportNotices(const std::string& project_status) {
  return project_status != "completed" && project_status != "closed" &&
         project_status != "rejected";
}

std::vector<ReportDue> NewlyOverdue(const std::vector<ReportDue>& reports,
                                    const std::string& today) {
  std::vector<ReportDue> out;
  for (const auto& report : reports) {
    if (report.status != "due" && report.status != "returned") continue;
    if (report.due_date >= today) continue;
    if (report.overdue_notified_for == report.due_date) continue;
    out.push_back(report);
  }
  return out;
}

void CheckNoOverlap(const std::vector<DispatchPeriod>& existing, const DispatchPeriod& candidate) {
  for (const auto& other : existing) {
    if (other.id == candidate.id || other.expert_id != candidate.expert_id ||
        other.status == "cancelled") {
      continue;
    }
    if (other.from_date <= candidate.to_date && candidate.from_date <= other.to_date) {
      throw http::ApiError(409, "dispatch-overlap", "Overlapping dispatch",
                           "expert " + candidate.expert_id + " is already dispatched from " +
                               other.from_date + " to " + other.to_date + " (dispatch " + other.id +
                               ")")
          .With("dispatch_id", other.id)
          .With("from_date", other.from_date)
          .With("to_date", other.to_date);
    }
  }
}

void CheckDispatchAllowed(const std::string& support_type) {
  if (support_type == "expert_dispatch" || support_type == "both") return;
  throw http::ApiError(409, "no-expert-support", "Project does not dispatch experts",
                       "the project's support type is " + support_type +
                           "; experts are dispatched only to expert_dispatch or both projects")
      .With("support_type", support_type);
}

void CheckFinancingAllowed(const std::string& support_type) {
  if (support_type == "financing" || support_type == "both") return;
  throw http::ApiError(409, "no-financing", "Project is not financed",
                       "the project's support type is " + support_type +
                           "; tranches belong to financing or both projects")
      .With("support_type", support_type);
}

void CheckProjectCanDisburse(const std::string& project_status) {
  if (project_status == "approved" || project_status == "active") return;
  throw http::ApiError(409, "project-not-disbursing", "Project not disbursing",
                       "tranches are planned and approved only while the project is approved or "
                       "active; it is " +
                           project_status)
      .With("status", project_status);
}

namespace {

void CheckSeparate(bool enforced, const char* rule, const std::string& earlier,
                   const std::string& actor, const std::string& what) {
  if (!enforced || earlier.empty() || earlier != actor) return;
  throw http::ApiError(403, "separation-of-duties", "Separation of duties",
                       what + " (rule " + rule + "); another staff member must do it")
      .With("rule", rule)
      .With("earlier_actor", earlier);
}

}  // namespace

void CheckReviewerIsNotAuthor(bool enforced, const std::string& author, const std::string& reviewer,
                              const std::string& decision) {
  if (decision != "approve") return;
  CheckSeparate(enforced, kAuthorCannotApprove, author, reviewer,
                "the author of a project proposal cannot approve it");
}

void CheckPayerIsNotApprover(bool enforced, const std::string& approver, const std::string& payer) {
  CheckSeparate(enforced, kApproverCannotPay, approver, payer,
                "the person who approved a tranche cannot mark it paid");
}

}  // namespace jilaf::projects::rules
