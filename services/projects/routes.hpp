#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/store/store.hpp"
#include "services/projects/tables.hpp"

// The handlers of the projects service: plain functions from a request to a response (or a
// thrown http::ApiError). Routes binds them to paths and access levels.
namespace jilaf::projects {

/// What the command line decides about the handlers.
struct Settings {
  /// --separation-of-duties on|off: the author of a proposal cannot approve it, the approver of
  /// a tranche cannot pay it (rules::CheckReviewerIsNotAuthor, rules::CheckPayerIsNotApprover).
  bool separation_of_duties = true;
};

/// Every API route of the projects service.
http::Router Routes(store::Store& store, const Settings& settings = {});

using Handler = http::Response (*)(const http::Request&, store::Store&);

/// GET /v1/<records>/{id}: the stored document of `table`.
template <aggregate::DocTable ProjectTables::*table>
http::Response GetRecord(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Tables().*table, request.Param("id"));
}

/// GET /v1/projects/{id}/<records>: a page of the project's rows of `table`; 404 when there is
/// no such project.
template <aggregate::DocTable ProjectTables::*table>
http::Response ListOfProject(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  return aggregate::ListUnder(store, request, t.projects, request.Param("id"), t.*table,
                              "project_id");
}

// partners.cpp; a viewer reads partners with their contact person masked (aggregate::ForReader).
http::Response CreatePartner(const http::Request& request, store::Store& store);
http::Response ListPartners(const http::Request& request, store::Store& store);
http::Response GetPartner(const http::Request& request, store::Store& store);
http::Response UpdatePartner(const http::Request& request, store::Store& store);
http::Response DeletePartner(const http::Request& request, store::Store& store);

// projects.cpp
http::Response CreateProject(const http::Request& request, store::Store& store);
http::Response ListProjects(const http::Request& request, store::Store& store);
http::Response UpdateProject(const http::Request& request, store::Store& store);
http::Response DeleteProject(const http::Request& request, store::Store& store);
http::Response TransitionProject(const http::Request& request, store::Store& store);
/// Refuses an `approve` review by the project's author unless `settings` turn that off.
http::Response CreateReview(const http::Request& request, store::Store& store,
                            const Settings& settings);
/// CreateReview with the default settings (separation of duties on).
http::Response CreateReview(const http::Request& request, store::Store& store);
http::Response CreateAmendment(const http::Request& request, store::Store& store);
/// POST /v1/admin/snapshots: every project and tranche, keyed like their change events.
http::Response PublishSnapshots(const http::Request& request, store::Store& store);
/// The facts every project event carries (and its snapshot).
nlohmann::json ProjectData(store::Db& db, const nlohmann::json& project);

// tranches.cpp
http::Response CreateTranche(const http::Request& request, store::Store& store);
http::Response UpdateTranche(const http::Request& request, store::Store& store);
/// Refuses `to: paid` by the tranche's approver unless `settings` turn that off.
http::Response TransitionTranche(const http::Request& request, store::Store& store,
                                 const Settings& settings);
/// TransitionTranche with the default settings (separation of duties on).
http::Response TransitionTranche(const http::Request& request, store::Store& store);
/// The facts every tranche event carries (and its snapshot), with its project's.
nlohmann::json TrancheData(store::Db& db, const nlohmann::json& tranche);

// reports.cpp
http::Response CreateReport(const http::Request& request, store::Store& store);
http::Response UpdateReport(const http::Request& request, store::Store& store);
http::Response TransitionReport(const http::Request& request, store::Store& store);
/// The overdue scan: emits `jilaf.projects.report.overdue` once per missed due date, as of
/// `today` ("YYYY-MM-DD"), and returns how many it emitted.
int ScanOverdueReports(store::Store& store, const std::string& today);
/// ScanOverdueReports as of today in the business time zone (what the scheduler runs).
int ScanOverdueReportsToday(store::Store& store);

// dispatches.cpp
http::Response CreateDispatch(const http::Request& request, store::Store& store);
http::Response ListDispatches(const http::Request& request, store::Store& store);
http::Response UpdateDispatch(const http::Request& request, store::Store& store);
http::Response TransitionDispatch(const http::Request& request, store::Store& store);

// indicators.cpp
http::Response CreateIndicator(const http::Request& request, store::Store& store);
http::Response RecordActual(const http::Request& request, store::Store& store);

// fiscal_report.cpp
http::Response FiscalYearReport(const http::Request& request, store::Store& store);

}  // namespace jilaf::projects
