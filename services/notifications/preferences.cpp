// Recipients' preferences: GET/PUT /v1/preferences/{recipient}.
#include <nlohmann/json.hpp>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "services/notifications/admin.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/signature.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

json ReadPreferences(const http::Request& request) {
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  json doc = {{"recipient", request.Param("recipient")},
              {"opt_out", in.StringArray("opt_out", true, 50, 100)}};
  if (const auto locale = in.OptionalEnum("locale", kLocales)) doc["locale"] = *locale;
  in.Finish();
  return doc;
}

// Saves the next version of `doc` (If-Match when one exists) and announces it.
http::Response SaveVersion(store::Db& tx, const http::Request& request, json doc) {
  std::int64_t version = 1;
  if (const auto current = FindPreferences(tx, doc["recipient"])) {
    http::RequireIfMatch(request, (*current)["version"].get<std::int64_t>());
    version = (*current)["version"].get<std::int64_t>() + 1;
  }
  doc["version"] = version;
  doc["updated_at"] = util::NowRfc3339();
  SavePreferences(tx, doc);
  // The address stays out of the event; analytics gets the categories only.
  const std::string ref = HmacSha256Hex("jilaf.preferences", doc["recipient"]).substr(0, 32);
  Events().Publish(tx,
                   {"preferences",
                    "updated",
                    ref,
                    "preferences/" + ref,
                    {{"recipient_ref", ref}, {"opt_out", doc["opt_out"]}, {"version", version}}},
                   request.Header("traceparent"));
  return aggregate::DocResponse(doc, version == 1 ? 201 : 200);
}

}  // namespace

http::Response GetPreferences(const http::Request& request, store::Store& store) {
  const auto& recipient = request.Param("recipient");
  auto doc = store.Read([&](store::Db& db) { return FindPreferences(db, recipient); });
  if (!doc) throw http::ApiError::NotFound("no preferences recorded for " + recipient);
  return aggregate::DocResponse(*doc);
}

http::Response PutPreferences(const http::Request& request, store::Store& store) {
  json doc = ReadPreferences(request);
  return store.Write([&](store::Db& tx) { return SaveVersion(tx, request, std::move(doc)); });
}

}  // namespace jilaf::notifications
