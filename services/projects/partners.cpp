#include <nlohmann/json.hpp>

#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/input.hpp"
#include "services/projects/store.hpp"

namespace jilaf::projects {
namespace {

const std::vector<std::string_view> kKinds = {"national_centre", "federation", "trade_union",
                                              "regional_organisation", "other"};

nlohmann::json ReadPartner(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["name"] = in.RequiredString("name", 1, 300);
  if (auto acronym = in.OptionalString("acronym", 50)) doc["acronym"] = *acronym;
  doc["country"] = in.RequiredCountry("country");
  doc["kind"] = in.OptionalEnum("kind", kKinds).value_or("trade_union");
  if (auto contact = in.Object("contact", true)) {
    nlohmann::json c;
    c["name"] = contact->RequiredString("name", 1, 200);
    c["email"] = contact->RequiredEmail("email");
    if (auto phone = contact->OptionalString("phone", 50)) c["phone"] = *phone;
    contact->RejectUnknownFields();
    doc["contact"] = std::move(c);
  }
  in.Finish();
  return doc;
}

nlohmann::json EventData(const nlohmann::json& doc) {
  return {{"partner_id", doc["id"]},
          {"name", doc["name"]},
          {"country", doc["country"]},
          {"kind", doc["kind"]},
          {"version", doc["version"]}};
}

}  // namespace

http::Response CreatePartner(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadPartner(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      Stamp(doc, request);
      const std::string id = doc["id"];
      Insert(tx, "partners", doc);
      Emit(tx, request, "partner", "created", id, "partners/" + id, EventData(doc));
      return Created(doc, "/v1/partners/" + id);
    });
  });
}

http::Response ListPartners(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto country = request.Query("country");
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM partners WHERE seq > ?1 AND (?2 IS NULL OR country = ?2)"
        " ORDER BY seq LIMIT ?3");
    stmt.Bind(1, page.after.value_or(0)).Bind(2, country).Bind(3, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetPartner(const http::Request& request, store::Store& store) {
  return DocResponse(store.Read(
      [&](store::Db& db) { return Require(db, "partners", request.Param("id"), "partner"); }));
}

http::Response UpdatePartner(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "partners", request.Param("id"), "partner");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const auto changed = ReadPartner(
        MergePatch(Pick(doc, {"name", "acronym", "country", "kind", "contact"}), patch));
    doc.erase("acronym");
    doc.update(changed);
    Touch(doc);
    Save(tx, "partners", doc);
    Emit(tx, request, "partner", "updated", doc["id"], "partners/" + doc["id"].get<std::string>(),
         EventData(doc));
    return DocResponse(doc);
  });
}

http::Response DeletePartner(const http::Request& request, store::Store& store) {
  return store.Write([&](store::Db& tx) {
    const auto doc = Require(tx, "partners", request.Param("id"), "partner");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    auto used = tx.Prepare("SELECT count(*) FROM projects WHERE partner_id = ?");
    used.Bind(1, doc["id"].get<std::string>());
    if (used.Step() && used.Int(0) > 0) {
      throw http::ApiError::Conflict("partner is referenced by " + std::to_string(used.Int(0)) +
                                     " project(s) and cannot be deleted")
          .With("projects", used.Int(0));
    }
    Remove(tx, "partners", doc["id"]);
    Emit(tx, request, "partner", "deleted", doc["id"], "partners/" + doc["id"].get<std::string>(),
         EventData(doc));
    return http::Response::Empty(204);
  });
}

}  // namespace jilaf::projects
