#pragma once

// Where the projects service's request body readers describe their schemas (contract.cpp).

#include <string>
#include <vector>

#include "common/http/json_input.hpp"
#include "common/http/parameters.hpp"

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
/// The query and path parameters of every operation that takes more than its `{name}` captures
/// as text (common/http/parameters.hpp): Routes declares them, the documents state them.
std::vector<http::Operation> Parameters();
/// GET /v1/projects's parameters (projects.cpp).
http::Operation ProjectListParameters();

}  // namespace jilaf::projects
