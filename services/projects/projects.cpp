#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/input.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/store.hpp"

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
      !Find(db, "partners", doc["partner_id"].get<std::string>())) {
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
  auto out = Pick(doc, {"title", "country", "partner_id", "area", "support_type", "description",
                        "funding_source", "start_date", "end_date", "budget"});
  if (out.contains("budget")) out["budget"].erase("amount_jpy");
  return out;
}

}  // namespace

nlohmann::json ProjectData(const nlohmann::json& doc) {
  return {{"project_id", doc["id"]},
          {"title", doc["title"]},
          {"status", doc["status"]},
          {"country", doc["country"]},
          {"partner_id", doc["partner_id"]},
          {"area", doc["area"]},
          {"support_type", doc["support_type"]},
          {"fiscal_year", doc["fiscal_year"]},
          {"start_date", doc["start_date"]},
          {"end_date", doc["end_date"]},
          {"budget", doc["budget"]},
          {"version", doc["version"]}};
}

namespace {

std::string Subject(const nlohmann::json& doc) {
  return "projects/" + doc["id"].get<std::string>();
}

std::vector<rules::TrancheMoney> TrancheMoneyOf(store::Db& db, const std::string& project_id) {
  std::vector<rules::TrancheMoney> out;
  for (const auto& t : ForProject(db, "tranches", project_id)) {
    out.push_back({t["id"], t["status"], t["amount_jpy"]});
  }
  return out;
}

}  // namespace

http::Response CreateProject(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto doc = ReadProject(tx, body);
      doc["status"] = "proposed";
      doc["status_history"] = nlohmann::json::array();
      Stamp(doc, request);
      Insert(tx, "projects", doc);
      Emit(tx, request, "project", "created", doc["id"], Subject(doc), ProjectData(doc));
      return Created(doc, "/v1/" + Subject(doc));
    });
  });
}

http::Response ListProjects(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto country = request.Query("country");
  const auto area = request.Query("area");
  const auto status = request.Query("status");
  const auto partner = request.Query("partner_id");
  if (area && std::find(kAreas.begin(), kAreas.end(), *area) == kAreas.end()) {
    throw http::ApiError::BadRequest("query parameter area is not a project area");
  }
  if (status && !rules::ProjectStates().IsState(*status)) {
    throw http::ApiError::BadRequest("query parameter status is not a project status");
  }
  if (country &&
      (country->size() != 2 || !std::isupper(static_cast<unsigned char>((*country)[0])) ||
       !std::isupper(static_cast<unsigned char>((*country)[1])))) {
    throw http::ApiError::BadRequest("query parameter country must be an ISO 3166-1 alpha-2 code");
  }
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM projects WHERE seq > ?1 AND (?2 IS NULL OR fiscal_year = ?2)"
        " AND (?3 IS NULL OR country = ?3) AND (?4 IS NULL OR area = ?4)"
        " AND (?5 IS NULL OR status = ?5) AND (?6 IS NULL OR partner_id = ?6)"
        " ORDER BY seq LIMIT ?7");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, fiscal_year)
        .Bind(3, country)
        .Bind(4, area)
        .Bind(5, status)
        .Bind(6, partner)
        .Bind(7, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetProject(const http::Request& request, store::Store& store) {
  return DocResponse(store.Read(
      [&](store::Db& db) { return Require(db, "projects", request.Param("id"), "project"); }));
}

http::Response UpdateProject(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "projects", request.Param("id"), "project");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    std::vector<std::string> fields;
    if (patch.is_object()) {
      for (const auto& [key, value] : patch.items()) fields.push_back(key);
    }
    rules::CheckDirectChange(doc["status"], fields);
    const auto changed = ReadProject(tx, MergePatch(Editable(doc), patch));
    doc.update(changed);
    Touch(doc);
    Save(tx, "projects", doc);
    Emit(tx, request, "project", "updated", doc["id"], Subject(doc), ProjectData(doc));
    return DocResponse(doc);
  });
}

http::Response DeleteProject(const http::Request& request, store::Store& store) {
  return store.Write([&](store::Db& tx) {
    const auto doc = Require(tx, "projects", request.Param("id"), "project");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string status = doc["status"];
    if (status != "proposed" && status != "rejected") {
      throw http::ApiError::Conflict(
          "only proposed or rejected projects can be deleted; this one is " + status)
          .With("status", status);
    }
    for (const char* table :
         {"reviews", "amendments", "tranches", "reports", "dispatches", "indicators"}) {
      auto stmt = tx.Prepare(std::string("DELETE FROM ") + table + " WHERE project_id = ?");
      stmt.Bind(1, doc["id"].get<std::string>());
      stmt.Run();
    }
    Remove(tx, "projects", doc["id"]);
    Emit(tx, request, "project", "deleted", doc["id"], Subject(doc), ProjectData(doc));
    return http::Response::Empty(204);
  });
}

