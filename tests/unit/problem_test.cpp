#include "common/http/problem.hpp"

#include <gtest/gtest.h>

#include "common/store/postgres.hpp"

namespace jilaf::http {
namespace {

Request SampleRequest() {
  Request request;
  request.path = "/v1/programmes/42";
  request.request_id = "req-1";
  return request;
}

TEST(ProblemMapping, ApiErrorBecomesProblemJson) {
  const auto response = ResponseForException(
      std::make_exception_ptr(ApiError::Conflict("seats are full").With("limit", "seats")),
      SampleRequest());
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "/problems/conflict");
  EXPECT_EQ(body["title"], "Conflict");
  EXPECT_EQ(body["status"], 409);
  EXPECT_EQ(body["detail"], "seats are full");
  EXPECT_EQ(body["instance"], "/v1/programmes/42");
  EXPECT_EQ(body["request_id"], "req-1");
  EXPECT_EQ(body["limit"], "seats");
}

TEST(ProblemMapping, UnexpectedExceptionBecomesGeneric500WithoutInternals) {
  const auto response = ResponseForException(
      std::make_exception_ptr(std::runtime_error("sqlite: disk I/O error at /var/secret.db")),
      SampleRequest());
  EXPECT_EQ(response.status, 500);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "/problems/internal");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_EQ(body["request_id"], "req-1");
}

// A store that cannot work for now (PostgreSQL down, SQLite busy) is a 503 to retry, without the
// store's own message; a store error that is not transient stays a generic 500.
TEST(ProblemMapping, ATransientStoreErrorIs503WithRetryAfter) {
  const auto down = ResponseForException(
      std::make_exception_ptr(store::pg::PgError("08006", "server closed the connection db-host")),
      SampleRequest());
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.Header("Retry-After"), "1");
  EXPECT_EQ(down.Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(down.body)["type"], "/problems/unavailable");
  EXPECT_EQ(down.body.find("db-host"), std::string::npos);
  const auto busy = ResponseForException(
      std::make_exception_ptr(store::StoreError(5 /* SQLITE_BUSY */, "database is locked")),
      SampleRequest());
  EXPECT_EQ(busy.status, 503);
  const auto broken = ResponseForException(
      std::make_exception_ptr(store::pg::PgError("42601", "syntax error")), SampleRequest());
  EXPECT_EQ(broken.status, 500);
  EXPECT_TRUE(broken.Header("Retry-After").empty());
}

TEST(ProblemMapping, InternalDetailIsNotSent) {
  const auto response = ResponseForException(
      std::make_exception_ptr(ApiError::Unauthorized("invalid token").Internal("bad aud xyz")),
      SampleRequest());
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body.find("xyz"), std::string::npos);
  EXPECT_EQ(response.Header("WWW-Authenticate"), "Bearer realm=\"jilaf\"");
}

TEST(ProblemMapping, MethodNotAllowedCarriesAllowHeader) {
  const auto response = ResponseForException(
      std::make_exception_ptr(ApiError::MethodNotAllowed("GET, POST")), SampleRequest());
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "GET, POST");
}

TEST(ProblemMapping, ValidationListsEveryField) {
  const auto error = ApiError::Validation(
      {{"/seats", "must be between 1 and 1000"}, {"/title/en", "is required (a string)"}});
  const auto response = ProblemResponse(error, "/v1/programmes", "r");
  EXPECT_EQ(response.status, 422);
  const auto body = nlohmann::json::parse(response.body);
  ASSERT_EQ(body["errors"].size(), 2u);
  EXPECT_EQ(body["errors"][0]["field"], "/seats");
  EXPECT_EQ(body["errors"][1]["message"], "is required (a string)");
  EXPECT_NE(body["detail"].get<std::string>().find("/title/en"), std::string::npos);
}

}  // namespace
}  // namespace jilaf::http
