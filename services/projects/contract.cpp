// Where each request body's schema goes in openapi.json: the readers describe themselves
// (http::DescribeBody); scripts/contracts/request_schemas.py writes them into the document and
// fails the check when it differs (docs/architecture.md).
#include "services/projects/readers.hpp"

#include "services/projects/input.hpp"
#include "services/projects/rules.hpp"

namespace jilaf::projects {

std::string PatchBody(const std::string& path) {
  std::string escaped;
  for (char c : path) escaped += c == '/' ? std::string("~1") : std::string(1, c);
  return "/paths/" + escaped + "/patch/requestBody/content/application~1json/schema";
}

std::vector<http::BodyContract> RequestBodies() {
  std::vector<http::BodyContract> out;
  AddPartnerBodies(out);
  AddProjectBodies(out);
  AddTrancheBodies(out);
  AddReportBodies(out);
  AddDispatchBodies(out);
  AddIndicatorBodies(out);
  const auto moves = [&out](const std::string& input, const domain::StateMachine& machine) {
    out.push_back({"/components/schemas/" + input,
                   [&machine](const nlohmann::json& body) { (void)ReadMove(body, machine); }});
  };
  moves("ProjectTransitionInput", rules::ProjectStates());
  moves("DispatchTransitionInput", rules::DispatchStates());
  return out;
}

std::vector<http::Operation> Parameters() {
  using http::Method;
  std::vector<http::Operation> out = {
      ProjectListParameters(),
      {Method::kGet,
       "/v1/partners",
       {http::SearchQuery(), http::PageSize(), http::PageToken(), http::CountryFilter("country"),
        http::Format()}},
      {Method::kGet,
       "/v1/dispatches",
       {http::PageSize(), http::PageToken(), http::QueryText("expert_id"), http::Format()}},
      {Method::kPut,
       "/v1/indicators/{id}/actuals/{period}",
       {http::PathPattern("period", "^[0-9]{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")}},
      {Method::kGet, "/v1/reports/fiscal-years/{fy}", {http::PathInteger("fy", 1989, 2100)}},
  };
  for (const char* list :
       {"reviews", "amendments", "tranches", "reports", "dispatches", "indicators"}) {
    out.push_back({Method::kGet, std::string("/v1/projects/{id}/") + list, http::ListParameters()});
  }
  return out;
}

}  // namespace jilaf::projects
