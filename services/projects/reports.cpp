#include <nlohmann/json.hpp>

#include <algorithm>

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

nlohmann::json ReadReport(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["kind"] = in.RequiredEnum("kind", {"progress", "financial", "final"});
  doc["due_date"] = in.RequiredDate("due_date");
  doc["title"] = in.OptionalString("title", 300).value_or("");
  const auto from = in.OptionalDate("period_from");
  const auto to = in.OptionalDate("period_to");
  CheckOrder(in, from.value_or(""), to.value_or(""), "period_to");
  if (from) doc["period_from"] = *from;
  if (to) doc["period_to"] = *to;
  in.Finish();
  return doc;
}

nlohmann::json ReportData(const nlohmann::json& report, const nlohmann::json& project) {
  return {{"report_id", report["id"]},         {"project_id", project["id"]},
          {"project_title", project["title"]}, {"partner_id", project["partner_id"]},
          {"country", project["country"]},     {"kind", report["kind"]},
          {"due_date", report["due_date"]},    {"status", report["status"]},
          {"version", report["version"]}};
}

std::string Subject(const nlohmann::json& report) {
  return "reports/" + report["id"].get<std::string>();
}

}  // namespace

http::Response CreateReport(const http::Request& request, store::Store& store) {
  auto doc = ReadReport(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto project = Require(tx, "projects", request.Param("id"), "project");
      if (project["status"] == "closed" || project["status"] == "rejected") {
        throw http::ApiError::Conflict("no reporting obligations on a " +
                                       project["status"].get<std::string>() + " project")
            .With("status", project["status"]);
      }
      doc["project_id"] = project["id"];
      doc["status"] = "due";
      doc["status_history"] = nlohmann::json::array();
      Stamp(doc, request);
      Insert(tx, "reports", doc);
      Emit(tx, request, "report", "scheduled", project["id"], Subject(doc),
           ReportData(doc, project));
      return Created(doc, "/v1/" + Subject(doc));
    });
  });
}

http::Response ListReports(const http::Request& request, store::Store& store) {
  return ListPage(store, request, "reports", request.Param("id"));
}

http::Response GetReport(const http::Request& request, store::Store& store) {
  return DocResponse(store.Read(
      [&](store::Db& db) { return Require(db, "reports", request.Param("id"), "report"); }));
}

http::Response UpdateReport(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "reports", request.Param("id"), "report");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    if (doc["status"] == "approved") {
      throw http::ApiError::Conflict("an approved report no longer changes")
          .With("status", doc["status"]);
    }
    const auto changed = ReadReport(
        MergePatch(Pick(doc, {"kind", "due_date", "title", "period_from", "period_to"}), patch));
    doc.erase("period_from");
    doc.erase("period_to");
    doc.update(changed);
    Touch(doc);
    Save(tx, "reports", doc);
    const auto project = Require(tx, "projects", doc["project_id"], "project");
    Emit(tx, request, "report", "updated", project["id"], Subject(doc), ReportData(doc, project));
    return DocResponse(doc);
  });
}

http::Response TransitionReport(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);  // the reader points into it
  http::ObjectReader in(body);
  const auto to = in.RequiredString("to", 1, 50);
  const auto comment = in.OptionalString("comment", 5000);
  const auto document_url = in.OptionalString("document_url", 2000);
  if (to == "returned" && (!comment || comment->empty())) {
    in.AddError("comment", "is required when a report is returned: say what must change");
  }
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "reports", request.Param("id"), "report");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    rules::ReportStates().Check(from, to);
    doc["status"] = to;
    if (to == "submitted") doc["submitted_at"] = events::NowRfc3339();
    if (document_url) doc["document_url"] = *document_url;
    doc["status_history"].push_back({{"from", from},
                                     {"to", to},
                                     {"at", events::NowRfc3339()},
                                     {"by", request.principal.subject},
                                     {"comment", comment.value_or("")}});
    Touch(doc);
    Save(tx, "reports", doc);
    const auto project = Require(tx, "projects", doc["project_id"], "project");
    auto data = ReportData(doc, project);
    data["from"] = from;
    data["comment"] = comment.value_or("");
    Emit(tx, request, "report", to, project["id"], Subject(doc), std::move(data));
    return DocResponse(doc);
  });
}

int ScanOverdueReports(store::Store& store, const std::string& today) {
  return store.Write([&](store::Db& tx) {
    std::vector<nlohmann::json> docs;
    std::vector<rules::ReportDue> candidates;
    auto stmt = tx.Prepare(
        "SELECT doc FROM reports WHERE json_extract(doc, '$.status') IN ('due', 'returned')"
        " AND json_extract(doc, '$.due_date') < ?");
    stmt.Bind(1, today);
    while (stmt.Step()) {
      auto doc = nlohmann::json::parse(stmt.Text(0));
      std::optional<std::string> notified;
      if (doc.contains("overdue_notified_for")) notified = doc["overdue_notified_for"];
      candidates.push_back({doc["id"], doc["kind"], doc["due_date"], doc["status"], notified});
      docs.push_back(std::move(doc));
    }
    const auto overdue = rules::NewlyOverdue(candidates, today);
    const http::Request no_request;
    for (const auto& due : overdue) {
      auto doc = *std::find_if(docs.begin(), docs.end(),
                               [&](const nlohmann::json& d) { return d["id"] == due.id; });
      // Bookkeeping, not a client-visible change: the version (ETag) stays.
      doc["overdue_notified_for"] = due.due_date;
      Save(tx, "reports", doc);
      const auto project = Require(tx, "projects", doc["project_id"], "project");
      auto data = ReportData(doc, project);
      data["as_of"] = today;
      Emit(tx, no_request, "report", "overdue", project["id"], Subject(doc), std::move(data));
    }
    return static_cast<int>(overdue.size());
  });
}

}  // namespace jilaf::projects
