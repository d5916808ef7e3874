#include "common/http/router.hpp"

#include <gtest/gtest.h>

namespace jilaf::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) {
    Response response;
    response.body = name;
    return response;
  };
}

Router MakeRouter() {
  Router router;
  router.Add(Method::kGet, "/v1/programmes", auth::Access::kRead, Named("list"));
  router.Add(Method::kPost, "/v1/programmes", auth::Access::kWrite, Named("create"));
  router.Add(Method::kGet, "/v1/programmes/{id}", auth::Access::kRead, Named("get"));
  router.Add(Method::kPost, "/v1/programmes/{id}/nominations", auth::Access::kWrite,
             Named("nominate"));
  return router;
}

TEST(Router, MatchesLiteralRouteByMethod) {
  const auto router = MakeRouter();
  const auto match = router.Find(Method::kPost, "/v1/programmes");
  ASSERT_EQ(match.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(match.route->pattern, "/v1/programmes");
  EXPECT_EQ(match.route->access, auth::Access::kWrite);
}

TEST(Router, CapturesPathParameters) {
  const auto router = MakeRouter();
  const auto match = router.Find(Method::kPost, "/v1/programmes/abc-123/nominations");
  ASSERT_EQ(match.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(match.route->pattern, "/v1/programmes/{id}/nominations");
  EXPECT_EQ(match.params.at("id"), "abc-123");
}

TEST(Router, UnknownPathIsNotFound) {
  const auto router = MakeRouter();
  EXPECT_EQ(router.Find(Method::kGet, "/v1/nothing").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find(Method::kGet, "/v1/programmes/x/y/z").kind, Router::Match::Kind::kNotFound);
}

TEST(Router, EmptyCaptureDoesNotMatch) {
  const auto router = MakeRouter();
  EXPECT_EQ(router.Find(Method::kGet, "/v1/programmes/").kind, Router::Match::Kind::kNotFound);
}

TEST(Router, WrongMethodListsAllowedMethods) {
  const auto router = MakeRouter();
  const auto match = router.Find(Method::kDelete, "/v1/programmes");
  ASSERT_EQ(match.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.allow, "GET, POST");
}

TEST(Router, HeadFallsBackToGet) {
  const auto router = MakeRouter();
  const auto match = router.Find(Method::kHead, "/v1/programmes/7");
  ASSERT_EQ(match.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(match.route->pattern, "/v1/programmes/{id}");
}

TEST(Router, RejectsDuplicateAndMalformedTemplates) {
  Router router;
  router.Add(Method::kGet, "/v1/a/{id}", auth::Access::kRead, Named("a"));
  EXPECT_THROW(router.Add(Method::kGet, "/v1/a/{id}", auth::Access::kRead, Named("b")),
               std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "v1/no-slash", auth::Access::kRead, Named("c")),
               std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/v1/{broken", auth::Access::kRead, Named("d")),
               std::invalid_argument);
}

}  // namespace
}  // namespace jilaf::http
