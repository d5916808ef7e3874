#include "common/http/parameters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/iso3166.hpp"

namespace jilaf::http {
namespace {

Parameter Named(Parameter::In in, std::string name) {
  Parameter parameter;
  parameter.in = in;
  parameter.name = std::move(name);
  parameter.required = in == Parameter::In::kPath;
  return parameter;
}

Parameter Integer(Parameter::In in, std::string name, std::int64_t min, std::int64_t max) {
  auto parameter = Named(in, std::move(name));
  parameter.type = Parameter::Type::kInteger;
  parameter.minimum = min;
  parameter.maximum = max;
  return parameter;
}

Parameter Enum(Parameter::In in, std::string name, std::vector<std::string> values) {
  auto parameter = Named(in, std::move(name));
  parameter.values = std::move(values);
  return parameter;
}

Parameter Pattern(Parameter::In in, std::string name, std::string pattern) {
  auto parameter = Named(in, std::move(name));
  parameter.regex = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  parameter.pattern = std::move(pattern);
  return parameter;
}

// A decimal integer as JSON Schema's "integer" reads one from a query string: an optional minus
// and digits, nothing else.
std::optional<std::int64_t> ParseInteger(std::string_view text) {
  // Canonical form only ("2026", not "02026" or "-0"): what a client writes from the schema.
  const auto digits = text.substr(text.starts_with('-') ? 1 : 0);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  if (text == "-0") return std::nullopt;
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::string Where(const Parameter& parameter) {
  return (parameter.in == Parameter::In::kPath ? "path parameter " : "query parameter ") +
         parameter.name;
}

std::string Joined(const std::vector<std::string>& values, const std::string& last) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " " + last + " " : ", ";
    out += values[i];
  }
  return out;
}

// What is wrong with `value`, or empty when the parameter accepts it.
std::string Complaint(const Parameter& parameter, const std::string& value) {
  if (parameter.type == Parameter::Type::kInteger) {
    const auto number = ParseInteger(value);
    if (!number || (parameter.minimum && *number < *parameter.minimum) ||
        (parameter.maximum && *number > *parameter.maximum)) {
      return "must be an integer between " + std::to_string(parameter.minimum.value_or(0)) +
             " and " + std::to_string(parameter.maximum.value_or(0));
    }
    return {};
  }
  if (!parameter.values.empty() && std::find(parameter.values.begin(), parameter.values.end(),
                                             value) == parameter.values.end()) {
    return "must be " + Joined(parameter.values, "or");
  }
  const auto length = CharacterCount(value);
  if (parameter.min_length && length < *parameter.min_length) {
    return *parameter.min_length == 1
               ? "must not be empty"
               : "must hold at least " + std::to_string(*parameter.min_length) + " characters";
  }
  if (parameter.max_length && length > *parameter.max_length) {
    return "must hold at most " + std::to_string(*parameter.max_length) + " characters";
  }
  if (parameter.regex && !std::regex_search(value, *parameter.regex)) {
    return "must match " + parameter.pattern;
  }
  if (parameter.check && !parameter.check(value)) return "must be " + parameter.expected;
  return {};
}

[[noreturn]] void Refuse(const std::string& name, const std::string& detail) {
  throw ApiError::BadRequest(detail).With("field", name);
}

void RefuseUnknown(const std::vector<Parameter>& parameters, const std::string& name) {
  std::vector<std::string> known;
  for (const auto& parameter : parameters) {
    if (parameter.in == Parameter::In::kQuery) known.push_back(parameter.name);
  }
  Refuse(name, "unknown query parameter " + name + "; " +
                   (known.empty() ? std::string("this operation accepts none")
                                  : "this operation accepts " + Joined(known, "and")));
}

}  // namespace

Parameter QueryText(std::string name) { return Named(Parameter::In::kQuery, std::move(name)); }

Parameter RequiredText(std::string name) {
  auto parameter = Named(Parameter::In::kQuery, std::move(name));
  parameter.required = true;
  parameter.min_length = 1;
  return parameter;
}

Parameter QueryInteger(std::string name, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> default_value) {
  auto parameter = Integer(Parameter::In::kQuery, std::move(name), min, max);
  if (default_value) parameter.default_value = std::to_string(*default_value);
  return parameter;
}

Parameter QueryEnum(std::string name, std::vector<std::string> values, std::string default_value) {
  auto parameter = Enum(Parameter::In::kQuery, std::move(name), std::move(values));
  parameter.default_value = std::move(default_value);
  return parameter;
}

Parameter QueryPattern(std::string name, std::string pattern) {
  return Pattern(Parameter::In::kQuery, std::move(name), std::move(pattern));
}

Parameter CountryFilter(std::string name) {
  auto parameter = Named(Parameter::In::kQuery, std::move(name));
  parameter.ref = "#/components/schemas/CountryCode";
  parameter.check = util::IsIso3166Alpha2;
  parameter.expected = "an assigned ISO 3166-1 alpha-2 country code";
  return parameter;
}

