#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/aggregate/search.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/projects/input.hpp"
#include "services/projects/queries.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/tables.hpp"

namespace jilaf::projects {
namespace {

const std::vector<std::string_view> kAreas = {"occupational_safety_health", "industrial_relations",
                                              "family_planning", "community_development", "other"};
const std::vector<std::string_view> kSupportTypes = {"expert_dispatch", "financing", "both"};

// Validates a whole project body; the partner must exist (422 on /partner_id otherwise).
nlohmann::json ReadProject(store::Db& db, const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  if (auto title = in.Object("title", true)) {
    doc["title"] = {{"ja", title->RequiredString("ja", 1, 300)},
                    {"en", title->RequiredString("en", 1, 300)}};
    title->RejectUnknownFields();
  }
  doc["country"] = in.RequiredCountry("country");
  doc["partner_id"] = in.RequiredString("partner_id", 1, 100);
  if (!doc["partner_id"].get<std::string>().empty() &&
      !Tables().partners.Find(db, doc["partner_id"].get<std::string>())) {
    in.AddError("partner_id", "no partner organisation with this id");
  }
  doc["area"] = in.RequiredEnum("area", kAreas);
  doc["support_type"] = in.RequiredEnum("support_type", kSupportTypes);
  doc["description"] = in.OptionalString("description", 5000).value_or("");
  doc["funding_source"] = in.RequiredString("funding_source", 1, 200);
  const auto start = in.RequiredDate("start_date");
  const auto end = in.RequiredDate("end_date");
  CheckOrder(in, start, end, "end_date");
  doc["start_date"] = start;
  doc["end_date"] = end;
  if (!start.empty()) doc["fiscal_year"] = rules::FiscalYearOf(start);
  if (auto budget = in.Object("budget", true)) {
    doc["budget"] = ReadMoney(*budget);
    budget->RejectUnknownFields();
  }
  in.Finish();
  return doc;
}

nlohmann::json Editable(const nlohmann::json& doc) {
  auto out =
      aggregate::Pick(doc, {"title", "country", "partner_id", "area", "support_type", "description",
                            "funding_source", "start_date", "end_date", "budget"});
  if (out.contains("budget")) out["budget"].erase("amount_jpy");
  return out;
}

// The members a PATCH body touches.
std::vector<std::string> Touched(const nlohmann::json& patch) {
  std::vector<std::string> fields;
  if (patch.is_object()) {
    for (const auto& [key, value] : patch.items()) fields.push_back(key);
  }
  return fields;
}

void CheckListFilters(const std::optional<std::string>& area,
                      const std::optional<std::string>& status) {
  if (area && std::find(kAreas.begin(), kAreas.end(), *area) == kAreas.end()) {
    throw http::ApiError::BadRequest("query parameter area is not a project area");
  }
  if (status && !rules::ProjectStates().IsState(*status)) {
    throw http::ApiError::BadRequest("query parameter status is not a project status");
  }
}

void CheckDeletable(aggregate::Change& change, const nlohmann::json& doc) {
  const std::string status = doc["status"];
  if (status != "proposed" && status != "rejected") {
    throw http::ApiError::Conflict(
        "only proposed or rejected projects can be deleted; this one is " + status)
        .With("status", status);
  }
  queries::DeleteProjectChildren(change.tx, doc["id"]);
}

void CheckReviews(store::Db& db, const std::string& project_id, const std::string& to) {
  std::vector<rules::Review> reviews;
  for (const auto& review : Tables().reviews.Where(db, {{"project_id", project_id}})) {
    reviews.push_back({review["decision"]});
  }
  rules::CheckReviewsAllow(reviews, to);
}

nlohmann::json ReadReview(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json review;
  review["decision"] = in.RequiredEnum("decision", {"approve", "reject", "request_changes"});
  review["comment"] = in.RequiredString("comment", 1, 5000);
  in.Finish();
  return review;
}

void CheckUnderReview(const nlohmann::json& project) {
  if (project["status"] != "under_review") {
    throw http::ApiError::Conflict(
        "reviews are recorded while a project is under_review; "
        "this one is " +
        project["status"].get<std::string>())
        .With("status", project["status"]);
  }
}

// 201 for a record listed under its project: Location is the project's collection of them.
http::Response CreatedUnderProject(const aggregate::DocTable& table, const nlohmann::json& doc) {
  auto response = aggregate::DocResponse(doc, 201);
  response.SetHeader("Location", "/v1/projects/" + doc.at("project_id").get<std::string>() + "/" +
                                     table.spec().name);
  return response;
}

void AnnounceReview(aggregate::Change& change, const nlohmann::json& review) {
  const auto& t = Tables();
  const std::string project_id = review["project_id"];
  change.Emit({"review", "recorded", project_id, "projects/" + project_id,
               Payload(review, "review_id", {"project_id", "reviewer", "decision", "comment"})});
  change.Respond(CreatedUnderProject(t.reviews, review));
}

// What an amendment changes: a budget, a start date, an end date.
struct AmendmentInput {
  std::string reason;
  nlohmann::json budget;
  std::optional<std::string> start;
  std::optional<std::string> end;
};

AmendmentInput ReadAmendment(const nlohmann::json& body, const nlohmann::json& project) {
  http::ObjectReader in(body);
  AmendmentInput input;
  input.reason = in.RequiredString("reason", 1, 2000);
  if (auto budget = in.Object("budget", false)) {
    input.budget = ReadMoney(*budget);
    budget->RejectUnknownFields();
  }
  input.start = in.OptionalDate("start_date");
  input.end = in.OptionalDate("end_date");
  if (input.budget.is_null() && !input.start && !input.end && in.ok()) {
    in.AddError("budget", "an amendment changes at least one of budget, start_date, end_date");
  }
  CheckOrder(in, input.start.value_or(project["start_date"]),
             input.end.value_or(project["end_date"]), input.end ? "end_date" : "start_date");
  in.Finish();
  return input;
}

// Applies the amendment to the project; returns its `changes` (old and new of each member).
nlohmann::json ApplyAmendment(store::Db& db, nlohmann::json& project, const AmendmentInput& input) {
  rules::CheckAmendable(project["status"]);
  nlohmann::json changes = nlohmann::json::object();
  if (!input.budget.is_null()) {
    rules::CheckBudgetCoversCommitted(input.budget["amount_jpy"],
                                      rules::CommittedJpy(TrancheMoneyOf(db, project["id"])));
    changes["budget"] = {{"old", project["budget"]}, {"new", input.budget}};
    project["budget"] = input.budget;
  }
  if (input.start) {
    changes["start_date"] = {{"old", project["start_date"]}, {"new", *input.start}};
    project["start_date"] = *input.start;
    project["fiscal_year"] = rules::FiscalYearOf(*input.start);
  }
  if (input.end) {
    changes["end_date"] = {{"old", project["end_date"]}, {"new", *input.end}};
    project["end_date"] = *input.end;
  }
  return changes;
}

// The project as amended, stored as its next version, and its `amended` event.
void AnnounceAmendment(aggregate::Change& change, nlohmann::json& project,
                       const nlohmann::json& amendment) {
  const auto& t = Tables();
  t.projects.Update(change.tx, project);
  auto data = ProjectData(change.tx, project);
  data.update(Payload(amendment, "amendment_id", {"amended_by", "reason", "changes"}));
  change.Emit(Facts(t.project, "amended", project, std::move(data)));
  change.Respond(CreatedUnderProject(t.amendments, amendment));
}

}  // namespace

nlohmann::json ProjectData(store::Db&, const nlohmann::json& project) {
  return Payload(project, "project_id",
                 {"title", "status", "country", "partner_id", "area", "support_type", "fiscal_year",
                  "start_date", "end_date", "budget", "version"});
}

http::Response CreateProject(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  return aggregate::Create(
      store, request, Tables().project, nlohmann::json::object(),
      [&](aggregate::Change& change, nlohmann::json& doc) {
        doc.update(ReadProject(change.tx, body));
        doc["status"] = "proposed";
        doc["status_history"] = nlohmann::json::array();
      },
      Announce(Tables().project, "created", ProjectData));
}

http::Response ListProjects(const http::Request& request, store::Store& store) {
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto country = http::QueryCountry(request, "country");
  const auto area = request.Query("area");
  const auto status = request.Query("status");
  CheckListFilters(area, status);
  return aggregate::Find(store, request, Tables().projects,
                         {{"fiscal_year", aggregate::Maybe(fiscal_year)},
                          {"country", aggregate::Maybe(country)},
                          {"area", aggregate::Maybe(area)},
                          {"status", aggregate::Maybe(status)},
                          {"partner_id", aggregate::Maybe(request.Query("partner_id"))}});
}

http::Response UpdateProject(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().project, request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) {
        rules::CheckDirectChange(doc["status"], Touched(patch));
        doc.update(ReadProject(change.tx, aggregate::MergePatch(Editable(doc), patch)));
      },
      Announce(Tables().project, "updated", ProjectData));
}

