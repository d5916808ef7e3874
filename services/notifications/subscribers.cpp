// Newsletter subscribers: POST /v1/subscribers; GET /v1/unsubscribe (a confirmation page) and
// POST /v1/unsubscribe (the change).
#include "services/notifications/routes.hpp"

#include <nlohmann/json.hpp>

#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/text.hpp"
#include "services/notifications/contract.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

// The subscriber a body describes, without id and times; the consent recorded by `recorded_by`.
json ReadSubscriber(const json& body, const std::string& recorded_by) {
  http::ObjectReader in(body);
  json doc = {{"email", in.RequiredEmail("email")},
              {"locale", in.OptionalEnum("locale", {"ja", "en"}).value_or("en")},
              {"status", "subscribed"},
              {"consent", nullptr}};
  if (auto c = in.Object("consent", true)) {
    const auto given = c->OptionalBool("given");
    c->Describe("given", {{"const", true}}, true);
    if (!given || !*given) c->AddError("given", "must be true: mail goes only to recorded opt-ins");
    doc["consent"] = {{"given", true},
                      {"method", c->RequiredString("method", 1, 200)},
                      {"recorded_by", recorded_by}};
    c->RejectUnknownFields();
  }
  in.Finish();
  return doc;
}

json Subscribe(store::Db& tx, const http::Request& request, json doc) {
  const std::string email = doc["email"];
  if (IsSubscribed(tx, email)) throw http::ApiError::Conflict(email + " is already subscribed");
  const std::string id = util::NewTimeOrderedUuid();
  const std::string now = util::NowRfc3339();
  doc["id"] = id;
  doc["created_at"] = now;
  doc["consent"]["recorded_at"] = now;
  SaveSubscriber(tx, doc, util::RandomHex(24));
  Tables().events.Publish(tx,
                          {"subscriber",
                           "subscribed",
                           id,
                           "subscribers/" + id,
                           {{"subscriber_id", id}, {"locale", doc["locale"]}}},
                          request.Header("traceparent"));
  return doc;
}

// Marks the token's subscriber unsubscribed; false for an unknown token. A second click changes
// nothing.
bool UnsubscribeToken(store::Db& tx, const std::string& token) {
  auto doc = FindSubscriberByToken(tx, token);
  if (!doc) return false;
  if ((*doc)["status"] == "unsubscribed") return true;
  (*doc)["status"] = "unsubscribed";
  (*doc)["unsubscribed_at"] = util::NowRfc3339();
  SaveSubscriberStatus(tx, *doc);
  const std::string id = (*doc)["id"];
  Tables().events.Publish(
      tx, {"subscriber", "unsubscribed", id, "subscribers/" + id, {{"subscriber_id", id}}}, {});
  return true;
}

constexpr const char* kUnsubscribed =
    "You will receive no further newsletters. 今後ニュースレターは配信されません。";

std::string RequiredToken(const http::Request& request) {
  const auto token = request.Query("token");
  if (!token || token->empty()) {
    throw http::ApiError::BadRequest("query parameter token is required").With("field", "token");
  }
  return *token;
}

http::Response HtmlPage(const std::string& content) {
  http::Response response;
  response.status = 200;
  response.body =
      "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
      "<title>JILAF</title></head>\n<body>\n" +
      content + "</body></html>\n";
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  return response;
}

}  // namespace

void AddSubscriberBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/SubscriberInput",
                 [](const json& body) { (void)ReadSubscriber(body, ""); }});
}

http::Response CreateSubscriber(const http::Request& request, store::Store& store) {
  json doc = ReadSubscriber(http::ParseJsonBody(request), request.principal.subject);
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const json created = Subscribe(tx, request, doc);
      auto response = http::Response::Json(201, created);
      response.SetHeader("Location", "/v1/subscribers/" + created["id"].get<std::string>());
      return response;
    });
  });
}

http::Response ConfirmUnsubscribe(const http::Request& request, store::Store& store) {
  const std::string token = RequiredToken(request);
  const bool known =
      store.Read([&](store::Db& db) { return FindSubscriberByToken(db, token).has_value(); });
  if (!known) throw http::ApiError::NotFound("unknown or expired unsubscribe token");
  // A GET changes nothing (mail scanners and link previews fetch links): the page asks, and its
  // form POSTs to the same link.
  const std::string action = "?token=" + util::EscapeMarkup(token);
  return HtmlPage(
      "<h1>ニュースレターの配信停止 / Unsubscribe from the newsletter</h1>\n"
      "<p>配信を停止するには下のボタンを押してください。<br>"
      "Press the button to receive no further newsletters.</p>\n"
      "<form method=\"post\" action=\"" +
      action + "\"><button type=\"submit\">配信を停止する / Unsubscribe</button></form>\n");
}

http::Response Unsubscribe(const http::Request& request, store::Store& store) {
  const std::string token = RequiredToken(request);
  if (!store.Write([&](store::Db& tx) { return UnsubscribeToken(tx, token); })) {
    throw http::ApiError::NotFound("unknown or expired unsubscribe token");
  }
  if (request.Header("content-type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    // The confirmation page's form (or a mail client's RFC 8058 one-click POST): a page back.
    return HtmlPage("<h1>配信を停止しました / Unsubscribed</h1>\n<p>" + std::string(kUnsubscribed) +
                    "</p>\n");
  }
  return http::Response::Json(200, {{"status", "unsubscribed"}, {"message", kUnsubscribed}});
}

}  // namespace jilaf::notifications
