#include "common/http/parameters.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "common/http/problem.hpp"
#include "common/http/router.hpp"

namespace jilaf::http {
namespace {

Request Query(std::unordered_map<std::string, std::string> query,
              std::unordered_map<std::string, std::string> params = {}) {
  Request request;
  request.query = std::move(query);
  request.params = std::move(params);
  return request;
}

// The field the 400 names, or "" when the parameters accept the request.
std::string Refused(const std::vector<Parameter>& parameters, const Request& request) {
  try {
    CheckParameters(parameters, request);
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    return error.extensions().value("field", "(none)");
  }
  return "";
}

const std::vector<Parameter>& ProgrammeList() {
  static const auto list =
      Complete("/v1/programmes", {PageSize(), PageToken(), QueryInteger("fiscal_year", 1989, 2100),
                                  QueryEnum("track", {"developing", "industrialized"}),
                                  CountryFilter("country"), SearchQuery(), Format()});
  return list;
}

TEST(Parameters, AcceptsDeclaredValues) {
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"page_size", "200"},
                                            {"fiscal_year", "2026"},
                                            {"track", "developing"},
                                            {"country", "KH"},
                                            {"q", "労働 union"},
                                            {"format", "csv"},
                                            {"page_token", ""}})),
            "");
}

TEST(Parameters, RefusesAQueryParameterTheTableLacks) {
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"colour", "red"}})), "colour");
  // An operation without a table accepts none.
  EXPECT_EQ(Refused(Complete("/v1/things/{id}", {}), Query({{"x", "1"}}, {{"id", "7"}})), "x");
  // "?&" holds no parameter at all.
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"", ""}})), "");
}

TEST(Parameters, NamesTheParameterOfEveryBadValue) {
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"page_size", "0"}})), "page_size");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"page_size", "201"}})), "page_size");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"fiscal_year", "2026.0"}})), "fiscal_year");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"fiscal_year", "02026"}})), "fiscal_year");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"fiscal_year", ""}})), "fiscal_year");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"track", "Developing"}})), "track");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"country", ""}})), "country");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"country", "XX"}})), "country");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"q", "..."}})), "q");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"q", std::string(201, 'a')}})), "q");
  EXPECT_EQ(Refused(ProgrammeList(), Query({{"format", "xml"}})), "format");
}

TEST(Parameters, ChecksPathParametersAndRequiredOnes) {
  const auto report = Complete("/v1/reports/{fy}", {PathInteger("fy", 1989, 2100)});
  EXPECT_EQ(Refused(report, Query({}, {{"fy", "2026"}})), "");
  EXPECT_EQ(Refused(report, Query({}, {{"fy", "1988"}})), "fy");
  const auto unsubscribe = Complete("/v1/unsubscribe", {RequiredText("token")});
  EXPECT_EQ(Refused(unsubscribe, Query({})), "token");
  EXPECT_EQ(Refused(unsubscribe, Query({{"token", ""}})), "token");
  EXPECT_EQ(Refused(unsubscribe, Query({{"token", "t"}})), "");
}

TEST(Parameters, CompleteAddsCapturesAsTextAndRefusesStrayDeclarations) {
  const auto list = Complete("/v1/a/{id}/b/{kind}", {QueryText("x"), PathEnum("kind", {"k"})});
  ASSERT_EQ(list.size(), 3U);
  EXPECT_EQ(DescribeParameter(list[0]),
            nlohmann::json::parse(
                R"({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}})"));
  EXPECT_EQ(DescribeParameter(list[1])["schema"]["enum"], nlohmann::json::array({"k"}));
  EXPECT_EQ(list[2].name, "x");
  EXPECT_THROW((void)Complete("/v1/a", {PathText("id")}), std::logic_error);
  EXPECT_THROW((void)Complete("/v1/a", {QueryText("x"), QueryText("x")}), std::logic_error);
}

TEST(Parameters, DescribesWhatItChecks) {
  EXPECT_EQ(DescribeParameter(PageSize(500)),
            nlohmann::json::parse(R"({"name": "page_size", "in": "query", "schema":
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}})"));
  EXPECT_EQ(DescribeParameter(CountryFilter("country"))["schema"],
            nlohmann::json::parse(R"({"$ref": "#/components/schemas/CountryCode"})"));
  EXPECT_EQ(DescribeParameter(RequiredText("token")),
            nlohmann::json::parse(R"({"name": "token", "in": "query", "required": true,
                "schema": {"type": "string", "minLength": 1}})"));
}

TEST(RouterDeclare, RefusesATableForNoRouteAndAListWithoutOne) {
  const Handler ok = [](Request&) { return Response::Empty(204); };
  Router router;
  router.Add(Method::kGet, "/v1/things", auth::Access::kRead, ok);
  EXPECT_THROW(router.Declare({{Method::kPost, "/v1/things", {}}}), std::logic_error);
  router.Add(Method::kGet, "/v1/lists", auth::Access::kRead, ok).Tabular();
  EXPECT_THROW(router.Declare({}), std::logic_error);
  router.Declare({{Method::kGet, "/v1/lists", ListParameters()}});
  EXPECT_EQ(router.routes().back().parameters.size(), 3U);
}

}  // namespace
}  // namespace jilaf::http