http::Response DeleteProject(const http::Request& request, store::Store& store) {
  return aggregate::Remove(store, request, Tables().project, request.Param("id"), CheckDeletable,
                           Announce(Tables().project, "deleted", ProjectData));
}

http::Response TransitionProject(const http::Request& request, store::Store& store) {
  const auto input = ReadMove(http::ParseJsonBody(request), rules::ProjectStates());
  return aggregate::Transition(
      store, request, Tables().project,
      Moves(Tables().project, rules::ProjectStates(), ProjectData, input.reason.value_or("")),
      request.Param("id"), input, [&](aggregate::Change& change, nlohmann::json& doc) {
        CheckReviews(change.tx, doc["id"], input.to);
      });
}

http::Response CreateReview(const http::Request& request, store::Store& store,
                            const Settings& settings) {
  auto review = ReadReview(http::ParseJsonBody(request));
  const auto& t = Tables();
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.review, std::move(review),
      [&](aggregate::Change&, const nlohmann::json& project, nlohmann::json& doc) {
        CheckUnderReview(project);
        rules::CheckReviewerIsNotAuthor(settings.separation_of_duties,
                                        project.value("created_by", ""), request.principal.subject,
                                        doc["decision"]);
        doc["project_id"] = project["id"];
        doc["reviewer"] = request.principal.subject;
      },
      AnnounceReview);
}

