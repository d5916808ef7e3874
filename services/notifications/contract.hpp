#pragma once

// Where the notifications service's request body readers describe their schemas (contract.cpp).

#include <vector>

#include "common/http/json_input.hpp"
#include "common/http/parameters.hpp"

namespace jilaf::notifications {

void AddRuleBodies(std::vector<http::BodyContract>& out);        // rules.cpp: rules, webhooks
void AddTemplateBodies(std::vector<http::BodyContract>& out);    // templates.cpp: + preferences
void AddSubscriberBodies(std::vector<http::BodyContract>& out);  // subscribers.cpp

/// Every request body of the service whose schema its reader generates (contract.cpp).
std::vector<http::BodyContract> RequestBodies();
/// The query and path parameters of every operation that takes more than its `{name}` captures
/// as text (common/http/parameters.hpp): Routes declares them, the documents state them.
std::vector<http::Operation> Parameters();
/// GET /v1/deliveries's parameters (deliveries.cpp).
http::Operation DeliveryListParameters();

}  // namespace jilaf::notifications
