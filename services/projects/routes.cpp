#include "services/projects/routes.hpp"

#include "services/projects/readers.hpp"

namespace jilaf::projects {

http::Router Routes(store::Store& store, const Settings& settings) {
  using auth::Access;
  using http::Method;
  using T = ProjectTables;
  http::Router router;
  auto add = [&](Method method, std::string_view path, Access access, Handler handler) {
    router.Add(method, path, access,
               [&store, handler](http::Request& request) { return handler(request, store); });
    // Every collection answers CSV as well as JSON.
    if (method == Method::kGet && !path.ends_with("}")) router.Tabular();
  };
  add(Method::kPost, "/v1/partners", Access::kWrite, CreatePartner);
  add(Method::kGet, "/v1/partners", Access::kRead, ListPartners);
  add(Method::kGet, "/v1/partners/{id}", Access::kRead, GetPartner);
  add(Method::kPatch, "/v1/partners/{id}", Access::kWrite, UpdatePartner);
  add(Method::kDelete, "/v1/partners/{id}", Access::kAdmin, DeletePartner);

  add(Method::kPost, "/v1/projects", Access::kWrite, CreateProject);
  add(Method::kGet, "/v1/projects", Access::kRead, ListProjects);
  add(Method::kGet, "/v1/projects/{id}", Access::kRead, GetRecord<&T::projects>);
  add(Method::kPatch, "/v1/projects/{id}", Access::kWrite, UpdateProject);
  add(Method::kDelete, "/v1/projects/{id}", Access::kAdmin, DeleteProject);
  add(Method::kPost, "/v1/projects/{id}/transitions", Access::kWrite, TransitionProject);
  router.Add(Method::kPost, "/v1/projects/{id}/reviews", Access::kWrite,
             [&store, settings](http::Request& request) {
               return CreateReview(request, store, settings);
             });
  add(Method::kGet, "/v1/projects/{id}/reviews", Access::kRead, ListOfProject<&T::reviews>);
  add(Method::kPost, "/v1/projects/{id}/amendments", Access::kAdmin, CreateAmendment);
  add(Method::kGet, "/v1/projects/{id}/amendments", Access::kRead, ListOfProject<&T::amendments>);

  add(Method::kPost, "/v1/projects/{id}/tranches", Access::kWrite, CreateTranche);
  add(Method::kGet, "/v1/projects/{id}/tranches", Access::kRead, ListOfProject<&T::tranches>);
  add(Method::kGet, "/v1/tranches/{id}", Access::kRead, GetRecord<&T::tranches>);
  add(Method::kPatch, "/v1/tranches/{id}", Access::kWrite, UpdateTranche);
  router.Add(Method::kPost, "/v1/tranches/{id}/transitions", Access::kWrite,
             [&store, settings](http::Request& request) {
               return TransitionTranche(request, store, settings);
             });

  add(Method::kPost, "/v1/projects/{id}/reports", Access::kWrite, CreateReport);
  add(Method::kGet, "/v1/projects/{id}/reports", Access::kRead, ListOfProject<&T::reports>);
  add(Method::kGet, "/v1/reports/{id}", Access::kRead, GetRecord<&T::reports>);
  add(Method::kPatch, "/v1/reports/{id}", Access::kWrite, UpdateReport);
  add(Method::kPost, "/v1/reports/{id}/transitions", Access::kWrite, TransitionReport);

  add(Method::kPost, "/v1/projects/{id}/dispatches", Access::kWrite, CreateDispatch);
  add(Method::kGet, "/v1/projects/{id}/dispatches", Access::kRead, ListOfProject<&T::dispatches>);
  add(Method::kGet, "/v1/dispatches", Access::kRead, ListDispatches);
  add(Method::kGet, "/v1/dispatches/{id}", Access::kRead, GetRecord<&T::dispatches>);
  add(Method::kPatch, "/v1/dispatches/{id}", Access::kWrite, UpdateDispatch);
  add(Method::kPost, "/v1/dispatches/{id}/transitions", Access::kWrite, TransitionDispatch);

  add(Method::kPost, "/v1/projects/{id}/indicators", Access::kWrite, CreateIndicator);
  add(Method::kGet, "/v1/projects/{id}/indicators", Access::kRead, ListOfProject<&T::indicators>);
  add(Method::kGet, "/v1/indicators/{id}", Access::kRead, GetRecord<&T::indicators>);
  add(Method::kPut, "/v1/indicators/{id}/actuals/{period}", Access::kWrite, RecordActual);

  add(Method::kGet, "/v1/reports/fiscal-years/{fy}", Access::kRead, FiscalYearReport);
  router.Expensive();  // scans every project of the year
  add(Method::kPost, "/v1/admin/snapshots", Access::kAdmin, PublishSnapshots);
  router.Expensive();  // publishes every current entity
  return router.Declare(Parameters());
}

}  // namespace jilaf::projects
