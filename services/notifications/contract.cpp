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

std::vector<http::Operation> Parameters() {
  using http::Method;
  return {
      {Method::kGet,
       "/v1/inbox",
       {http::PageSize(), http::PageToken(), http::QueryEnum("unread", {"true", "false"}),
        http::Format()}},
      {Method::kGet, "/v1/rules", http::ListParameters()},
      {Method::kGet, "/v1/templates", http::ListParameters()},
      {Method::kGet, "/v1/webhooks", http::ListParameters()},
      DeliveryListParameters(),
      // An event type or a prefix of one ending in `*` (routing.cpp, ValidPattern).
      {Method::kPut,
       "/v1/templates/{event_type}/{channel}/{locale}",
       {http::PathPattern("event_type", R"(^(\*|[a-z0-9._]{1,200}|[a-z0-9._]{0,198}\.\*)$)"),
        http::PathEnum("channel", {"email", "inbox"}), http::PathEnum("locale", {"en", "ja"})}},
      {Method::kGet, "/v1/feed.atom", {http::QueryEnum("lang", {"en", "ja"}, "en")}},
      {Method::kGet,
       "/v1/periodicals",
       {http::PageSize(200, 20), http::PageToken(), http::Format()}},
      {Method::kGet, "/v1/unsubscribe", {http::RequiredText("token")}},
      {Method::kPost, "/v1/unsubscribe", {http::RequiredText("token")}},
  };
}

}  // namespace jilaf::notifications
