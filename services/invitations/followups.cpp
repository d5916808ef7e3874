#include "services/invitations/followups.hpp"

#include "common/util/text.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/store/json_doc.hpp"
#include "services/invitations/records.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {
namespace {

nlohmann::json LoadFollowUp(store::Db& db, const std::string& id) {
  auto doc = store::LoadJsonDoc(db, "SELECT doc FROM followups WHERE id = ?", id);
  if (!doc) throw http::ApiError::NotFound("no follow-up with id " + id);
  return std::move(*doc);
}

void SaveFollowUp(store::Db& tx, nlohmann::json& doc, bool overdue_notified) {
  doc["version"] = doc.value("version", 1) + 1;
  doc["updated_at"] = events::NowRfc3339();
  auto update = tx.Prepare(
      "UPDATE followups SET status = ?, overdue_notified = max(overdue_notified, ?), doc = ?"
      " WHERE id = ?");
  update.Bind(1, doc["status"].get<std::string>())
      .Bind(2, overdue_notified ? 1 : 0)
      .Bind(3, doc.dump())
      .Bind(4, doc["id"].get<std::string>());
  update.Run();
}

void EmitFollowUpEvent(store::Db& tx, const nlohmann::json& followup, const std::string& what,
                       const std::string& traceparent) {
  const auto nomination = LoadNomination(tx, followup["nomination_id"]);
  const auto& c = nomination["candidate"];
  const nlohmann::json data = {{"followup_id", followup["id"]},
                               {"nomination_id", followup["nomination_id"]},
                               {"programme_id", followup["programme_id"]},
                               {"fiscal_year", nomination.value("fiscal_year", nlohmann::json())},
                               {"months", followup["months"]},
                               {"due_date", followup["due_date"]},
                               {"status", followup["status"]},
                               {"candidate",
                                {{"family_name", c["family_name"]},
                                 {"given_name", c["given_name"]},
                                 {"nationality", c["nationality"]},
                                 {"email", c["email"]}}}};
  const std::string id = followup["id"];
  events::AppendToOutbox(
      tx, kEventsTopic,
      events::MakeEvent(kEventSource, "jilaf.invitations.followup." + what, id, "followups/" + id,
                        "/schemas/invitations/followup." + what + "/v1.json", data, traceparent));
}

}  // namespace

std::string TodayUtc() { return util::TodayUtc(); }

std::int64_t ScanOverdueFollowUps(store::Db& tx, const std::string& today) {
  std::vector<std::string> ids;
  {
    auto stmt = tx.Prepare(
        "SELECT id FROM followups WHERE status = 'due' AND overdue_notified = 0 AND due_date < ?"
        " ORDER BY due_date");
    stmt.Bind(1, today);
    while (stmt.Step()) ids.push_back(stmt.Text(0));
  }
  for (const auto& id : ids) {
    auto doc = LoadFollowUp(tx, id);
    doc["status"] = "overdue";
    SaveFollowUp(tx, doc, true);
    EmitFollowUpEvent(tx, doc, "overdue", events::NewTraceparent());
  }
  return static_cast<std::int64_t>(ids.size());
}

http::Response ListFollowUps(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    LoadNomination(db, id);
    nlohmann::json items = nlohmann::json::array();
    auto stmt = db.Prepare("SELECT doc FROM followups WHERE nomination_id = ? ORDER BY months");
    stmt.Bind(1, id);
    while (stmt.Step()) items.push_back(nlohmann::json::parse(stmt.Text(0)));
    return http::Response::Json(200, {{"items", items}});
  });
}

http::Response SubmitFollowUpReport(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);  // the reader keeps a pointer into it
  http::ObjectReader in(body);
  const std::string summary = in.RequiredString("summary", 1, 5000);
  const auto activities = in.StringArray("activities", false, 50, 500);
  in.Finish();
  const std::string id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto doc = LoadFollowUp(tx, id);
      if (doc["status"] == "submitted") {
        throw http::ApiError::Conflict("the report of follow-up " + id + " was already submitted")
            .With("status", "submitted");
      }
      doc["status"] = "submitted";
      doc["report"] = {{"summary", summary},
                       {"activities", activities},
                       {"submitted_at", events::NowRfc3339()},
                       {"submitted_by", request.principal.subject}};
      SaveFollowUp(tx, doc, false);
      EmitFollowUpEvent(tx, doc, "submitted", std::string(request.Header("traceparent")));
      return http::Response::Json(201, doc);
    });
  });
}

http::Response RunFollowUpScan(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);  // the reader keeps a pointer into it
  http::ObjectReader in(body);
  const auto as_of = in.OptionalDate("as_of");
  in.Finish();
  const std::string today = as_of.value_or(TodayUtc());
  const auto count =
      context.store.Write([&](store::Db& tx) { return ScanOverdueFollowUps(tx, today); });
  return http::Response::Json(200, {{"as_of", today}, {"overdue", count}});
}

}  // namespace jilaf::invitations
