#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/store/store.hpp"
#include "services/projects/fiscal_report.hpp"

// The purpose-written SQL of the projects service (reports, scans, cascades), each behind a
// name. Everything else reads and writes through the DocTables of tables.hpp.
namespace jilaf::projects::queries {

/// Reports still due or returned whose due date is before `today` ("YYYY-MM-DD").
std::vector<nlohmann::json> ReportsPastDue(store::Db& db, const std::string& today);
/// Notes that the overdue event for `due_date` was sent. Bookkeeping, not a client-visible
/// change: the version (ETag) stays.
void MarkOverdueNotified(store::Db& tx, const std::string& report_id, const std::string& due_date);
/// Notes the tranches announced as held by the report (`tranche_ids`, a JSON array of every one
/// so far). Bookkeeping like MarkOverdueNotified: the version stays.
void MarkHeldTranchesAnnounced(store::Db& tx, const std::string& report_id,
                               const nlohmann::json& tranche_ids);

/// Deletes every row that belongs to the project (reviews, amendments, tranches, reports,
/// dispatches, indicators).
void DeleteProjectChildren(store::Db& tx, const std::string& project_id);

/// Feeds the year's counted projects and paid tranches into `report`.
void AddFiscalYearFigures(store::Db& db, int fiscal_year, FiscalYearReportBuilder& report);

}  // namespace jilaf::projects::queries
