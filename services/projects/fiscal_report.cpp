#include "services/projects/fiscal_report.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "common/http/problem.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/store.hpp"

namespace jilaf::projects {
namespace {

void AddTo(nlohmann::json& row, std::int64_t projects, std::int64_t committed,
           std::int64_t disbursed) {
  if (row.is_null()) row = {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}};
  row["projects"] = row["projects"].get<std::int64_t>() + projects;
  row["committed_jpy"] = row["committed_jpy"].get<std::int64_t>() + committed;
  row["disbursed_jpy"] = row["disbursed_jpy"].get<std::int64_t>() + disbursed;
}

}  // namespace

bool CountedInFiscalReport(std::string_view status) {
  return status == "approved" || status == "active" || status == "suspended" ||
         status == "completed" || status == "closed";
}

FiscalYearReportBuilder::FiscalYearReportBuilder(int fiscal_year) {
  std::tie(from_, to_) = rules::FiscalYearBounds(fiscal_year);
  report_ = {{"fiscal_year", fiscal_year},
             {"from", from_},
             {"to", to_},
             {"definitions",
              {{"projects", "approved (or later) projects whose period starts in the fiscal year"},
               {"committed_jpy", "approved budgets (JPY) of those projects, as amended"},
               {"disbursed_jpy",
                "paid tranches (JPY at their fixed rate) with a value date in the "
                "fiscal year, whatever year their project started"}}},
             {"totals", {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}}},
             {"by_area", nlohmann::json::object()},
             {"by_country", nlohmann::json::object()},
             {"by_support_type", nlohmann::json::object()}};
}

void FiscalYearReportBuilder::AddProject(const nlohmann::json& project,
                                         std::int64_t committed_jpy) {
  Add(project, 1, committed_jpy, 0);
}

void FiscalYearReportBuilder::AddPaidTranche(const nlohmann::json& project,
                                             std::int64_t amount_jpy) {
  Add(project, 0, 0, amount_jpy);
}

void FiscalYearReportBuilder::Add(const nlohmann::json& project, std::int64_t projects,
                                  std::int64_t committed, std::int64_t disbursed) {
  AddTo(report_["by_area"][project["area"].get<std::string>()], projects, committed, disbursed);
  AddTo(report_["by_country"][project["country"].get<std::string>()], projects, committed,
        disbursed);
  AddTo(report_["by_support_type"][project["support_type"].get<std::string>()], projects, committed,
        disbursed);
  AddTo(report_["totals"], projects, committed, disbursed);
}

http::Response FiscalYearReport(const http::Request& request, store::Store& store) {
  const std::string& text = request.Param("fy");
  int fy = 0;
  if (text.size() != 4 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (fy = std::stoi(text)) < 1989 || fy > 2100) {
    throw http::ApiError::BadRequest("path parameter fy must be a fiscal year from 1989 to 2100");
  }
  FiscalYearReportBuilder report(fy);
  store.Read([&](store::Db& db) {
    auto projects =
        db.Prepare("SELECT status, doc FROM projects WHERE fiscal_year = ? ORDER BY seq");
    projects.Bind(1, fy);
    while (projects.Step()) {
      if (!CountedInFiscalReport(projects.Text(0))) continue;
      const auto project = nlohmann::json::parse(projects.Text(1));
      report.AddProject(project, project["budget"]["amount_jpy"]);
    }
    auto paid = db.Prepare(
        "SELECT t.doc, p.doc FROM tranches t JOIN projects p ON p.id = t.project_id"
        " WHERE t.status = 'paid' AND json_extract(t.doc, '$.value_date') BETWEEN ? AND ?"
        " ORDER BY t.seq");
    paid.Bind(1, report.from()).Bind(2, report.to());
    while (paid.Step()) {
      const auto tranche = nlohmann::json::parse(paid.Text(0));
      report.AddPaidTranche(nlohmann::json::parse(paid.Text(1)), tranche["amount_jpy"]);
    }
    return 0;
  });
  return http::Response::Json(200, report.Take());
}

}  // namespace jilaf::projects
