// Where each request body's schema goes in openapi.json: the readers describe themselves
// (http::DescribeBody); scripts/contracts/request_schemas.py writes them into the document and
// fails the check when it differs (docs/architecture.md).
#include "services/notifications/contract.hpp"

namespace jilaf::notifications {

std::vector<http::BodyContract> RequestBodies() {
  std::vector<http::BodyContract> out;
  AddRuleBodies(out);
  AddTemplateBodies(out);
  AddSubscriberBodies(out);
  return out;
}

}  // namespace jilaf::notifications