Parameter PageSize(std::int64_t max, std::int64_t default_size) {
  return QueryInteger("page_size", 1, max, default_size);
}

Parameter PageToken() { return QueryText("page_token"); }

Parameter SearchQuery() {
  // At most 200 characters, no control character, and at least one that is neither ASCII
  // punctuation nor a digit nor a space: a word (aggregate::ReadListQuery says the same).
  auto parameter = QueryPattern(
      "q", R"(^[^\x00-\x1F\x7F]*[^\x00-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F][^\x00-\x1F\x7F]*$)");
  parameter.max_length = 200;
  return parameter;
}

Parameter Format() { return QueryEnum("format", {"json", "csv"}); }

std::vector<Parameter> ListParameters(std::int64_t max_page_size) {
  return {PageSize(max_page_size), PageToken(), Format()};
}

Parameter PathText(std::string name) { return Named(Parameter::In::kPath, std::move(name)); }

Parameter PathInteger(std::string name, std::int64_t min, std::int64_t max) {
  return Integer(Parameter::In::kPath, std::move(name), min, max);
}

Parameter PathEnum(std::string name, std::vector<std::string> values) {
  return Enum(Parameter::In::kPath, std::move(name), std::move(values));
}

Parameter PathPattern(std::string name, std::string pattern) {
  return Pattern(Parameter::In::kPath, std::move(name), std::move(pattern));
}

std::vector<Parameter> Complete(const std::string& path, std::vector<Parameter> parameters) {
  std::vector<Parameter> out;
  std::size_t at = 0;
  while ((at = path.find('{', at)) != std::string::npos) {
    const auto close = path.find('}', at);
    const std::string name = path.substr(at + 1, close - at - 1);
    at = close;
    const auto declared = std::find_if(parameters.begin(), parameters.end(), [&](const auto& p) {
      return p.in == Parameter::In::kPath && p.name == name;
    });
    out.push_back(declared == parameters.end() ? PathText(name) : *declared);
  }
  for (auto& parameter : parameters) {
    const auto same = [&](const Parameter& p) { return p.name == parameter.name; };
    if (parameter.in == Parameter::In::kPath) {
      if (std::none_of(out.begin(), out.end(), same)) {
        throw std::logic_error(path + " has no path parameter " + parameter.name);
      }
      continue;
    }
    if (std::any_of(out.begin(), out.end(), same)) {
      throw std::logic_error(path + " declares " + parameter.name + " twice");
    }
    out.push_back(std::move(parameter));
  }
  return out;
}

void CheckParameters(const std::vector<Parameter>& parameters, const Request& request) {
  // A named reference, not a structured binding: clang 14 (the fuzz build) cannot capture one.
  for (const auto& entry : request.query) {
    const std::string& name = entry.first;
    if (name.empty()) continue;  // "?&" holds no parameter
    if (std::none_of(parameters.begin(), parameters.end(), [&name](const Parameter& p) {
          return p.in == Parameter::In::kQuery && p.name == name;
        })) {
      RefuseUnknown(parameters, name);
    }
  }
  for (const auto& parameter : parameters) {
    const auto& values = parameter.in == Parameter::In::kPath ? request.params : request.query;
    const auto found = values.find(parameter.name);
    if (found == values.end()) {
      if (parameter.required) Refuse(parameter.name, Where(parameter) + " is required");
      continue;
    }
    if (const auto complaint = Complaint(parameter, found->second); !complaint.empty()) {
      Refuse(parameter.name, Where(parameter) + " " + complaint);
    }
  }
}

nlohmann::json DescribeParameter(const Parameter& parameter) {
  nlohmann::json schema = nlohmann::json::object();
  if (!parameter.ref.empty()) {
    schema["$ref"] = parameter.ref;
  } else if (parameter.type == Parameter::Type::kInteger) {
    schema["type"] = "integer";
    if (parameter.minimum) schema["minimum"] = *parameter.minimum;
    if (parameter.maximum) schema["maximum"] = *parameter.maximum;
    if (!parameter.default_value.empty()) {
      schema["default"] = *ParseInteger(parameter.default_value);
    }
  } else {
    schema["type"] = "string";
    if (!parameter.values.empty()) schema["enum"] = parameter.values;
    if (parameter.min_length) schema["minLength"] = *parameter.min_length;
    if (parameter.max_length) schema["maxLength"] = *parameter.max_length;
    if (!parameter.pattern.empty()) schema["pattern"] = parameter.pattern;
    if (!parameter.default_value.empty()) schema["default"] = parameter.default_value;
  }
  nlohmann::json out = {
      {"name", parameter.name},
      {"in", parameter.in == Parameter::In::kPath ? "path" : "query"},
  };
  if (parameter.required) out["required"] = true;
  out["schema"] = std::move(schema);
  return out;
}

}  // namespace jilaf::http