http::Response CreateReview(const http::Request& request, store::Store& store) {
  return CreateReview(request, store, Settings{});
}

http::Response CreateAmendment(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  const auto& t = Tables();
  nlohmann::json project;
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.amendment, nlohmann::json::object(),
      [&](aggregate::Change& change, const nlohmann::json& parent, nlohmann::json& amendment) {
        if (request.HasHeader("if-match")) {
          http::RequireIfMatch(request, parent["version"].get<std::int64_t>());
        }
        const auto input = ReadAmendment(body, parent);
        project = parent;
        amendment["changes"] = ApplyAmendment(change.tx, project, input);
        amendment["project_id"] = project["id"];
        amendment["reason"] = input.reason;
        amendment["amended_by"] = request.principal.subject;
      },
      [&](aggregate::Change& change, const nlohmann::json& amendment) {
        AnnounceAmendment(change, project, amendment);
      });
}

http::Response PublishSnapshots(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  // Keyed like the change events (Facts): by project, so a tranche's snapshot follows its changes.
  const auto of = [](const aggregate::Kind& kind, DataOf data) {
    return aggregate::SnapshotOf{
        kind.table, kind.aggregate, [&kind, data](store::Db& db, const nlohmann::json& doc) {
          auto facts = Facts(kind, "snapshot", doc, data(db, doc));
          return events::SnapshotItem{facts.key, facts.subject, std::move(facts.data)};
        }};
  };
  return aggregate::Snapshots(store, request, t.events,
                              {of(t.project, ProjectData), of(t.tranche, TrancheData)});
}

void AddProjectBodies(std::vector<http::BodyContract>& out) {
  const auto read = [](const nlohmann::json& body) {
    store::Db db(":memory:", {});  // the partner is looked up only once an id was read
    (void)ReadProject(db, body);
  };
  out.push_back({"/components/schemas/ProjectInput", read});
  out.push_back({PatchBody("/v1/projects/{id}"), read, true});
  out.push_back({"/components/schemas/ReviewInput",
                 [](const nlohmann::json& body) { (void)ReadReview(body); }});
  out.push_back(
      {"/components/schemas/AmendmentInput", [](const nlohmann::json& body) {
         const nlohmann::json project = {{"start_date", "2026-04-01"}, {"end_date", "2027-03-31"}};
         (void)ReadAmendment(body, project);
       }});
}

http::Operation ProjectListParameters() {
  return {http::Method::kGet,
          "/v1/projects",
          {http::SearchQuery(), http::PageSize(), http::PageToken(),
           http::QueryInteger("fiscal_year", 1989, 2100), http::CountryFilter("country"),
           http::QueryEnum("area", {kAreas.begin(), kAreas.end()}),
           http::QueryEnum("status", rules::ProjectStates().States()),
           http::QueryText("partner_id"), http::Format()}};
}

}  // namespace jilaf::projects
