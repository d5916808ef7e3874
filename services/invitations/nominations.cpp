#include "services/invitations/nominations.hpp"

#include <nlohmann/json.hpp>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {
namespace {

nlohmann::json ReadNomination(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  if (auto candidate = in.Object("candidate", true)) {
    nlohmann::json c;
    c["family_name"] = candidate->RequiredString("family_name", 1, 100);
    c["given_name"] = candidate->RequiredString("given_name", 1, 100);
    if (auto native = candidate->OptionalString("native_name", 200)) c["native_name"] = *native;
    if (auto kana = candidate->OptionalString("katakana_name", 200)) c["katakana_name"] = *kana;
    if (auto gender =
            candidate->OptionalEnum("gender", {"female", "male", "other", "undisclosed"})) {
      c["gender"] = *gender;
    }
    c["nationality"] = candidate->RequiredCountry("nationality");
    c["email"] = candidate->RequiredEmail("email");
    c["languages"] = candidate->StringArray("languages", false, 20, 50);
    c["union"] = candidate->RequiredString("union", 1, 200);
    c["position"] = candidate->RequiredString("position", 1, 200);
    candidate->RejectUnknownFields();
    doc["candidate"] = std::move(c);
  }
  if (auto org = in.Object("nominating_organisation", true)) {
    doc["nominating_organisation"] = {{"name", org->RequiredString("name", 1, 200)},
                                      {"country", org->RequiredCountry("country")}};
    if (auto email = org->OptionalEmail("contact_email")) {
      doc["nominating_organisation"]["contact_email"] = *email;
    }
    org->RejectUnknownFields();
  }
  in.Finish();
  return doc;
}

}  // namespace

http::Response CreateNomination(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadNomination(http::ParseJsonBody(request));
  const std::string programme_id = request.Param("id");
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto programme =
          store::LoadJsonDoc(tx, "SELECT doc FROM programmes WHERE id = ?", programme_id);
      if (!programme) throw http::ApiError::NotFound("no programme with id " + programme_id);
      if ((*programme)["status"] != "open") {
        throw http::ApiError::Conflict("programme " + programme_id + " is " +
                                       (*programme)["status"].get<std::string>() +
                                       "; nominations are accepted only while it is open")
            .With("programme_status", (*programme)["status"]);
      }
      const std::string now = events::NowRfc3339();
      const std::string id = events::NewUuid();
      doc["id"] = id;
      doc["programme_id"] = programme_id;
      doc["status"] = "submitted";
      doc["version"] = 1;
      doc["created_at"] = now;
      doc["updated_at"] = now;
      auto insert = tx.Prepare(
          "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
          " created_at, updated_at) VALUES (?, ?, ?, 'submitted', 1, ?, ?, ?)");
      insert.Bind(1, id)
          .Bind(2, programme_id)
          .Bind(3, doc["candidate"]["nationality"].get<std::string>())
          .Bind(4, doc.dump())
          .Bind(5, now)
          .Bind(6, now);
      insert.Run();
      const auto& candidate = doc["candidate"];
      nlohmann::json data = {{"nomination_id", id},
                             {"programme_id", programme_id},
                             {"programme_title", (*programme)["title"]},
                             {"fiscal_year", (*programme)["fiscal_year"]},
                             {"track", (*programme)["track"]},
                             {"status", "submitted"},
                             {"candidate",
                              {{"family_name", candidate["family_name"]},
                               {"given_name", candidate["given_name"]},
                               {"nationality", candidate["nationality"]}}},
                             {"nominating_organisation", doc["nominating_organisation"]}};
      events::AppendToOutbox(
          tx, kEventsTopic,
          events::MakeEvent(kEventSource, "jilaf.invitations.nomination.submitted", id,
                            "nominations/" + id,
                            "/schemas/invitations/nomination.submitted/v1.json", std::move(data),
                            std::string(request.Header("traceparent"))));
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", "/v1/nominations/" + id);
      response.SetHeader("ETag", http::MakeEtag(1));
      return response;
    });
  });
}

http::Response GetNomination(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM nominations WHERE id = ?", id);
  });
  if (!doc) throw http::ApiError::NotFound("no nomination with id " + id);
  auto response = http::Response::Json(200, *doc);
  response.SetHeader("ETag", http::MakeEtag((*doc)["version"].get<std::int64_t>()));
  return response;
}

}  // namespace jilaf::invitations
