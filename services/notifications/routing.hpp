#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace jilaf::notifications {

inline const std::vector<std::string_view> kChannels = {"email", "webhook", "inbox"};
inline const std::vector<std::string_view> kLocales = {"ja", "en"};

/// True when `pattern` is an event type (lower case, digits, dots, underscores) or a prefix of
/// one written `prefix.*`.
[[nodiscard]] bool ValidPattern(const std::string& pattern);
/// ValidPattern as a JSON Schema pattern (with a length of 1 to 200), for the documents.
extern const std::string_view kEventTypePattern;
/// True when `pointer` is a JSON pointer (RFC 6901) starting with "/".
[[nodiscard]] bool ValidPointer(const std::string& pointer);

/// True when a rule's `event_type` selects `type`: exact, or a prefix written `prefix.*`.
[[nodiscard]] bool TypeMatches(const std::string& pattern, const std::string& type);

/// True when every condition of `conditions` (an array of {pointer, op, value}) holds on `data`.
/// Ops: eq, ne, gt, gte, lt, lte (numbers or strings), in (value is an array), exists. A
/// condition on a field the event lacks is false (except `exists` with value false).
[[nodiscard]] bool ConditionsHold(const nlohmann::json& conditions, const nlohmann::json& data);

/// One resolved recipient of a delivery.
struct Recipient {
  std::string kind;     // address, role, user, endpoint
  std::string address;  // the email address, role name, user id or webhook endpoint id
};

/// Resolves a rule's recipients against an event's data. A pointer recipient whose field is
/// absent or not a string yields nothing (reported through `skipped`).
std::vector<Recipient> ResolveRecipients(const nlohmann::json& recipients,
                                         const nlohmann::json& data,
                                         std::vector<std::string>* skipped = nullptr);

}  // namespace jilaf::notifications