http::Response TransitionProject(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);  // the reader points into it
  http::ObjectReader in(body);
  const auto to = in.RequiredString("to", 1, 50);
  const auto comment = in.OptionalString("comment", 2000);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "projects", request.Param("id"), "project");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    rules::ProjectStates().Check(from, to);
    std::vector<rules::Review> reviews;
    for (const auto& review : ForProject(tx, "reviews", doc["id"])) {
      reviews.push_back({review["decision"]});
    }
    rules::CheckReviewsAllow(reviews, to);
    doc["status"] = to;
    doc["status_history"].push_back({{"from", from},
                                     {"to", to},
                                     {"at", events::NowRfc3339()},
                                     {"by", request.principal.subject},
                                     {"comment", comment.value_or("")}});
    Touch(doc);
    Save(tx, "projects", doc);
    auto data = ProjectData(doc);
    data["from"] = from;
    data["comment"] = comment.value_or("");
    Emit(tx, request, "project", to, doc["id"], Subject(doc), std::move(data));
    return DocResponse(doc);
  });
}

http::Response CreateReview(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);  // the reader points into it
  http::ObjectReader in(body);
  nlohmann::json review;
  review["decision"] = in.RequiredEnum("decision", {"approve", "reject", "request_changes"});
  review["comment"] = in.RequiredString("comment", 1, 5000);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto project = Require(tx, "projects", request.Param("id"), "project");
      if (project["status"] != "under_review") {
        throw http::ApiError::Conflict(
            "reviews are recorded while a project is under_review; "
            "this one is " +
            project["status"].get<std::string>())
            .With("status", project["status"]);
      }
      review["project_id"] = project["id"];
      Stamp(review, request);
      review["reviewer"] = request.principal.subject;
      Insert(tx, "reviews", review);
      Emit(tx, request, "review", "recorded", project["id"], Subject(project),
           {{"review_id", review["id"]},
            {"project_id", project["id"]},
            {"reviewer", review["reviewer"]},
            {"decision", review["decision"]},
            {"comment", review["comment"]}});
      return Created(review, "/v1/projects/" + project["id"].get<std::string>() + "/reviews");
    });
  });
}

http::Response ListReviews(const http::Request& request, store::Store& store) {
  return ListPage(store, request, "reviews", request.Param("id"));
}

http::Response CreateAmendment(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto project = Require(tx, "projects", request.Param("id"), "project");
      if (request.HasHeader("if-match")) {
        http::RequireIfMatch(request, project["version"].get<std::int64_t>());
      }
      http::ObjectReader in(body);
      const auto reason = in.RequiredString("reason", 1, 2000);
      nlohmann::json next_budget;
      if (auto budget = in.Object("budget", false)) {
        next_budget = ReadMoney(*budget);
        budget->RejectUnknownFields();
      }
      const auto start = in.OptionalDate("start_date");
      const auto end = in.OptionalDate("end_date");
      if (next_budget.is_null() && !start && !end && in.ok()) {
        in.AddError("budget", "an amendment changes at least one of budget, start_date, end_date");
      }
      CheckOrder(in, start.value_or(project["start_date"]), end.value_or(project["end_date"]),
                 end ? "end_date" : "start_date");
      in.Finish();
      rules::CheckAmendable(project["status"]);
      nlohmann::json changes = nlohmann::json::object();
      if (!next_budget.is_null()) {
        rules::CheckBudgetCoversCommitted(next_budget["amount_jpy"],
                                          rules::CommittedJpy(TrancheMoneyOf(tx, project["id"])));
        changes["budget"] = {{"old", project["budget"]}, {"new", next_budget}};
        project["budget"] = next_budget;
      }
      if (start) {
        changes["start_date"] = {{"old", project["start_date"]}, {"new", *start}};
        project["start_date"] = *start;
        project["fiscal_year"] = rules::FiscalYearOf(*start);
      }
      if (end) {
        changes["end_date"] = {{"old", project["end_date"]}, {"new", *end}};
        project["end_date"] = *end;
      }
      nlohmann::json amendment = {
          {"project_id", project["id"]}, {"reason", reason}, {"changes", changes}};
      Stamp(amendment, request);
      amendment["amended_by"] = request.principal.subject;
      Insert(tx, "amendments", amendment);
      Touch(project);
      Save(tx, "projects", project);
      auto data = ProjectData(project);
      data["amendment_id"] = amendment["id"];
      data["amended_by"] = amendment["amended_by"];
      data["reason"] = reason;
      data["changes"] = changes;
      Emit(tx, request, "project", "amended", project["id"], Subject(project), std::move(data));
      auto response = Created(amendment, "/v1/" + Subject(project) + "/amendments");
      return response;
    });
  });
}

http::Response ListAmendments(const http::Request& request, store::Store& store) {
  return ListPage(store, request, "amendments", request.Param("id"));
}

}  // namespace jilaf::projects
