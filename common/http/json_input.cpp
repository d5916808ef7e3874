#include "common/http/json_input.hpp"

#include "common/util/iso3166.hpp"
#include "common/util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace jilaf::http {
namespace {

// Thrown from the parser callback to stop parsing as soon as a limit is crossed.
struct LimitExceeded {
  std::string message;
};

std::string EscapePointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::number_float:
      return "a fractional number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    default:
      return "an unsupported value";
  }
}

// The body a describing reader is built on: its address, not its content, marks the mode.
const nlohmann::json& DescribePlaceholder() {
  static const nlohmann::json placeholder = nlohmann::json::object();
  return placeholder;
}

// The schema DescribeBody is filling on this thread (null when none is).
thread_local nlohmann::json* describing_root = nullptr;

nlohmann::json StringSchema(std::size_t min_len, std::size_t max_len) {
  nlohmann::json schema = {{"type", "string"}, {"maxLength", max_len}};
  if (min_len > 0) schema["minLength"] = min_len;
  return schema;
}

nlohmann::json EnumSchema(const std::vector<std::string_view>& allowed) {
  nlohmann::json values = nlohmann::json::array();
  for (auto option : allowed) values.push_back(std::string(option));
  return {{"enum", std::move(values)}};
}

nlohmann::json DateSchema() {
  return {{"type", "string"}, {"format", "date"}, {"pattern", std::string(kDatePattern)}};
}

nlohmann::json TextSchema(const TextRule& rule) {
  auto schema = StringSchema(rule.min_len, rule.max_len);
  schema["pattern"] = std::string(rule.pattern);
  if (!rule.format.empty()) schema["format"] = std::string(rule.format);
  return schema;
}

const nlohmann::json kCountrySchema = {{"$ref", "#/components/schemas/CountryCode"}};
const nlohmann::json kEmailSchema = {{"type", "string"}, {"format", "email"}, {"maxLength", 254}};

}  // namespace

const std::string_view kDatePattern =
    "^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|"
    "[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|((19|[2-9][0-9])(0[48]|[2468][048]|[13579][26])|(["
    "2468][048]|[3579][26])00)-02-29)$";

nlohmann::json DescribeBody(const std::function<void(const nlohmann::json&)>& read) {
  nlohmann::json schema = {{"type", "object"},
                           {"properties", nlohmann::json::object()},
                           {"additionalProperties", false}};
  describing_root = &schema;
  try {
    read(DescribePlaceholder());
  } catch (...) {
    describing_root = nullptr;
    throw;
  }
  describing_root = nullptr;
  return schema;
}

nlohmann::json MergePatchSchema(const nlohmann::json& schema) {
  if (!schema.contains("properties")) return schema;
  nlohmann::json out = schema;
  out.erase("required");
  const auto required = schema.value("required", nlohmann::json::array());
  for (auto& [key, member] : out["properties"].items()) {
    if (member.contains("x-read-by-hand")) continue;
    member = MergePatchSchema(member);
    if (std::find(required.begin(), required.end(), key) == required.end()) {
      member = {{"anyOf", {member, {{"type", "null"}}}}};
    }
  }
  return out;
}

nlohmann::json DescribeContract(const BodyContract& contract) {
  auto schema = DescribeBody(contract.read);
  if (!contract.members.empty()) {
    auto& properties = schema["properties"];
    for (auto it = properties.begin(); it != properties.end();) {
      const bool kept = std::find(contract.members.begin(), contract.members.end(), it.key()) !=
                        contract.members.end();
      it = kept ? std::next(it) : properties.erase(it);
    }
    auto& required = schema["required"];
    required.erase(std::remove_if(required.begin(), required.end(),
                                  [&](const nlohmann::json& name) {
                                    return !properties.contains(name.get<std::string>());
                                  }),
                   required.end());
  }
  return contract.merge_patch ? MergePatchSchema(schema) : schema;
}

