#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

#include "common/http/json_input.hpp"

// Input helpers shared by the resources of the projects service.
namespace jilaf::projects {

/// Reads a money object's members from `in`: `amount` (integer minor units, 1..10^15),
/// `currency` (ISO 4217), `exchange_rate` (decimal string, yen per major unit; required unless
/// the currency is JPY). Returns {amount, currency, exchange_rate, amount_jpy}; records
/// field-precise errors in `in` (and returns an empty object) when something is wrong.
nlohmann::json ReadMoney(http::ObjectReader& in);

/// The members of `doc` a client may set, for merging a PATCH body into (RFC 7396).
nlohmann::json Pick(const nlohmann::json& doc, std::initializer_list<const char*> keys);

/// Applies a PATCH body (JSON merge patch) to the editable view of a document; 422 when the
/// body is not an object.
nlohmann::json MergePatch(nlohmann::json editable, const nlohmann::json& patch);

/// Records an error on `later_key` when both dates are set and out of order.
void CheckOrder(http::ObjectReader& in, const std::string& earlier, const std::string& later,
                const std::string& later_key);

}  // namespace jilaf::projects
