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

}  // namespace jilaf::projects
