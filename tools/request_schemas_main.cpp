// Prints the request body schemas that the services' readers describe, as
// {"<service>": {"<JSON pointer in its openapi.json>": {"schema", "merge_patch"}}}; read by
// scripts/contracts/request_schemas.py, which writes them into the documents (--write) or fails
// when a document differs (--check, the ContractsRequestSchemasAreTheReaders test).
#include <nlohmann/json.hpp>

#include <iostream>

#include "common/http/json_input.hpp"
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

}  // namespace

int main() {
  const nlohmann::json all = {{"invitations", Describe(jilaf::invitations::RequestBodies())},
                              {"projects", Describe(jilaf::projects::RequestBodies())},
                              {"missions", Describe(jilaf::missions::RequestBodies())},
                              {"notifications", Describe(jilaf::notifications::RequestBodies())}};
  std::cout << all.dump(1) << '\n';
  return 0;
}
