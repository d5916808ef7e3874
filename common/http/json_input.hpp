#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
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

/// A text rule whose check is code and whose JSON Schema is a pattern, kept side by side so that
/// one constant states both (a unit test holds each pattern to its check at the edges).
struct TextRule {
  std::string_view pattern;           ///< ECMA-262 regular expression, anchored
  bool (*accepts)(std::string_view);  ///< the check the reader applies
  std::string_view expected;          ///< what the error message says was expected
  std::size_t min_len = 1;
  std::size_t max_len = 500;
  std::string_view format = {};  ///< a JSON Schema format, when one applies
};

/// A calendar date "YYYY-MM-DD" from 1900 on (IsIsoDate), as a pattern.
extern const std::string_view kDatePattern;

/// Calendar dates from `first` to `last` (inclusive): the check, its message and its pattern
/// (which also requires a calendar date, as kDatePattern does).
struct DateRange {
  std::string_view first;
  std::string_view last;
  std::string_view pattern;
  std::string_view message;  ///< the complaint about a date outside, e.g. "must fall in ..."
};

/// Reads the fields of a JSON object with field-precise complaints. Lengths count characters
/// (code points), as JSON Schema does; a member that is null is refused, not taken as absent. Every
/// getter records a FieldError instead of throwing, so a client learns about all bad fields at
/// once; Finish() rejects unknown fields and throws ApiError 422 listing every error.
///
/// The same calls also describe what they accept: a reader given DescribeBody()'s placeholder
/// instead of a request body reads nothing and records, getter by getter, the JSON Schema of the
/// members it asks for (type, required, lengths, bounds, enum, pattern, format, nested objects).
/// The OpenAPI documents' request schemas are generated from that (docs/architecture.md), so the
/// validator and the contract have one source.
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
  /// A calendar date within `range`.
  std::string RequiredDate(const std::string& key, const DateRange& range);
  std::optional<std::string> OptionalDate(const std::string& key, const DateRange& range);
  /// An ISO 3166-1 alpha-2 code: two upper-case letters.
  std::string RequiredCountry(const std::string& key);
  /// A plausible email address (one @, no spaces, a dot in the domain).
  std::string RequiredEmail(const std::string& key);
  std::optional<std::string> OptionalEmail(const std::string& key);
  /// A string that `rule` accepts (its lengths, then its check).
  std::string RequiredText(const std::string& key, const TextRule& rule);
  std::optional<std::string> OptionalText(const std::string& key, const TextRule& rule);
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
  /// The raw member, marked as known; nullptr when absent (the caller reports a missing required
  /// one). A describing reader returns an empty object and leaves the member's schema to the
  /// document (the caller reads it by hand), noting `required`.
  const nlohmann::json* Raw(const std::string& key, bool required = false);
  /// For a member whose check is code after its getter (a closed list, a decimal syntax): the
  /// schema that states that check, replacing the getter's (and `required` when the code refuses
  /// its absence). Nothing when reading.
  void Describe(const std::string& key, nlohmann::json schema, bool required = false);
  /// The same, adding `keywords` to the getter's schema (a minimum count checked by hand).
  void Refine(const std::string& key, const nlohmann::json& keywords);

  /// Adds a complaint about a member of this object (ignored by a describing reader).
  void AddError(const std::string& key, std::string message);
  /// A member this body may not hold (one that cannot change, say): an error naming it when
  /// present. Known, so not "unknown field"; a describing reader leaves it out of the schema.
  void Forbid(const std::string& key, std::string message);
  /// Adds a complaint at a pointer below this object's member `key`, e.g. ("recipients", "/0/role")
  /// for an element of an array member.
  void AddErrorBelow(const std::string& key, const std::string& sub_pointer, std::string message);
  /// Records an error for each member nobody asked for (call on nested readers when done).
  void RejectUnknownFields();
  /// RejectUnknownFields(), then throws ApiError::Validation if any error was recorded here or in
  /// a nested reader.
  void Finish();
  [[nodiscard]] bool ok() const { return errors_->empty(); }
  /// True for a reader that describes instead of reading (see DescribeBody).
  [[nodiscard]] bool describing() const { return schema_ != nullptr; }

 private:
  friend nlohmann::json DescribeBody(const std::function<void(const nlohmann::json&)>& read);
  ObjectReader(const nlohmann::json& value, std::string pointer,
               std::shared_ptr<std::vector<FieldError>> errors, nlohmann::json* schema = nullptr);
  const nlohmann::json* Take(const std::string& key, bool required, const char* expected);
  std::string PointerTo(const std::string& key) const;
  // Describing: records `schema` as member `key` (required or not); returns true when describing.
  bool Declare(const std::string& key, bool required, nlohmann::json schema);

  const nlohmann::json* value_;
  std::string pointer_;
  std::set<std::string> known_;
  std::shared_ptr<std::vector<FieldError>> errors_;
  nlohmann::json* schema_ = nullptr;  // the object schema being described; null when reading
};

/// The JSON Schema of what `read` accepts: `read` is called once with a placeholder body, and the
/// ObjectReader it builds on that placeholder records its getters instead of reading. A reader's
/// code past its getters sees empty values and must not fail on them.
nlohmann::json DescribeBody(const std::function<void(const nlohmann::json&)>& read);

/// A request body's schema and where it goes in the service's OpenAPI document.
struct BodyContract {
  std::string pointer;  ///< JSON pointer of the schema in the document, e.g. /components/schemas/X
  std::function<void(const nlohmann::json&)> read;  ///< the reader the handler calls
  /// The body is a JSON merge patch (RFC 7396) of what `read` accepts, read again after merging.
  bool merge_patch = false;
  /// When not empty, the only members the body may hold (a PATCH that corrects some of them).
  std::vector<std::string> members = {};
};

/// The schema of a JSON merge patch of what `schema` describes: every member may be left out,
/// and an optional one may be null (which removes it); nested objects alike.
nlohmann::json MergePatchSchema(const nlohmann::json& schema);

/// The schema of `contract`'s body (DescribeBody, then MergePatchSchema for a merge patch).
nlohmann::json DescribeContract(const BodyContract& contract);

/// Unicode code points in valid UTF-8 text: what JSON Schema's minLength and maxLength count, and
/// so what every length limit of a request counts.
[[nodiscard]] std::size_t CharacterCount(std::string_view text);

/// True for a valid calendar date "YYYY-MM-DD" (leap years included).
[[nodiscard]] bool IsIsoDate(std::string_view text);

}  // namespace jilaf::http
