#include "services/projects/input.hpp"

#include "services/projects/money.hpp"

namespace jilaf::projects {

nlohmann::json ReadMoney(http::ObjectReader& in) {
  const auto amount = in.RequiredInt("amount", 1, money::kMaxAmount);
  const auto currency = in.RequiredString("currency", 3, 3);
  const auto rate_text = in.OptionalString("exchange_rate", 30);
  // The closed list and the decimal syntax are checked below; this is how the document says so.
  in.Describe("currency", {{"$ref", "#/components/schemas/CurrencyCode"}});
  in.Describe("exchange_rate", {{"type", "string"}, {"pattern", std::string(money::kRatePattern)}});
  const bool currency_known = money::MinorUnitExponent(currency).has_value();
  if (!currency.empty() && !currency_known) {
    in.AddError("currency", "'" + currency + "' is not an ISO 4217 currency code");
  }
  std::optional<money::Rate> rate;
  if (currency == "JPY") {
    rate = money::Rate{};
    if (rate_text && *rate_text != "1")
      in.AddError("exchange_rate", "must be \"1\" (or absent) for JPY");
  } else if (!rate_text) {
    if (currency_known) {
      in.AddError("exchange_rate", "is required for " + currency + ": yen per one " + currency +
                                       " as a decimal string, e.g. \"151.25\"");
    }
  } else {
    rate = money::ParseRate(*rate_text);
    if (!rate) {
      in.AddError("exchange_rate",
                  "expected a positive decimal string with up to 12 integer and 10 fraction "
                  "digits, e.g. \"151.25\"");
    }
  }
  if (!in.ok() || !rate || amount <= 0 || !currency_known) return nlohmann::json::object();
  const auto jpy = money::ToJpy(amount, currency, *rate);
  if (!jpy) {
    in.AddError("amount", "is too large once converted to JPY");
    return nlohmann::json::object();
  }
  return {{"amount", amount},
          {"currency", currency},
          {"exchange_rate", rate->text},
          {"amount_jpy", *jpy}};
}

aggregate::TransitionInput ReadMove(const nlohmann::json& body,
                                    const domain::StateMachine& machine) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in, machine);
  in.Finish();
  return input;
}

void CheckOrder(http::ObjectReader& in, const std::string& earlier, const std::string& later,
                const std::string& later_key) {
  if (!earlier.empty() && !later.empty() && later < earlier) {
    in.AddError(later_key, "must not be before " + earlier);
  }
}

}  // namespace jilaf::projects
