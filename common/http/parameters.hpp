#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.hpp"

// The query and path parameters of each operation, declared once as a table in C++: the pipeline
// checks every request against its route's table before the handler runs (400 naming the
// parameter), and tools/request_schemas_main.cpp turns the same tables into the `parameters` of
// the OpenAPI documents, so what a document says and what the server enforces cannot drift.
namespace jilaf::http {

/// One query or path parameter and the values it accepts.
struct Parameter {
  enum class In { kQuery, kPath };
  enum class Type { kString, kInteger };

  In in = In::kQuery;
  std::string name;
  bool required = false;  // always true for a path parameter
  Type type = Type::kString;
  std::optional<std::int64_t> minimum;      // kInteger
  std::optional<std::int64_t> maximum;      // kInteger
  std::optional<std::size_t> min_length;    // kString, in characters (code points)
  std::optional<std::size_t> max_length;    // kString, in characters (code points)
  std::string pattern;                      // kString, ECMAScript, as the document states it
  std::shared_ptr<const std::regex> regex;  // `pattern` compiled once
  std::vector<std::string> values;          // kString: the only values accepted (`enum`)
  std::string default_value;                // as the handler applies it when absent
  /// A shared schema of the document (e.g. "#/components/schemas/CountryCode") that `check`
  /// enforces; `expected` says what in the error.
  std::string ref;
  std::function<bool(std::string_view)> check;
  std::string expected;
};

/// The parameters of one operation, `method` and `path` as the route is registered.
struct Operation {
  Method method = Method::kGet;
  std::string path;
  std::vector<Parameter> parameters;
};

/// A query parameter holding any text.
[[nodiscard]] Parameter QueryText(std::string name);
/// A query parameter that must be given, holding at least one character.
[[nodiscard]] Parameter RequiredText(std::string name);
/// A query parameter holding a decimal integer within [min, max].
[[nodiscard]] Parameter QueryInteger(std::string name, std::int64_t min, std::int64_t max,
                                     std::optional<std::int64_t> default_value = std::nullopt);
/// A query parameter holding one of `values`.
[[nodiscard]] Parameter QueryEnum(std::string name, std::vector<std::string> values,
                                  std::string default_value = {});
/// A query parameter matching `pattern` (ECMAScript, anchored by the pattern itself).
[[nodiscard]] Parameter QueryPattern(std::string name, std::string pattern);
/// A query parameter holding an assigned ISO 3166-1 alpha-2 code (the document's CountryCode).
[[nodiscard]] Parameter CountryFilter(std::string name);
/// `page_size`: 1..max, `default_size` when absent.
[[nodiscard]] Parameter PageSize(std::int64_t max = 200, std::int64_t default_size = 50);
/// `page_token`: opaque to clients (the list checks it is one of its own).
[[nodiscard]] Parameter PageToken();
/// `q`: the search words of aggregate/search.hpp.
[[nodiscard]] Parameter SearchQuery();
/// `format`: json or csv (a Router::Tabular list).
[[nodiscard]] Parameter Format();
/// `page_size`, `page_token` and `format`: what every list of Router::Tabular reads.
[[nodiscard]] std::vector<Parameter> ListParameters(std::int64_t max_page_size = 200);
/// A path parameter holding any text (the default of every `{name}` of a route).
[[nodiscard]] Parameter PathText(std::string name);
/// A path parameter holding a decimal integer within [min, max].
[[nodiscard]] Parameter PathInteger(std::string name, std::int64_t min, std::int64_t max);
/// A path parameter holding one of `values`.
[[nodiscard]] Parameter PathEnum(std::string name, std::vector<std::string> values);
/// A path parameter matching `pattern`.
[[nodiscard]] Parameter PathPattern(std::string name, std::string pattern);

/// `parameters` with a PathText for each `{name}` of `path` they do not declare, path
/// parameters first in the order of the path. Throws std::logic_error when a declared path
/// parameter is not in `path`, or a name is declared twice.
[[nodiscard]] std::vector<Parameter> Complete(const std::string& path,
                                              std::vector<Parameter> parameters);

/// Checks the request's query and path parameters against `parameters` (Complete): a query
/// parameter not declared, a required one missing or a value outside its declaration is 400
/// naming the parameter (`field`).
void CheckParameters(const std::vector<Parameter>& parameters, const Request& request);

/// The OpenAPI 3.1 parameter object of `parameter`: name, in, required when it is, schema.
[[nodiscard]] nlohmann::json DescribeParameter(const Parameter& parameter);

}  // namespace jilaf::http
