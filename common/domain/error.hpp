#pragma once

#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <vector>

// A broken business rule, said in the domain's words. The domain layer knows nothing of HTTP:
// common/http maps each kind to its status and renders the error as problem+json.
namespace jilaf::domain {

class Error : public std::exception {
 public:
  enum class Kind {
    kNotFound,  // the record named does not exist (404)
    kConflict,  // the record's state forbids it (409)
    kInvalid,   // the input breaks a rule (422), with field-precise complaints
    kStale,     // the record changed since it was read (412)
  };

  struct Field {
    std::string pointer;  // JSON pointer into the request body: "/to"
    std::string message;
  };

  Error(Kind kind, std::string slug, std::string title, std::string detail);

  [[nodiscard]] static Error NotFound(std::string detail);
  [[nodiscard]] static Error Conflict(std::string detail);
  [[nodiscard]] static Error Invalid(std::vector<Field> fields);

  /// Adds a member for the client (an RFC 9457 extension such as `allowed_transitions`).
  Error& With(const std::string& key, nlohmann::json value);

  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] const std::string& slug() const { return slug_; }
  [[nodiscard]] const std::string& title() const { return title_; }
  [[nodiscard]] const std::string& detail() const { return detail_; }
  [[nodiscard]] const std::vector<Field>& fields() const { return fields_; }
  [[nodiscard]] const nlohmann::json& extensions() const { return extensions_; }
  [[nodiscard]] const char* what() const noexcept override { return detail_.c_str(); }

 private:
  Kind kind_;
  std::string slug_;
  std::string title_;
  std::string detail_;
  std::vector<Field> fields_;
  nlohmann::json extensions_ = nlohmann::json::object();
};

}  // namespace jilaf::domain
