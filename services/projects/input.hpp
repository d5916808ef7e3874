#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/aggregate/sequences.hpp"
#include "common/http/json_input.hpp"

// Input helpers shared by the resources of the projects service.
namespace jilaf::projects {

/// Reads a money object's members from `in`: `amount` (integer minor units, 1..10^15),
/// `currency` (ISO 4217), `exchange_rate` (decimal string, yen per major unit; required unless
/// the currency is JPY). Returns {amount, currency, exchange_rate, amount_jpy}; records
/// field-precise errors in `in` (and returns an empty object) when something is wrong.
nlohmann::json ReadMoney(http::ObjectReader& in);

/// A transition body `{"to", "reason"}` and nothing else, `to` described as the states `machine`
/// moves to (ProjectTransitionInput, DispatchTransitionInput).
aggregate::TransitionInput ReadMove(const nlohmann::json& body,
                                    const domain::StateMachine& machine);

/// Records an error on `later_key` when both dates are set and out of order.
void CheckOrder(http::ObjectReader& in, const std::string& earlier, const std::string& later,
                const std::string& later_key);

}  // namespace jilaf::projects
