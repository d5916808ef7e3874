#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/calendar.hpp"
#include "common/util/clock.hpp"
#include "services/projects/input.hpp"
#include "services/projects/queries.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/tables.hpp"

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

// The facts every report event carries, with its project's.
nlohmann::json ReportData(store::Db& db, const nlohmann::json& report) {
  const auto project = ProjectOf(db, report);
  auto data = Payload(report, "report_id", {"project_id", "kind", "due_date", "status", "version"});
  data.update(aggregate::Pick(project, {"partner_id", "country"}));
  data["project_title"] = project["title"];
  return data;
}

void CheckCanReport(const nlohmann::json& project) {
  if (project["status"] == "closed" || project["status"] == "rejected") {
    throw http::ApiError::Conflict("no reporting obligations on a " +
                                   project["status"].get<std::string>() + " project")
        .With("status", project["status"]);
  }
}

// Announces the tranches still to be approved that `due`, now overdue, holds under the
// report-before-tranche rule, each once per report (the ids are kept on the report).
void AnnounceHeldTranches(store::Db& tx, nlohmann::json& report, const rules::ReportDue& due,
                          const std::string& today) {
  const auto& t = Tables();
  auto announced = report.value("held_tranches_announced", nlohmann::json::array());
  const auto before = announced.size();
  const auto project_id = report.at("project_id").get<std::string>();
  for (const auto& tranche : t.tranches.Where(tx, {{"project_id", project_id}})) {
    if (tranche["status"] != "planned" && tranche["status"] != "requested") continue;
    if (!rules::HoldingReport({due}, tranche["planned_date"])) continue;
    if (std::find(announced.begin(), announced.end(), tranche["id"]) != announced.end()) continue;
    auto data = TrancheData(tx, tranche);
    data["project_title"] = ProjectOf(tx, tranche)["title"];
    data["report_id"] = due.id;
    data["report_due_date"] = due.due_date;
    data["as_of"] = today;
    t.events.Publish(tx, Facts(t.tranche, "held", tranche, std::move(data)), {});
    announced.push_back(tranche["id"]);
  }
  if (announced.size() == before) return;
  report["held_tranches_announced"] = announced;
  queries::MarkHeldTranchesAnnounced(tx, due.id, announced);
}

struct ReportMove {
  aggregate::TransitionInput input;
  std::optional<std::string> document_url;
};

// A report's transition body: the move, and the document it may point to. A returned report
// says why.
ReportMove ReadReportMove(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in, rules::ReportStates());
  auto document_url = in.OptionalString("document_url", 2000);
  if (input.to == "returned" && (!input.reason || input.reason->empty())) {
    in.AddError("reason", "is required when a report is returned: say what must change");
  }
  in.Finish();
  return {std::move(input), std::move(document_url)};
}

}  // namespace

http::Response CreateReport(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.report,
      ReadReport(http::ParseJsonBody(request)),
      [](aggregate::Change&, const nlohmann::json& project, nlohmann::json& doc) {
        CheckCanReport(project);
        doc["project_id"] = project["id"];
        doc["status"] = "due";
        doc["status_history"] = nlohmann::json::array();
      },
      Announce(t.report, "scheduled", ReportData));
}

http::Response UpdateReport(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().report, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        if (doc["status"] == "approved") {
          throw http::ApiError::Conflict("an approved report no longer changes")
              .With("status", doc["status"]);
        }
        const auto changed = ReadReport(aggregate::MergePatch(
            aggregate::Pick(doc, {"kind", "due_date", "title", "period_from", "period_to"}),
            patch));
        doc.erase("period_from");
        doc.erase("period_to");
        doc.update(changed);
      },
      Announce(Tables().report, "updated", ReportData));
}

http::Response TransitionReport(const http::Request& request, store::Store& store) {
  const auto move = ReadReportMove(http::ParseJsonBody(request));
  return aggregate::Transition(
      store, request, Tables().report,
      Moves(Tables().report, rules::ReportStates(), ReportData, move.input.reason.value_or("")),
      request.Param("id"), move.input, [&](aggregate::Change&, nlohmann::json& doc) {
        if (move.input.to == "submitted") doc["submitted_at"] = util::NowRfc3339();
        if (move.document_url) doc["document_url"] = *move.document_url;
      });
}

int ScanOverdueReports(store::Store& store, const std::string& today) {
  const auto& t = Tables();
  return store.Write([&](store::Db& tx) {
    auto docs = queries::ReportsPastDue(tx, today);
    std::erase_if(docs, [&](const nlohmann::json& doc) {
      return !rules::OwesReportNotices(ProjectOf(tx, doc).at("status").get<std::string>());
    });
    const auto overdue = rules::NewlyOverdue(ReportsDue(docs), today);
    for (const auto& due : overdue) {
      auto& doc = *std::find_if(docs.begin(), docs.end(),
                                [&](const nlohmann::json& d) { return d["id"] == due.id; });
      doc["overdue_notified_for"] = due.due_date;
      queries::MarkOverdueNotified(tx, due.id, due.due_date);
      auto data = ReportData(tx, doc);
      data["as_of"] = today;
      // A scheduled scan has no request: its events start their own traces.
      t.events.Publish(tx, Facts(t.report, "overdue", doc, std::move(data)), {});
      AnnounceHeldTranches(tx, doc, due, today);
    }
    return static_cast<int>(overdue.size());
  });
}

int ScanOverdueReportsToday(store::Store& store) {
  return ScanOverdueReports(store, util::BusinessToday());
}

void AddReportBodies(std::vector<http::BodyContract>& out) {
  const auto read = [](const nlohmann::json& body) { (void)ReadReport(body); };
  out.push_back({"/components/schemas/ReportInput", read});
  out.push_back({PatchBody("/v1/reports/{id}"), read, true});
  out.push_back({"/components/schemas/ReportTransitionInput",
                 [](const nlohmann::json& body) { (void)ReadReportMove(body); }});
}

}  // namespace jilaf::projects
