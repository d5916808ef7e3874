#pragma once

// Where the projects service's request body readers describe their schemas (contract.cpp).

#include <string>
#include <vector>

#include "common/http/json_input.hpp"

namespace jilaf::projects {

/// The JSON pointer of the request body schema of PATCH `path` in openapi.json.
std::string PatchBody(const std::string& path);

void AddPartnerBodies(std::vector<http::BodyContract>& out);    // partners.cpp
void AddProjectBodies(std::vector<http::BodyContract>& out);    // projects.cpp
void AddTrancheBodies(std::vector<http::BodyContract>& out);    // tranches.cpp
void AddReportBodies(std::vector<http::BodyContract>& out);     // reports.cpp
void AddDispatchBodies(std::vector<http::BodyContract>& out);   // dispatches.cpp
void AddIndicatorBodies(std::vector<http::BodyContract>& out);  // indicators.cpp

/// Every request body of the service whose schema its reader generates (contract.cpp).
std::vector<http::BodyContract> RequestBodies();

}  // namespace jilaf::projects
