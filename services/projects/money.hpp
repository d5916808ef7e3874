#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jilaf::projects::money {

/// The ISO 4217 minor-unit exponent of an active currency code (JPY 0, USD 2, BHD 3, CLF 4);
/// nullopt for anything else, including codes without a minor unit (XAU, XDR...).
[[nodiscard]] std::optional<int> MinorUnitExponent(std::string_view code);

/// Every currency code MinorUnitExponent() knows, sorted.
[[nodiscard]] std::vector<std::string> CurrencyCodes();

/// An exchange rate as an exact fraction: yen per one major unit of the foreign currency
/// (e.g. "151.2345" = 1512345/10000). `text` is what the client sent, stored as given.
struct Rate {
  std::int64_t numerator = 1;
  std::int64_t denominator = 1;
  std::string text = "1";
};

/// Parses a positive decimal string "D{1,12}[.D{1,10}]"; nullopt if malformed or zero. Rates
/// travel as strings because a JSON number would pass through binary floating point.
[[nodiscard]] std::optional<Rate> ParseRate(std::string_view text);
/// What ParseRate accepts, as the pattern the OpenAPI documents state.
inline constexpr std::string_view kRatePattern = "^(?=[0-9.]*[1-9])[0-9]{1,12}(\\.[0-9]{1,10})?$";

/// Largest amount of minor units the service accepts anywhere (10^15).
inline constexpr std::int64_t kMaxAmount = 1'000'000'000'000'000;

/// Converts `amount_minor` minor units of `currency` to whole yen at `rate`, exactly:
///   yen = amount_minor * numerator / (denominator * 10^exponent), rounded half up
/// (a half yen goes up, as a payment order would be rounded), with 128-bit integers throughout.
/// For JPY itself the rate must be 1 and the amount is returned unchanged. nullopt for an
/// unknown currency, a negative amount, or a result beyond kMaxAmount.
[[nodiscard]] std::optional<std::int64_t> ToJpy(std::int64_t amount_minor,
                                                std::string_view currency, const Rate& rate);

}  // namespace jilaf::projects::money
