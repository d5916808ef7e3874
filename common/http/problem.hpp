#pragma once

#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <vector>

#include "common/http/message.hpp"

namespace jilaf::domain {
class Error;
}

namespace jilaf::http {

/// One field-level complaint: a JSON pointer to the field and what was expected.
struct FieldError {
  std::string field;
  std::string message;
};

/// The one typed error of the request path. Everything a client may see is in here; the
/// internal detail is logged, never sent.
class ApiError : public std::exception {
 public:
  ApiError(int status, std::string slug, std::string title, std::string detail);

  [[nodiscard]] static ApiError BadRequest(std::string detail);
  [[nodiscard]] static ApiError Validation(std::vector<FieldError> errors);
  [[nodiscard]] static ApiError Unauthorized(std::string detail);
  [[nodiscard]] static ApiError Forbidden(std::string detail);
  [[nodiscard]] static ApiError NotFound(std::string detail);
  [[nodiscard]] static ApiError MethodNotAllowed(std::string allow);
  [[nodiscard]] static ApiError Conflict(std::string detail);
  [[nodiscard]] static ApiError PreconditionFailed(std::string detail);
  [[nodiscard]] static ApiError PreconditionRequired(std::string detail);
  [[nodiscard]] static ApiError PayloadTooLarge(std::string detail);
  [[nodiscard]] static ApiError UnsupportedMediaType(std::string detail);
  [[nodiscard]] static ApiError HeadersTooLarge(std::string detail);
  [[nodiscard]] static ApiError ServiceUnavailable(std::string detail);

  /// Adds an RFC 9457 extension member (e.g. `allowed_transitions`).
  ApiError& With(const std::string& key, nlohmann::json value);
  /// Adds a response header (e.g. `Allow`, `WWW-Authenticate`).
  ApiError& WithHeader(std::string name, std::string value);
  /// Text for the log only.
  ApiError& Internal(std::string text);

  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const std::string& slug() const { return slug_; }
  [[nodiscard]] const std::string& title() const { return title_; }
  [[nodiscard]] const std::string& detail() const { return detail_; }
  [[nodiscard]] const nlohmann::json& extensions() const { return extensions_; }
  [[nodiscard]] const std::string& internal() const { return internal_; }
  [[nodiscard]] const char* what() const noexcept override { return detail_.c_str(); }

 private:
  friend Response ProblemResponse(const ApiError&, const std::string&, const std::string&);
  int status_;
  std::string slug_;
  std::string title_;
  std::string detail_;
  nlohmann::json extensions_ = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string internal_;
};

/// The HTTP face of a broken domain rule: not found 404, conflict 409, invalid 422 (with the
/// field list), stale 412; its extension members are kept.
ApiError ToApiError(const domain::Error& error);

/// The problem type URI for a slug: `/problems/<slug>`, documented in docs/api.md.
std::string ProblemType(const std::string& slug);

/// Renders the error as `application/problem+json`, with `instance` and `request_id`.
Response ProblemResponse(const ApiError& error, const std::string& instance,
                         const std::string& request_id);

/// Maps any exception to a response: ApiError as itself, domain::Error through ToApiError;
/// everything else is logged with the request id and answered with a generic 500.
Response ResponseForException(std::exception_ptr error, const Request& request);

}  // namespace jilaf::http
