// Where each request body's schema goes in openapi.json: the readers describe themselves
// (http::DescribeBody); scripts/contracts/request_schemas.py writes them into the document and
// fails the check when it differs (docs/architecture.md).
#include "services/missions/contract.hpp"

#include "services/missions/records.hpp"
#include "services/missions/schema.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

// The create body of an aggregate, and its PATCH: a merge patch of the members it corrects.
void AddAggregate(std::vector<http::BodyContract>& out, const Aggregate& of,
                  const std::string& input, const std::string& path) {
  const auto read = [&of](const nlohmann::json& body) { (void)of.read(body); };
  out.push_back({"/components/schemas/" + input, read});
  const auto* states = &of.states;
  out.push_back(
      {"/components/schemas/" + input.substr(0, input.size() - 5) + "TransitionInput",
       [states](const nlohmann::json& body) { (void)ReadTransitionBody(body, *states); }});
  std::string escaped;
  for (char c : path) escaped += c == '/' ? std::string("~1") : std::string(1, c);
  out.push_back({"/paths/" + escaped + "/patch/requestBody/content/application~1json/schema", read,
                 true, of.corrects});
}

}  // namespace

std::vector<http::BodyContract> RequestBodies() {
  std::vector<http::BodyContract> out;
  AddAggregate(out, Mission(), "MissionInput", "/v1/missions/{id}");
  AddAggregate(out, Education(), "EducationProgrammeInput", "/v1/education-programmes/{id}");
  AddAggregate(out, Seminar(), "SeminarInput", "/v1/seminars/{id}");
  AddResearchMissionBodies(out);
  AddEducationBodies(out);
  AddAlumniBodies(out);
  return out;
}

std::vector<http::Operation> Parameters() {
  using http::Method;
  const auto records = [](const domain::StateMachine& states) {
    return std::vector<http::Parameter>{http::SearchQuery(),
                                        http::PageSize(),
                                        http::PageToken(),
                                        http::QueryInteger("fiscal_year", 1989, 2100),
                                        http::QueryEnum("status", states.States()),
                                        http::CountryFilter("country"),
                                        http::Format()};
  };
  return {
      {Method::kGet, "/v1/missions", records(MissionStates())},
      {Method::kGet, "/v1/education-programmes", records(EducationStates())},
      {Method::kGet, "/v1/seminars", records(SeminarStates())},
      {Method::kGet,
       "/v1/alumni",
       {http::PageSize(), http::PageToken(), http::QueryInteger("fiscal_year", 1989, 2100),
        http::CountryFilter("country"), http::QueryText("programme_id"), http::Format()}},
      {Method::kGet,
       "/v1/people",
       {http::SearchQuery(), http::PageSize(), http::PageToken(),
        http::CountryFilter("nationality"), http::Format()}},
      {Method::kGet, "/v1/reports/fiscal-years/{fy}", {http::PathInteger("fy", 1989, 2100)}},
  };
}

}  // namespace jilaf::missions
