#pragma once

// The request body readers of the invitations service: what its handlers call to validate a body,
// and what contract.cpp describes to generate the request schemas of openapi.json.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/http/json_input.hpp"
#include "common/http/parameters.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes (programmes.cpp).
nlohmann::json ReadProgramme(const nlohmann::json& body);
/// PATCH /v1/programmes/{id}: applies the members sent to `doc` (programmes.cpp).
void ApplyProgrammePatch(const nlohmann::json& body, nlohmann::json& doc);
/// A visit of the itinerary, on create and (merged) on correction (logistics.cpp).
nlohmann::json ReadItineraryItem(const nlohmann::json& body);
/// PUT /v1/nominations/{id}/logistics (logistics.cpp).
nlohmann::json ReadLogistics(const nlohmann::json& body);

/// POST /v1/followups/{id}/report (followups.cpp).
struct FollowUpReport {
  std::string summary;
  std::vector<std::string> activities;
};
FollowUpReport ReadFollowUpReport(const nlohmann::json& body);
/// POST /v1/admin/followup-scans: the optional `as_of` date (followups.cpp).
std::optional<std::string> ReadScanDate(const nlohmann::json& body);

/// POST /v1/nominations/{id}/guarantor-letters (documents.cpp).
struct DisclosureRequest {
  std::string reason;
  std::string lang;
};
DisclosureRequest ReadDisclosureRequest(const nlohmann::json& body);
/// POST /v1/nominations/{id}/reversals: the reason (nominations.cpp).
std::string ReadReversalReason(const nlohmann::json& body);

/// The programme start dates accepted (fiscal years 1989 to 2100).
extern const http::DateRange kProgrammeStart;

/// Every request body of the service, with where its schema goes in openapi.json (contract.cpp).
std::vector<http::BodyContract> RequestBodies();
/// The query and path parameters of every operation that takes more than its `{name}` captures
/// as text (common/http/parameters.hpp): Routes declares them, the documents state them.
std::vector<http::Operation> Parameters();
/// GET /v1/programmes's parameters (programmes.cpp).
http::Operation ProgrammeListParameters();

}  // namespace jilaf::invitations
