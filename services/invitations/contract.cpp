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

}  // namespace jilaf::invitations
