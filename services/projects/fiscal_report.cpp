#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "common/http/problem.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/store.hpp"

namespace jilaf::projects {
namespace {

void Add(nlohmann::json& group, const std::string& key, std::int64_t projects,
         std::int64_t committed, std::int64_t disbursed) {
  auto& row = group[key];
  if (row.is_null()) row = {{"projects", 0}, {"committed_jpy", 0}, {"disbursed_jpy", 0}};
  row["projects"] = row["projects"].get<std::int64_t>() + projects;
  row["committed_jpy"] = row["committed_jpy"].get<std::int64_t>() + committed;
  row["disbursed_jpy"] = row["disbursed_jpy"].get<std::int64_t>() + disbursed;
}

void AddEverywhere(nlohmann::json& report, const nlohmann::json& project, std::int64_t projects,
                   std::int64_t committed, std::int64_t disbursed) {
  Add(report["by_area"], project["area"], projects, committed, disbursed);
  Add(report["by_country"], project["country"], projects, committed, disbursed);
  Add(report["by_support_type"], project["support_type"], projects, committed, disbursed);
  auto& totals = report["totals"];
  totals["projects"] = totals["projects"].get<std::int64_t>() + projects;
  totals["committed_jpy"] = totals["committed_jpy"].get<std::int64_t>() + committed;
  totals["disbursed_jpy"] = totals["disbursed_jpy"].get<std::int64_t>() + disbursed;
}

}  // namespace

http::Response FiscalYearReport(const http::Request& request, store::Store& store) {
  const std::string& text = request.Param("fy");
  int fy = 0;
  if (text.size() != 4 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (fy = std::stoi(text)) < 1989 || fy > 2100) {
    throw http::ApiError::BadRequest("path parameter fy must be a fiscal year from 1989 to 2100");
  }
  const auto [first, last] = rules::FiscalYearBounds(fy);
  nlohmann::json report = {
      {"fiscal_year", fy},
      {"from", first},
      {"to", last},
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
  store.Read([&](store::Db& db) {
    auto projects = db.Prepare(
        "SELECT doc FROM projects WHERE fiscal_year = ? AND status IN"
        " ('approved', 'active', 'suspended', 'completed', 'closed') ORDER BY seq");
    projects.Bind(1, fy);
    while (projects.Step()) {
      const auto project = nlohmann::json::parse(projects.Text(0));
      AddEverywhere(report, project, 1, project["budget"]["amount_jpy"], 0);
    }
    auto paid = db.Prepare(
        "SELECT t.doc, p.doc FROM tranches t JOIN projects p ON p.id = t.project_id"
        " WHERE t.status = 'paid' AND json_extract(t.doc, '$.value_date') BETWEEN ? AND ?"
        " ORDER BY t.seq");
    paid.Bind(1, first).Bind(2, last);
    while (paid.Step()) {
      const auto tranche = nlohmann::json::parse(paid.Text(0));
      AddEverywhere(report, nlohmann::json::parse(paid.Text(1)), 0, 0, tranche["amount_jpy"]);
    }
    return 0;
  });
  return http::Response::Json(200, report);
}

}  // namespace jilaf::projects
