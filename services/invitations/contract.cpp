// Where each request body's schema goes in openapi.json: the readers describe themselves
// (http::DescribeBody), and scripts/contracts/request_schemas.py writes the result into the
// document and fails the build's check when the document differs (docs/architecture.md).
#include <nlohmann/json.hpp>

#include "services/invitations/candidates.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

namespace jilaf::invitations {

std::vector<http::BodyContract> RequestBodies() {
  const std::string kSchemas = "/components/schemas/";
  const std::string kBody = "/requestBody/content/application~1json/schema";
  return {
      {kSchemas + "ProgrammeInput", [](const nlohmann::json& body) { ReadProgramme(body); }},
      {kSchemas + "ProgrammePatch",
       [](const nlohmann::json& body) {
         // A stored programme for the patch to apply to; only its shape matters here.
         nlohmann::json doc = {{"fiscal_year", 2026},
                               {"start_date", "2026-06-01"},
                               {"end_date", "2026-06-20"},
                               {"seats", 10}};
         ApplyProgrammePatch(body, doc);
       }},
      {kSchemas + "ProgrammeTransitionInput",
       [](const nlohmann::json& body) { (void)ReadMove(body, ProgrammeMachine()); }},
      {kSchemas + "NominationTransitionInput",
       [](const nlohmann::json& body) { (void)ReadMove(body, NominationMachine()); }},
      {kSchemas + "NominationInput",
       [](const nlohmann::json& body) {
         PersonalData personal;
         ReadNomination(body, personal);
       }},
      {kSchemas + "NominationPatch",
       [](const nlohmann::json& body) {
         PersonalData personal;
         ReadNomination(body, personal);
       },
       true},
      {kSchemas + "ItineraryInput", [](const nlohmann::json& body) { ReadItineraryItem(body); }},
      {"/paths/~1v1~1itinerary~1{id}/patch" + kBody,
       [](const nlohmann::json& body) { ReadItineraryItem(body); }, true},
      {kSchemas + "LogisticsInput", [](const nlohmann::json& body) { ReadLogistics(body); }},
      {"/paths/~1v1~1nominations~1{id}~1reversals/post" + kBody,
       [](const nlohmann::json& body) { (void)ReadReversalReason(body); }},
      {"/paths/~1v1~1nominations~1{id}~1guarantor-letters/post" + kBody,
       [](const nlohmann::json& body) { (void)ReadDisclosureRequest(body); }},
      {"/paths/~1v1~1followups~1{id}~1report/post" + kBody,
       [](const nlohmann::json& body) { (void)ReadFollowUpReport(body); }},
      {"/paths/~1v1~1admin~1followup-scans/post" + kBody,
       [](const nlohmann::json& body) { (void)ReadScanDate(body); }},
  };
}

std::vector<http::Operation> Parameters() {
  using http::Method;
  const auto nominations = [](bool across_programmes) {
    std::vector<http::Parameter> list = {http::SearchQuery(),
                                         http::PageSize(),
                                         http::PageToken(),
                                         http::QueryEnum("status", NominationMachine().States()),
                                         http::CountryFilter("nationality"),
                                         http::QueryInteger("fiscal_year", 1900, 2200)};
    if (across_programmes) list.push_back(http::QueryText("programme_id"));
    list.push_back(http::Format());
    return list;
  };
  return {
      ProgrammeListParameters(),
      {Method::kGet, "/v1/programmes/{id}/nominations", nominations(false)},
      {Method::kGet, "/v1/nominations", nominations(true)},
      {Method::kGet, "/v1/programmes/{id}/itinerary", {http::Format()}},
      {Method::kGet, "/v1/nominations/{id}/followups", {http::Format()}},
      {Method::kGet,
       "/v1/nominations/{id}/documents/{kind}",
       {http::PathEnum("kind", {"invitation-letter", "guarantor-letter"}),
        http::QueryEnum("lang", {"en", "ja"}, "en")}},
      {Method::kGet, "/v1/reports/fiscal-years/{fy}", {http::PathInteger("fy", 1989, 2100)}},
  };
}

}  // namespace jilaf::invitations
