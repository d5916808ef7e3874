// Webhook endpoints: POST /v1/webhooks (the secret is shown once), GET /v1/webhooks.
#include <nlohmann/json.hpp>

#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "services/notifications/admin.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

struct NewWebhook {
  json doc;
  std::string secret;
};

NewWebhook ReadWebhook(const json& body) {
  http::ObjectReader in(body);
  const std::string url = in.RequiredString("url", 8, 2000);
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    in.AddError("url", "expected an http:// or https:// URL");
  }
  const auto description = in.OptionalString("description", 500);
  auto secret = in.OptionalString("secret", 200);
  if (secret && secret->size() < 16) in.AddError("secret", "must be at least 16 characters");
  in.Finish();
  json doc = {{"url", url}};
  if (description) doc["description"] = *description;
  return {std::move(doc), secret.value_or("whsec_" + util::RandomHex(24))};
}

}  // namespace

http::Response CreateWebhook(const http::Request& request, store::Store& store) {
  auto hook = ReadWebhook(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      json doc = hook.doc;
      const std::string id = util::NewTimeOrderedUuid();
      doc["id"] = id;
      doc["created_at"] = util::NowRfc3339();
      Webhooks().Insert(tx, doc);
      SaveWebhookSecret(tx, id, hook.secret);
      Events().Publish(tx, {"webhook", "registered", id, "webhooks/" + id, {{"webhook_id", id}}},
                       request.Header("traceparent"));
      doc["secret"] = hook.secret;  // shown once, at registration
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", Webhooks().Location(doc));
      return response;
    });
  });
}

http::Response ListWebhooks(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Webhooks(), {});
}

}  // namespace jilaf::notifications