nlohmann::json ParseJson(std::string_view text, const JsonLimits& limits) {
  auto callback = [&limits](int depth, nlohmann::json::parse_event_t event,
                            nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) &&
        static_cast<std::size_t>(depth) >= limits.max_depth) {
      throw LimitExceeded{"JSON nesting deeper than " + std::to_string(limits.max_depth) +
                          " levels"};
    }
    if (event == Event::value && parsed.is_string() &&
        parsed.get_ref<const std::string&>().size() > limits.max_string_bytes) {
      throw LimitExceeded{"a JSON string is longer than " +
                          std::to_string(limits.max_string_bytes) + " bytes"};
    }
    if (event == Event::array_end && parsed.size() > limits.max_array_items) {
      throw LimitExceeded{"a JSON array has more than " + std::to_string(limits.max_array_items) +
                          " items"};
    }
    if (event == Event::object_end && parsed.size() > limits.max_object_members) {
      throw LimitExceeded{"a JSON object has more than " +
                          std::to_string(limits.max_object_members) + " members"};
    }
    if (event == Event::key && parsed.get_ref<const std::string&>().size() > 200) {
      throw LimitExceeded{"a JSON object key is longer than 200 bytes"};
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                                 /*ignore_comments=*/false);
  } catch (const LimitExceeded& limit) {
    throw ApiError::BadRequest("request body rejected: " + limit.message);
  } catch (const nlohmann::json::parse_error& error) {
    std::string detail = "malformed JSON at byte " + std::to_string(error.byte);
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error while parsing object - ..."; keep only the human part after the last colon.
    const std::string what = error.what();
    const auto colon = what.find(": ");
    if (colon != std::string::npos) detail += ": " + what.substr(colon + 2);
    throw ApiError::BadRequest(detail);
  } catch (const nlohmann::json::exception&) {
    // out_of_range for a number beyond double (`1e999`): bad input, not a server failure. Its
    // message quotes the number, so it is not passed on.
    throw ApiError::BadRequest("malformed JSON: a number is out of range");
  }
}

nlohmann::json ParseJsonBody(const Request& request, const JsonLimits& limits) {
  const std::string_view content_type = request.Header("content-type");
  const auto semicolon = content_type.find(';');
  std::string media(content_type.substr(0, semicolon));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media != "application/json") {
    throw ApiError::UnsupportedMediaType("the request body must be application/json, got '" +
                                         std::string(content_type) + "'");
  }
  if (request.body.empty()) throw ApiError::BadRequest("the request body is empty");
  return ParseJson(request.body, limits);
}

std::size_t CharacterCount(std::string_view text) {
  // ParseJson has checked the UTF-8: every byte that does not continue a sequence starts one.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

bool IsIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const int month = std::stoi(std::string(text.substr(5, 2)));
  const int day = std::stoi(std::string(text.substr(8, 2)));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = kDays[month - 1] + ((month == 2 && leap) ? 1 : 0);
  return day <= max_day;
}

ObjectReader::ObjectReader(const nlohmann::json& value, std::string pointer)
    : ObjectReader(value, std::move(pointer), std::make_shared<std::vector<FieldError>>(),
                   &value == &DescribePlaceholder() ? describing_root : nullptr) {}

ObjectReader::ObjectReader(const nlohmann::json& value, std::string pointer,
                           std::shared_ptr<std::vector<FieldError>> errors, nlohmann::json* schema)
    : value_(&value), pointer_(std::move(pointer)), errors_(std::move(errors)), schema_(schema) {
  if (schema_ != nullptr) {
    (*schema_)["type"] = "object";
    (*schema_)["additionalProperties"] = false;
    if (!schema_->contains("properties")) (*schema_)["properties"] = nlohmann::json::object();
    return;
  }
  if (!value.is_object()) {
    errors_->push_back({pointer_, std::string("expected an object, got ") + TypeName(value)});
  }
}

std::string ObjectReader::PointerTo(const std::string& key) const {
  return pointer_ + "/" + EscapePointerToken(key);
}

bool ObjectReader::Declare(const std::string& key, bool required, nlohmann::json schema) {
  if (schema_ == nullptr) return false;
  known_.insert(key);
  (*schema_)["properties"][key] = std::move(schema);
  if (required) {
    auto& list = (*schema_)["required"];
    if (std::find(list.begin(), list.end(), key) == list.end()) list.push_back(key);
  }
  return true;
}

