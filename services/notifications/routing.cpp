#include "services/notifications/routing.hpp"

#include <algorithm>
#include <iterator>

namespace jilaf::notifications {
namespace {

// The recipient kinds that name their recipient directly (a pointer reads it from the event).
constexpr const char* kDirect[] = {"address", "role", "user", "endpoint"};

const nlohmann::json* At(const nlohmann::json& data, const std::string& pointer) {
  try {
    const nlohmann::json::json_pointer ptr(pointer);
    if (!data.contains(ptr)) return nullptr;
    return &data.at(ptr);
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

// Orders numbers as numbers and strings as strings; anything else is incomparable.
bool Compare(const nlohmann::json& left, const nlohmann::json& right, int& out) {
  if (left.is_number() && right.is_number()) {
    const double a = left.get<double>();
    const double b = right.get<double>();
    out = a < b ? -1 : (a > b ? 1 : 0);
    return true;
  }
  if (left.is_string() && right.is_string()) {
    const int c = left.get<std::string>().compare(right.get<std::string>());
    out = c < 0 ? -1 : (c > 0 ? 1 : 0);
    return true;
  }
  return false;
}

bool Holds(const nlohmann::json& condition, const nlohmann::json& data) {
  const std::string op = condition.value("op", "eq");
  const nlohmann::json* field = At(data, condition.value("pointer", ""));
  const nlohmann::json value = condition.value("value", nlohmann::json());
  if (op == "exists") return (field != nullptr) == (value.is_boolean() ? value.get<bool>() : true);
  if (field == nullptr) return false;
  if (op == "eq") return *field == value;
  if (op == "ne") return *field != value;
  if (op == "in") {
    if (!value.is_array()) return false;
    for (const auto& item : value) {
      if (item == *field) return true;
    }
    return false;
  }
  int order = 0;
  if (!Compare(*field, value, order)) return false;
  if (op == "gt") return order > 0;
  if (op == "gte") return order >= 0;
  if (op == "lt") return order < 0;
  if (op == "lte") return order <= 0;
  return false;
}

}  // namespace

const std::string_view kEventTypePattern = R"(^(?:[a-z0-9._]*\.)?\*$|^[a-z0-9._]+$)";

bool ValidPattern(const std::string& pattern) {
  if (pattern.empty() || pattern.size() > 200) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (c == '*') {
      if (i != pattern.size() - 1 || (i > 0 && pattern[i - 1] != '.')) return false;
    } else if (!ok) {
      return false;
    }
  }
  return true;
}

bool ValidPointer(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') return false;
  try {
    (void)nlohmann::json::json_pointer(pointer);
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

bool TypeMatches(const std::string& pattern, const std::string& type) {
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0) {
    const std::string prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return type.size() > prefix.size() && type.compare(0, prefix.size(), prefix) == 0;
  }
  if (pattern == "*") return true;
  return pattern == type;
}

bool ConditionsHold(const nlohmann::json& conditions, const nlohmann::json& data) {
  if (!conditions.is_array()) return true;
  for (const auto& condition : conditions) {
    if (!Holds(condition, data)) return false;
  }
  return true;
}

std::vector<Recipient> ResolveRecipients(const nlohmann::json& recipients,
                                         const nlohmann::json& data,
                                         std::vector<std::string>* skipped) {
  std::vector<Recipient> out;
  if (!recipients.is_array()) return out;
  for (const auto& recipient : recipients) {
    const auto kind = std::find_if(std::begin(kDirect), std::end(kDirect),
                                   [&](const char* k) { return recipient.contains(k); });
    if (kind != std::end(kDirect)) {
      out.push_back({*kind, recipient[*kind].get<std::string>()});
    } else if (recipient.contains("pointer")) {
      const std::string pointer = recipient["pointer"].get<std::string>();
      const nlohmann::json* field = At(data, pointer);
      if (field != nullptr && field->is_string() && !field->get<std::string>().empty()) {
        out.push_back({"address", field->get<std::string>()});
      } else if (skipped != nullptr) {
        skipped->push_back(pointer);
      }
    }
  }
  return out;
}

}  // namespace jilaf::notifications
