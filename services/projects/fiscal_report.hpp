#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace jilaf::projects {

/// Whether a project in this status counts in the fiscal-year report (approved or later).
[[nodiscard]] bool CountedInFiscalReport(std::string_view status);

/// The figures of `GET /v1/reports/fiscal-years/{fy}`, built from facts whichever store they
/// come from: the service feeds it from its tables, the analytics tool from the events. Each
/// figure is kept in total and by area, country and support type.
class FiscalYearReportBuilder {
 public:
  explicit FiscalYearReportBuilder(int fiscal_year);

  /// First and last day of the fiscal year (April to March), as YYYY-MM-DD.
  [[nodiscard]] const std::string& from() const { return from_; }
  [[nodiscard]] const std::string& to() const { return to_; }

  /// A counted project whose period starts in the year, with its approved budget.
  void AddProject(const nlohmann::json& project, std::int64_t committed_jpy) {
    Add(project, 1, committed_jpy, 0);
  }
  /// A paid tranche whose value date falls in the year, under its project.
  void AddPaidTranche(const nlohmann::json& project, std::int64_t amount_jpy) {
    Add(project, 0, 0, amount_jpy);
  }

  [[nodiscard]] nlohmann::json Take() { return std::move(report_); }

 private:
  void Add(const nlohmann::json& project, std::int64_t projects, std::int64_t committed,
           std::int64_t disbursed);

  std::string from_;
  std::string to_;
  nlohmann::json report_;
};

}  // namespace jilaf::projects