void ObjectReader::Forbid(const std::string& key, std::string message) {
  if (schema_ != nullptr) {
    known_.insert(key);
    (*schema_)["properties"].erase(key);
    return;
  }
  if (Take(key, false, "") != nullptr) AddError(key, std::move(message));
}

void ObjectReader::AddError(const std::string& key, std::string message) {
  if (schema_ != nullptr) return;
  errors_->push_back({PointerTo(key), std::move(message)});
}

void ObjectReader::AddErrorBelow(const std::string& key, const std::string& sub_pointer,
                                 std::string message) {
  if (schema_ != nullptr) return;
  errors_->push_back({PointerTo(key) + sub_pointer, std::move(message)});
}

const nlohmann::json* ObjectReader::Take(const std::string& key, bool required,
                                         const char* expected) {
  known_.insert(key);
  if (!value_->is_object()) return nullptr;
  const auto it = value_->find(key);
  if (it == value_->end()) {
    if (required) AddError(key, std::string("is required (") + expected + ")");
    return nullptr;
  }
  if (it->is_null()) {
    // No request schema declares a member nullable: null is refused like any other wrong type,
    // so that what the OpenAPI documents call invalid is invalid here too.
    AddError(key, required ? std::string("is required (") + expected + ")"
                           : std::string("must not be null; leave the member out instead"));
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> ObjectReader::OptionalString(const std::string& key,
                                                        std::size_t max_len) {
  if (Declare(key, false, StringSchema(0, max_len))) return std::nullopt;
  const auto* value = Take(key, false, "a string");
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    AddError(key, std::string("expected a string, got ") + TypeName(*value));
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if (CharacterCount(text) > max_len) {
    AddError(key, "must be at most " + std::to_string(max_len) + " characters long");
    return std::nullopt;
  }
  return text;
}

std::string ObjectReader::RequiredString(const std::string& key, std::size_t min_len,
                                         std::size_t max_len) {
  if (Declare(key, true, StringSchema(min_len, max_len))) return {};
  const auto* value = Take(key, true, "a string");
  if (value == nullptr) return {};
  if (!value->is_string()) {
    AddError(key, std::string("expected a string, got ") + TypeName(*value));
    return {};
  }
  const auto& text = value->get_ref<const std::string&>();
  const auto length = CharacterCount(text);
  if (length < min_len) {
    AddError(key, min_len == 1
                      ? std::string("must not be empty")
                      : "must be at least " + std::to_string(min_len) + " characters long");
  } else if (length > max_len) {
    AddError(key, "must be at most " + std::to_string(max_len) + " characters long");
  }
  return text;
}

std::optional<std::string> ObjectReader::OptionalEnum(
    const std::string& key, const std::vector<std::string_view>& allowed) {
  if (Declare(key, false, EnumSchema(allowed))) return std::nullopt;
  auto text = OptionalString(key, 100);
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
    std::string list;
    for (auto option : allowed) list += (list.empty() ? "" : ", ") + std::string(option);
    AddError(key, "must be one of: " + list);
    return std::nullopt;
  }
  return text;
}

std::string ObjectReader::RequiredEnum(const std::string& key,
                                       const std::vector<std::string_view>& allowed) {
  if (Declare(key, true, EnumSchema(allowed))) return {};
  if (Take(key, true, "a string") == nullptr) return {};
  return OptionalEnum(key, allowed).value_or("");
}

std::optional<std::int64_t> ObjectReader::OptionalInt(const std::string& key, std::int64_t min,
                                                      std::int64_t max) {
  if (Declare(key, false, {{"type", "integer"}, {"minimum", min}, {"maximum", max}})) {
    return std::nullopt;
  }
  const auto* value = Take(key, false, "an integer");
  if (value == nullptr) return std::nullopt;
  // JSON Schema calls 3.0 an integer (a number with a zero fractional part), and so do we.
  if (value->is_number_float()) {
    const double number = value->get<double>();
    // Below 2^63 in magnitude, so that the conversion is defined whatever min and max are.
    constexpr double kLimit = 9.0e18;
    if (std::trunc(number) == number && std::fabs(number) < kLimit &&
        static_cast<std::int64_t>(number) >= min && static_cast<std::int64_t>(number) <= max) {
      return static_cast<std::int64_t>(number);
    }
    if (std::trunc(number) == number) {
      AddError(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
  }
  if (!value->is_number_integer()) {
    AddError(key, std::string("expected an integer, got ") + TypeName(*value));
    return std::nullopt;
  }
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    AddError(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  const auto number = value->get<std::int64_t>();
  if (number < min || number > max) {
    AddError(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

std::int64_t ObjectReader::RequiredInt(const std::string& key, std::int64_t min, std::int64_t max) {
  if (Declare(key, true, {{"type", "integer"}, {"minimum", min}, {"maximum", max}})) return 0;
  if (Take(key, true, "an integer") == nullptr) return 0;
  return OptionalInt(key, min, max).value_or(0);
}

std::optional<bool> ObjectReader::OptionalBool(const std::string& key) {
  if (Declare(key, false, {{"type", "boolean"}})) return std::nullopt;
  const auto* value = Take(key, false, "a boolean");
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    AddError(key, std::string("expected a boolean, got ") + TypeName(*value));
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<std::string> ObjectReader::OptionalDate(const std::string& key) {
  if (Declare(key, false, DateSchema())) return std::nullopt;
  auto text = OptionalString(key, 10);
  if (!text) return std::nullopt;
  if (!IsIsoDate(*text)) {
    AddError(key, "expected a calendar date YYYY-MM-DD");
    return std::nullopt;
  }
  return text;
}

std::string ObjectReader::RequiredDate(const std::string& key) {
  if (Declare(key, true, DateSchema())) return {};
  if (Take(key, true, "a date YYYY-MM-DD") == nullptr) return {};
  return OptionalDate(key).value_or("");
}

std::optional<std::string> ObjectReader::OptionalDate(const std::string& key,
                                                      const DateRange& range) {
  auto schema = DateSchema();
  schema["pattern"] = std::string(range.pattern);
  if (Declare(key, false, std::move(schema))) return std::nullopt;
  auto date = OptionalDate(key);
  if (date && (*date < range.first || *date > range.last)) {
    AddError(key, std::string(range.message));
    return std::nullopt;
  }
  return date;
}

std::string ObjectReader::RequiredDate(const std::string& key, const DateRange& range) {
  auto schema = DateSchema();
  schema["pattern"] = std::string(range.pattern);
  if (Declare(key, true, std::move(schema))) return {};
  auto date = RequiredDate(key);
  if (!date.empty() && (date < range.first || date > range.last)) {
    AddError(key, std::string(range.message));
  }
  return date;
}

std::string ObjectReader::RequiredCountry(const std::string& key) {
  if (Declare(key, true, kCountrySchema)) return {};
  if (Take(key, true, "an ISO 3166-1 alpha-2 code") == nullptr) return {};
  auto text = OptionalString(key, 2);
  if (!text) return {};
  if (!util::IsIso3166Alpha2(*text)) {
    AddError(key, "is not an assigned ISO 3166-1 alpha-2 country code (such as \"JP\")");
    return {};
  }
  return *text;
}

std::optional<std::string> ObjectReader::OptionalEmail(const std::string& key) {
  if (Declare(key, false, kEmailSchema)) return std::nullopt;
  auto text = OptionalString(key, 254);
  if (!text) return std::nullopt;
  if (!util::IsEmailAddress(*text)) {
    AddError(key,
             "expected an email address such as name@example.org (no spaces, angle brackets or "
             "line breaks)");
    return std::nullopt;
  }
  return text;
}

std::string ObjectReader::RequiredEmail(const std::string& key) {
  if (Declare(key, true, kEmailSchema)) return {};
  if (Take(key, true, "an email address") == nullptr) return {};
  return OptionalEmail(key).value_or("");
}

std::vector<std::string> ObjectReader::StringArray(const std::string& key, bool required,
                                                   std::size_t max_items, std::size_t max_len) {
  std::vector<std::string> out;
  if (Declare(key, required,
              {{"type", "array"}, {"items", StringSchema(1, max_len)}, {"maxItems", max_items}})) {
    return out;
  }
  const auto* value = Take(key, required, "an array of strings");
  if (value == nullptr) return out;
  if (!value->is_array()) {
    AddError(key, std::string("expected an array of strings, got ") + TypeName(*value));
    return out;
  }
  if (value->size() > max_items) {
    AddError(key, "must have at most " + std::to_string(max_items) + " items");
    return out;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) {
      errors_->push_back({PointerTo(key) + "/" + std::to_string(i),
                          std::string("expected a string, got ") + TypeName(item)});
    } else if (item.get_ref<const std::string&>().empty() ||
               CharacterCount(item.get_ref<const std::string&>()) > max_len) {
      errors_->push_back({PointerTo(key) + "/" + std::to_string(i),
                          "must be 1 to " + std::to_string(max_len) + " characters long"});
    } else {
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

std::optional<ObjectReader> ObjectReader::Object(const std::string& key, bool required) {
  if (Declare(key, required, nlohmann::json::object())) {
    return ObjectReader(DescribePlaceholder(), PointerTo(key), errors_,
                        &(*schema_)["properties"][key]);
  }
  const auto* value = Take(key, required, "an object");
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) {
    AddError(key, std::string("expected an object, got ") + TypeName(*value));
    return std::nullopt;
  }
  return ObjectReader(*value, PointerTo(key), errors_);
}

std::vector<ObjectReader> ObjectReader::ObjectArray(const std::string& key, bool required,
                                                    std::size_t max_items) {
  std::vector<ObjectReader> out;
  if (Declare(key, required, {{"type", "array"}, {"maxItems", max_items}})) {
    out.push_back(ObjectReader(DescribePlaceholder(), PointerTo(key) + "/0", errors_,
                               &(*schema_)["properties"][key]["items"]));
    return out;
  }
  const auto* value = Take(key, required, "an array");
  if (value == nullptr) return out;
  if (!value->is_array()) {
    AddError(key, std::string("expected an array, got ") + TypeName(*value));
    return out;
  }
  if (value->size() > max_items) {
    AddError(key, "at most " + std::to_string(max_items) + " items");
    return out;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    out.push_back(ObjectReader((*value)[i], PointerTo(key) + "/" + std::to_string(i), errors_));
  }
  return out;
}

const nlohmann::json* ObjectReader::Raw(const std::string& key, bool required) {
  // The schema of a member read by hand stays the document's: marked here, kept by the generator.
  if (schema_ != nullptr) {
    // A member a getter has described already keeps that description.
    if (!(*schema_)["properties"].contains(key)) Declare(key, required, {{"x-read-by-hand", true}});
    return &DescribePlaceholder();
  }
  return Take(key, false, "");
}

void ObjectReader::Describe(const std::string& key, nlohmann::json schema, bool required) {
  Declare(key, required, std::move(schema));
}

void ObjectReader::Refine(const std::string& key, const nlohmann::json& keywords) {
  if (schema_ != nullptr) (*schema_)["properties"][key].update(keywords);
}

std::optional<std::string> ObjectReader::OptionalText(const std::string& key,
                                                      const TextRule& rule) {
  if (Declare(key, false, TextSchema(rule))) return std::nullopt;
  auto text = OptionalString(key, std::numeric_limits<std::size_t>::max());
  if (!text) return std::nullopt;
  const auto length = CharacterCount(*text);
  if (length < rule.min_len || length > rule.max_len || !rule.accepts(*text)) {
    AddError(key, "expected " + std::string(rule.expected));
    return std::nullopt;
  }
  return text;
}

std::string ObjectReader::RequiredText(const std::string& key, const TextRule& rule) {
  if (Declare(key, true, TextSchema(rule))) return {};
  if (Take(key, true, "a string") == nullptr) return {};
  return OptionalText(key, rule).value_or("");
}

void ObjectReader::RejectUnknownFields() {
  if (schema_ != nullptr || !value_->is_object()) return;
  for (const auto& [key, member] : value_->items()) {
    if (known_.count(key) == 0) AddError(key, "unknown field");
  }
}

void ObjectReader::Finish() {
  if (schema_ != nullptr) return;
  RejectUnknownFields();
  if (!errors_->empty()) throw ApiError::Validation(*errors_);
}

}  // namespace jilaf::http
