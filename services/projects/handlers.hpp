#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

// The handlers of the projects service: plain functions from a request to a response (or a
// thrown http::ApiError). routes.cpp binds them to paths and access levels.
namespace jilaf::projects {

using Handler = http::Response (*)(const http::Request&, store::Store&);

// partners.cpp
http::Response CreatePartner(const http::Request& request, store::Store& store);
http::Response ListPartners(const http::Request& request, store::Store& store);
http::Response GetPartner(const http::Request& request, store::Store& store);
http::Response UpdatePartner(const http::Request& request, store::Store& store);
http::Response DeletePartner(const http::Request& request, store::Store& store);

// projects.cpp
http::Response CreateProject(const http::Request& request, store::Store& store);
http::Response ListProjects(const http::Request& request, store::Store& store);
http::Response GetProject(const http::Request& request, store::Store& store);
http::Response UpdateProject(const http::Request& request, store::Store& store);
http::Response DeleteProject(const http::Request& request, store::Store& store);
http::Response TransitionProject(const http::Request& request, store::Store& store);
http::Response CreateReview(const http::Request& request, store::Store& store);
http::Response ListReviews(const http::Request& request, store::Store& store);
http::Response CreateAmendment(const http::Request& request, store::Store& store);
http::Response ListAmendments(const http::Request& request, store::Store& store);

// tranches.cpp
http::Response CreateTranche(const http::Request& request, store::Store& store);
http::Response ListTranches(const http::Request& request, store::Store& store);
http::Response GetTranche(const http::Request& request, store::Store& store);
http::Response UpdateTranche(const http::Request& request, store::Store& store);
http::Response TransitionTranche(const http::Request& request, store::Store& store);

// reports.cpp
http::Response CreateReport(const http::Request& request, store::Store& store);
http::Response ListReports(const http::Request& request, store::Store& store);
http::Response GetReport(const http::Request& request, store::Store& store);
http::Response UpdateReport(const http::Request& request, store::Store& store);
http::Response TransitionReport(const http::Request& request, store::Store& store);
/// The overdue scan: emits `jilaf.projects.report.overdue` once per missed due date, as of
/// `today` ("YYYY-MM-DD"), and returns how many it emitted. The scheduler passes the UTC date.
int ScanOverdueReports(store::Store& store, const std::string& today);

// dispatches.cpp
http::Response CreateDispatch(const http::Request& request, store::Store& store);
http::Response ListDispatches(const http::Request& request, store::Store& store);
http::Response ListProjectDispatches(const http::Request& request, store::Store& store);
http::Response GetDispatch(const http::Request& request, store::Store& store);
http::Response UpdateDispatch(const http::Request& request, store::Store& store);
http::Response TransitionDispatch(const http::Request& request, store::Store& store);

// indicators.cpp
http::Response CreateIndicator(const http::Request& request, store::Store& store);
http::Response ListIndicators(const http::Request& request, store::Store& store);
http::Response GetIndicator(const http::Request& request, store::Store& store);
http::Response RecordActual(const http::Request& request, store::Store& store);

// fiscal_report.cpp
http::Response FiscalYearReport(const http::Request& request, store::Store& store);

// Snapshots (snapshots.cpp): POST /v1/admin/snapshots.
http::Response PublishSnapshots(const http::Request& request, store::Store& store);
/// The facts every project event carries (and its snapshot).
nlohmann::json ProjectData(const nlohmann::json& doc);
/// The facts every tranche event carries (and its snapshot).
nlohmann::json TrancheData(const nlohmann::json& tranche, const nlohmann::json& project);

}  // namespace jilaf::projects
