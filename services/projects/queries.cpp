#include "services/projects/queries.hpp"

#include "common/store/dialect.hpp"

namespace jilaf::projects::queries {

std::vector<nlohmann::json> ReportsPastDue(store::Db& db, const std::string& today) {
  auto stmt = db.Prepare("SELECT doc FROM reports WHERE " + store::JsonText(db, "doc", "status") +
                         " IN ('due', 'returned') AND " + store::JsonText(db, "doc", "due_date") +
                         " < ? ORDER BY seq");
  stmt.Bind(1, today);
  std::vector<nlohmann::json> out;
  while (stmt.Step()) out.push_back(nlohmann::json::parse(stmt.Text(0)));
  return out;
}

void MarkOverdueNotified(store::Db& tx, const std::string& report_id, const std::string& due_date) {
  auto stmt = tx.Prepare(
      "UPDATE reports SET doc = " + store::WithJsonString(tx, "doc", "overdue_notified_for") +
      " WHERE id = ?");
  stmt.Bind(1, due_date).Bind(2, report_id);
  stmt.Run();
}

void MarkHeldTranchesAnnounced(store::Db& tx, const std::string& report_id,
                               const nlohmann::json& tranche_ids) {
  auto stmt = tx.Prepare(
      "UPDATE reports SET doc = " + store::WithJsonValue(tx, "doc", "held_tranches_announced") +
      " WHERE id = ?");
  stmt.Bind(1, tranche_ids.dump()).Bind(2, report_id);
  stmt.Run();
}

void DeleteProjectChildren(store::Db& tx, const std::string& project_id) {
  for (const char* table :
       {"reviews", "amendments", "tranches", "reports", "dispatches", "indicators"}) {
    auto stmt = tx.Prepare(std::string("DELETE FROM ") + table + " WHERE project_id = ?");
    stmt.Bind(1, project_id);
    stmt.Run();
  }
}

void AddFiscalYearFigures(store::Db& db, int fiscal_year, FiscalYearReportBuilder& report) {
  auto projects = db.Prepare("SELECT status, doc FROM projects WHERE fiscal_year = ? ORDER BY seq");
  projects.Bind(1, fiscal_year);
  while (projects.Step()) {
    if (!CountedInFiscalReport(projects.Text(0))) continue;
    const auto project = nlohmann::json::parse(projects.Text(1));
    report.AddProject(project, project["budget"]["amount_jpy"]);
  }
  auto paid = db.Prepare(
      "SELECT t.doc, p.doc FROM tranches t JOIN projects p ON p.id = t.project_id"
      " WHERE t.status = 'paid' AND " +
      store::JsonText(db, "t.doc", "value_date") + " BETWEEN ? AND ? ORDER BY t.seq");
  paid.Bind(1, report.from()).Bind(2, report.to());
  while (paid.Step()) {
    const auto tranche = nlohmann::json::parse(paid.Text(0));
    report.AddPaidTranche(nlohmann::json::parse(paid.Text(1)), tranche["amount_jpy"]);
  }
}

}  // namespace jilaf::projects::queries
