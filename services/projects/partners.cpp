#include <nlohmann/json.hpp>

#include "common/aggregate/search.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/aggregate/view.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/tables.hpp"

namespace jilaf::projects {
namespace {

// A partner's contact person is for staff; viewers see the organisation.
const std::vector<std::string> kViewerMasked = {"contact"};

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

nlohmann::json PartnerData(store::Db&, const nlohmann::json& doc) {
  return Payload(doc, "partner_id", {"name", "country", "kind", "version"});
}

}  // namespace

http::Response CreatePartner(const http::Request& request, store::Store& store) {
  return aggregate::Create(store, request, Tables().partner,
                           ReadPartner(http::ParseJsonBody(request)), {},
                           Announce(Tables().partner, "created", PartnerData));
}

http::Response ListPartners(const http::Request& request, store::Store& store) {
  const aggregate::Filters filters = {
      {"country", aggregate::Maybe(http::QueryCountry(request, "country"))}};
  auto query = aggregate::ReadListQuery(request, aggregate::FilterNames(filters));
  query.page.masked = aggregate::AudienceOf(request.principal) == aggregate::Audience::kViewer;
  return store.Read([&](store::Db& db) {
    return http::Response::Json(
        200, aggregate::FindIn(
                 db, query, Tables().partners, filters, [&](store::Db&, nlohmann::json doc) {
                   return aggregate::ForReader(std::move(doc), request.principal, kViewerMasked);
                 }));
  });
}

http::Response GetPartner(const http::Request& request, store::Store& store) {
  const std::string id = request.Param("id");
  auto stored = store.Read([&](store::Db& db) { return Tables().partners.Find(db, id); });
  if (!stored) throw http::ApiError::NotFound("no partner with id " + id);
  return aggregate::DocResponse(
      aggregate::ForReader(std::move(*stored), request.principal, kViewerMasked));
}

http::Response UpdatePartner(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().partner, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        const auto changed = ReadPartner(aggregate::MergePatch(
            aggregate::Pick(doc, {"name", "acronym", "country", "kind", "contact"}), patch));
        doc.erase("acronym");
        doc.update(changed);
      },
      [](aggregate::Change& change, const nlohmann::json& doc) {
        Announce(Tables().partner, "updated", PartnerData)(change, doc);
        // Its projects are found by its (new) name.
        const auto& projects = Tables().projects;
        for (const auto& project :
             projects.Where(change.tx, {{"partner_id", doc["id"].get<std::string>()}})) {
          projects.IndexDocument(change.tx, project);
        }
      });
}

http::Response DeletePartner(const http::Request& request, store::Store& store) {
  return aggregate::Remove(
      store, request, Tables().partner, request.Param("id"),
      [](aggregate::Change& change, nlohmann::json& doc) {
        const auto used =
            Tables().projects.Count(change.tx, {{"partner_id", doc["id"].get<std::string>()}});
        if (used > 0) {
          throw http::ApiError::Conflict("partner is referenced by " + std::to_string(used) +
                                         " project(s) and cannot be deleted")
              .With("projects", used);
        }
      },
      Announce(Tables().partner, "deleted", PartnerData));
}

void AddPartnerBodies(std::vector<http::BodyContract>& out) {
  const auto read = [](const nlohmann::json& body) { (void)ReadPartner(body); };
  out.push_back({"/components/schemas/PartnerInput", read});
  out.push_back({PatchBody("/v1/partners/{id}"), read, true});
}

}  // namespace jilaf::projects
