#pragma once

#include <vector>

#include "common/http/json_input.hpp"
#include "common/http/parameters.hpp"

namespace jilaf::missions {

/// The meeting and findings-report bodies of a research mission (research_missions.cpp).
void AddResearchMissionBodies(std::vector<http::BodyContract>& out);

/// Attendance, and a person enrolled or registered (education.cpp).
void AddEducationBodies(std::vector<http::BodyContract>& out);
/// Alumni invited to a seminar or programme (alumni.cpp).
void AddAlumniBodies(std::vector<http::BodyContract>& out);

/// Every request body of the service whose schema its reader generates (contract.cpp).
std::vector<http::BodyContract> RequestBodies();
/// The query and path parameters of every operation that takes more than its `{name}` captures
/// as text (common/http/parameters.hpp): Routes declares them, the documents state them.
std::vector<http::Operation> Parameters();

}  // namespace jilaf::missions
