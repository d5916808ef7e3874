#pragma once

// Where the notifications service's request body readers describe their schemas (contract.cpp).

#include <vector>

#include "common/http/json_input.hpp"

namespace jilaf::notifications {

void AddRuleBodies(std::vector<http::BodyContract>& out);        // rules.cpp: rules, webhooks
void AddTemplateBodies(std::vector<http::BodyContract>& out);    // templates.cpp: + preferences
void AddSubscriberBodies(std::vector<http::BodyContract>& out);  // subscribers.cpp

/// Every request body of the service whose schema its reader generates (contract.cpp).
std::vector<http::BodyContract> RequestBodies();

}  // namespace jilaf::notifications
