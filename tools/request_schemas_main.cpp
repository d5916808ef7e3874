// Prints what the services' C++ declarations say of their requests, as
// {"<service>": {"bodies": {"<JSON pointer in its openapi.json>": {"schema", "merge_patch"}},
//                "parameters": {"<METHOD> <path>": [<OpenAPI parameter object>, ...]}}};
// read by scripts/contracts/request_schemas.py, which writes them into the documents (--write)
// or fails when a document differs (--check, the ContractsRequestSchemasAreTheReaders test).
#include <nlohmann/json.hpp>

#include <iostream>

#include "common/audit/audit.hpp"
#include "common/http/json_input.hpp"
#include "common/http/parameters.hpp"
#include "services/invitations/readers.hpp"
#include "services/missions/contract.hpp"
#include "services/notifications/contract.hpp"
#include "services/projects/readers.hpp"

namespace {

nlohmann::json Describe(const std::vector<jilaf::http::BodyContract>& contracts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& contract : contracts) {
    out[contract.pointer] = {{"schema", jilaf::http::DescribeContract(contract)},
                             {"merge_patch", contract.merge_patch}};
  }
  return out;
}

// Every service also serves the audit routes (audit::Instrument).
nlohmann::json Describe(std::vector<jilaf::http::Operation> operations) {
  for (auto& operation : jilaf::audit::Parameters()) operations.push_back(std::move(operation));
  nlohmann::json out = nlohmann::json::object();
  for (const auto& operation : operations) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& parameter : jilaf::http::Complete(operation.path, operation.parameters)) {
      list.push_back(jilaf::http::DescribeParameter(parameter));
    }
    out[std::string(jilaf::http::MethodName(operation.method)) + " " + operation.path] = list;
  }
  return out;
}

nlohmann::json Service(const std::vector<jilaf::http::BodyContract>& bodies,
                       std::vector<jilaf::http::Operation> parameters) {
  return {{"bodies", Describe(bodies)}, {"parameters", Describe(std::move(parameters))}};
}

}  // namespace

int main() {
  namespace j = jilaf;
  const nlohmann::json all = {
      {"invitations", Service(j::invitations::RequestBodies(), j::invitations::Parameters())},
      {"projects", Service(j::projects::RequestBodies(), j::projects::Parameters())},
      {"missions", Service(j::missions::RequestBodies(), j::missions::Parameters())},
      {"notifications",
       Service(j::notifications::RequestBodies(), j::notifications::Parameters())}};
  std::cout << all.dump(1) << '\n';
  return 0;
}
