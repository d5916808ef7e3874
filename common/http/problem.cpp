#include "common/http/problem.hpp"

#include "common/domain/error.hpp"

#include "common/log/log.hpp"
#include "common/store/sqlite.hpp"

namespace jilaf::http {

ApiError::ApiError(int status, std::string slug, std::string title, std::string detail)
    : status_(status),
      slug_(std::move(slug)),
      title_(std::move(title)),
      detail_(std::move(detail)) {}

ApiError ApiError::BadRequest(std::string detail) {
  return ApiError(400, "bad-request", "Bad request", std::move(detail));
}

ApiError ApiError::Validation(std::vector<FieldError> errors) {
  std::string detail;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& error : errors) {
    if (!detail.empty()) detail += "; ";
    detail += (error.field.empty() ? std::string("body") : error.field) + ": " + error.message;
    list.push_back({{"field", error.field}, {"message", error.message}});
  }
  ApiError result(422, "validation", "Request failed validation", std::move(detail));
  result.With("errors", std::move(list));
  return result;
}

ApiError ApiError::Unauthorized(std::string detail) {
  ApiError error(401, "unauthorized", "Authentication required", std::move(detail));
  error.WithHeader("WWW-Authenticate", "Bearer realm=\"jilaf\"");
  return error;
}

ApiError ApiError::Forbidden(std::string detail) {
  return ApiError(403, "forbidden", "Not allowed", std::move(detail));
}

ApiError ApiError::NotFound(std::string detail) {
  return ApiError(404, "not-found", "Not found", std::move(detail));
}

ApiError ApiError::MethodNotAllowed(std::string allow) {
  ApiError error(405, "method-not-allowed", "Method not allowed",
                 "this resource supports " + allow);
  error.WithHeader("Allow", std::move(allow));
  return error;
}

ApiError ApiError::Conflict(std::string detail) {
  return ApiError(409, "conflict", "Conflict", std::move(detail));
}

ApiError ApiError::PreconditionFailed(std::string detail) {
  return ApiError(412, "precondition-failed", "Precondition failed", std::move(detail));
}

ApiError ApiError::PreconditionRequired(std::string detail) {
  return ApiError(428, "precondition-required", "Precondition required", std::move(detail));
}

ApiError ApiError::PayloadTooLarge(std::string detail) {
  return ApiError(413, "payload-too-large", "Payload too large", std::move(detail));
}

ApiError ApiError::UnsupportedMediaType(std::string detail) {
  return ApiError(415, "unsupported-media-type", "Unsupported media type", std::move(detail));
}

ApiError ApiError::HeadersTooLarge(std::string detail) {
  return ApiError(431, "headers-too-large", "Request header fields too large", std::move(detail));
}

ApiError ApiError::ServiceUnavailable(std::string detail) {
  return ApiError(503, "unavailable", "Service unavailable", std::move(detail));
}

ApiError& ApiError::With(const std::string& key, nlohmann::json value) {
  extensions_[key] = std::move(value);
  return *this;
}

ApiError& ApiError::WithHeader(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

ApiError& ApiError::Internal(std::string text) {
  internal_ = std::move(text);
  return *this;
}

std::string ProblemType(const std::string& slug) { return "/problems/" + slug; }

Response ProblemResponse(const ApiError& error, const std::string& instance,
                         const std::string& request_id) {
  nlohmann::json body = error.extensions_;
  body["type"] = ProblemType(error.slug_);
  body["title"] = error.title_;
  body["status"] = error.status_;
  body["detail"] = error.detail_;
  if (!instance.empty()) body["instance"] = instance;
  if (!request_id.empty()) body["request_id"] = request_id;
  Response response = Response::Json(error.status_, body);
  response.SetHeader("Content-Type", "application/problem+json");
  for (const auto& [name, value] : error.headers_) response.SetHeader(name, value);
  return response;
}

ApiError ToApiError(const domain::Error& error) {
  using Kind = domain::Error::Kind;
  ApiError out(500, "internal", "Internal error", error.detail());
  switch (error.kind()) {
    case Kind::kInvalid: {
      std::vector<FieldError> fields;
      for (const auto& field : error.fields()) fields.push_back({field.pointer, field.message});
      out = ApiError::Validation(std::move(fields));
      break;
    }
    case Kind::kNotFound:
      out = ApiError(404, error.slug(), error.title(), error.detail());
      break;
    case Kind::kConflict:
      out = ApiError(409, error.slug(), error.title(), error.detail());
      break;
    case Kind::kStale:
      out = ApiError(412, error.slug(), error.title(), error.detail());
      break;
  }
  for (const auto& [key, value] : error.extensions().items()) out.With(key, value);
  return out;
}

Response ResponseForException(std::exception_ptr error, const Request& request) {
  try {
    std::rethrow_exception(error);
  } catch (const domain::Error& domain_error) {
    return ProblemResponse(ToApiError(domain_error), request.path, request.request_id);
  } catch (const ApiError& api_error) {
    if (!api_error.internal().empty()) {
      log::Warn("request rejected", {{"request_id", request.request_id},
                                     {"status", api_error.status()},
                                     {"internal", api_error.internal()}});
    }
    return ProblemResponse(api_error, request.path, request.request_id);
  } catch (const store::StoreError& store_error) {
    if (store_error.Transient()) {  // the database is busy, full, restarting or unreachable
      log::Warn("store unavailable", {{"request_id", request.request_id},
                                      {"path", request.path},
                                      {"error", store_error.what()}});
      return ProblemResponse(ApiError::ServiceUnavailable("the store is unavailable; retry shortly")
                                 .WithHeader("Retry-After", "1"),
                             request.path, request.request_id);
    }
    log::Error("store error", {{"request_id", request.request_id},
                               {"path", request.path},
                               {"error", store_error.what()}});
  } catch (const std::exception& unexpected) {
    log::Error(
        "unhandled exception",
        {{"request_id", request.request_id}, {"path", request.path}, {"error", unexpected.what()}});
  } catch (...) {
    log::Error("unhandled non-standard exception",
               {{"request_id", request.request_id}, {"path", request.path}});
  }
  return ProblemResponse(ApiError(500, "internal", "Internal error",
                                  "the server failed to handle the request; quote the request id "
                                  "when reporting it"),
                         request.path, request.request_id);
}

}  // namespace jilaf::http
