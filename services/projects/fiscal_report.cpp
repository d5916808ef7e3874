#include "services/projects/fiscal_report.hpp"

#include <algorithm>
#include <tuple>

#include "common/http/problem.hpp"
#include "services/projects/queries.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"

namespace jilaf::projects {
namespace {

void AddTo(nlohmann::json& row, std::int64_t projects, std::int64_t committed,
           std::int64_t disbursed) {
  if (row.is_null()) row = {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}};
  row["projects"] = row["projects"].get<std::int64_t>() + projects;
  row["committed_jpy"] = row["committed_jpy"].get<std::int64_t>() + committed;
  row["disbursed_jpy"] = row["disbursed_jpy"].get<std::int64_t>() + disbursed;
}

int ParseFiscalYear(const std::string& text) {
  int fy = 0;
  if (text.size() != 4 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (fy = std::stoi(text)) < 1989 || fy > 2100) {
    throw http::ApiError::BadRequest("path parameter fy must be a fiscal year from 1989 to 2100");
  }
  return fy;
}

}  // namespace

bool CountedInFiscalReport(std::string_view status) {
  return rules::IsApprovedOrLater(std::string(status));
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

void FiscalYearReportBuilder::Add(const nlohmann::json& project, std::int64_t projects,
                                  std::int64_t committed, std::int64_t disbursed) {
  for (const std::string by : {"area", "country", "support_type"}) {
    AddTo(report_["by_" + by][project[by].get<std::string>()], projects, committed, disbursed);
  }
  AddTo(report_["totals"], projects, committed, disbursed);
}

http::Response FiscalYearReport(const http::Request& request, store::Store& store) {
  const int fy = ParseFiscalYear(request.Param("fy"));
  FiscalYearReportBuilder report(fy);
  store.Read([&](store::Db& db) {
    queries::AddFiscalYearFigures(db, fy, report);
    return 0;
  });
  return http::Response::Json(200, report.Take());
}

}  // namespace jilaf::projects
