#include "common/domain/error.hpp"

namespace jilaf::domain {

Error::Error(Kind kind, std::string slug, std::string title, std::string detail)
    : kind_(kind), slug_(std::move(slug)), title_(std::move(title)), detail_(std::move(detail)) {}

Error Error::NotFound(std::string detail) {
  return {Kind::kNotFound, "not-found", "Not found", std::move(detail)};
}

Error Error::Conflict(std::string detail) {
  return {Kind::kConflict, "conflict", "Conflict", std::move(detail)};
}

Error Error::Invalid(std::vector<Field> fields) {
  Error error(Kind::kInvalid, "validation", "Invalid request body",
              fields.size() == 1 ? fields[0].message
                                 : std::to_string(fields.size()) + " fields are invalid");
  error.fields_ = std::move(fields);
  return error;
}

Error& Error::With(const std::string& key, nlohmann::json value) {
  extensions_[key] = std::move(value);
  return *this;
}

}  // namespace jilaf::domain
