#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.hpp"
#include "common/http/problem.hpp"

namespace jilaf::http {

/// Bounds applied while parsing untrusted JSON, before any handler sees it.
struct JsonLimits {
  std::size_t max_depth = 16;
  std::size_t max_string_bytes = 16 * 1024;
  std::size_t max_array_items = 1000;
  std::size_t max_object_members = 200;
};

/// Parses text as JSON within the limits. Throws ApiError 400 naming the problem (syntax error
/// with its byte position, nesting too deep, string or array too long).
nlohmann::json ParseJson(std::string_view text, const JsonLimits& limits = {});

/// Checks `Content-Type: application/json` (415 otherwise), then ParseJson on the body.
nlohmann::json ParseJsonBody(const Request& request, const JsonLimits& limits = {});

/// Reads the fields of a JSON object with field-precise complaints. Lengths count characters
/// (code points), as JSON Schema does; a member that is null is refused, not taken as absent. Every
/// getter records a FieldError instead of throwing, so a client learns about all bad fields at
/// once; Finish() rejects unknown fields and throws ApiError 422 listing every error.
class ObjectReader {
 public:
  /// Reads `value`, which must be an object, at JSON pointer `pointer` ("" for the body).
  explicit ObjectReader(const nlohmann::json& value, std::string pointer = "");

  std::string RequiredString(const std::string& key, std::size_t min_len = 1,
                             std::size_t max_len = 500);
  std::optional<std::string> OptionalString(const std::string& key, std::size_t max_len = 500);
  std::string RequiredEnum(const std::string& key, const std::vector<std::string_view>& allowed);
  std::optional<std::string> OptionalEnum(const std::string& key,
                                          const std::vector<std::string_view>& allowed);
  std::int64_t RequiredInt(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> OptionalInt(const std::string& key, std::int64_t min,
                                          std::int64_t max);
  std::optional<bool> OptionalBool(const std::string& key);
  /// A calendar date "YYYY-MM-DD".
  std::string RequiredDate(const std::string& key);
  std::optional<std::string> OptionalDate(const std::string& key);
  /// An ISO 3166-1 alpha-2 code: two upper-case letters.
  std::string RequiredCountry(const std::string& key);
  /// A plausible email address (one @, no spaces, a dot in the domain).
  std::string RequiredEmail(const std::string& key);
  std::optional<std::string> OptionalEmail(const std::string& key);
  /// An array of strings, each 1..max_len long.
  std::vector<std::string> StringArray(const std::string& key, bool required, std::size_t max_items,
                                       std::size_t max_len = 200);
  /// A nested object; nullopt (and an error if required) when absent or not an object.
  std::optional<ObjectReader> Object(const std::string& key, bool required);
  /// An array of objects: one reader per item (pointer `/key/<i>`), sharing this reader's
  /// errors; call RejectUnknownFields() on each when done. Empty (and an error if required, or
  /// if not an array of at most max_items objects) otherwise.
  std::vector<ObjectReader> ObjectArray(const std::string& key, bool required,
                                        std::size_t max_items);
  /// The raw member, marked as known; nullptr when absent.
  const nlohmann::json* Raw(const std::string& key);

  /// Adds a complaint about a member of this object.
  void AddError(const std::string& key, std::string message);
  /// Adds a complaint at a pointer below this object's member `key`, e.g. ("recipients", "/0/role")
  /// for an element of an array member.
  void AddErrorBelow(const std::string& key, const std::string& sub_pointer, std::string message);
  /// Records an error for each member nobody asked for (call on nested readers when done).
  void RejectUnknownFields();
  /// RejectUnknownFields(), then throws ApiError::Validation if any error was recorded here or in
  /// a nested reader.
  void Finish();
  [[nodiscard]] bool ok() const { return errors_->empty(); }

 private:
  ObjectReader(const nlohmann::json& value, std::string pointer,
               std::shared_ptr<std::vector<FieldError>> errors);
  const nlohmann::json* Take(const std::string& key, bool required, const char* expected);
  std::string PointerTo(const std::string& key) const;

  const nlohmann::json* value_;
  std::string pointer_;
  std::set<std::string> known_;
  std::shared_ptr<std::vector<FieldError>> errors_;
};

/// Unicode code points in valid UTF-8 text: what JSON Schema's minLength and maxLength count, and
/// so what every length limit of a request counts.
[[nodiscard]] std::size_t CharacterCount(std::string_view text);

/// True for a valid calendar date "YYYY-MM-DD" (leap years included).
[[nodiscard]] bool IsIsoDate(std::string_view text);

}  // namespace jilaf::http
