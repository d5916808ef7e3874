#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

#include <nlohmann/json.hpp>

#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/calendar.hpp"
#include "common/util/clock.hpp"
#include "common/util/text.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

// Follow-up rows have no version column: the document counts its versions itself.
void SaveFollowUp(store::Db& tx, nlohmann::json& doc) {
  doc["version"] = doc.value("version", 1) + 1;
  doc["updated_at"] = util::NowRfc3339();
  FollowUps().Update(tx, doc);
}

void Announce(store::Db& tx, const nlohmann::json& followup, const std::string& what,
              std::string_view traceparent) {
  const auto nomination = Nominations().Get(tx, followup.at("nomination_id").get<std::string>());
  Events().Publish(tx, FollowUpFacts(followup, nomination, what), traceparent);
}

void RecordReport(const http::Request& request, nlohmann::json& doc, const std::string& summary,
                  const std::vector<std::string>& activities) {
  if (doc["status"] == "submitted") {
    throw http::ApiError::Conflict("the report of follow-up " + doc["id"].get<std::string>() +
                                   " was already submitted")
        .With("status", "submitted");
  }
  doc["status"] = "submitted";
  doc["report"] = {{"summary", summary},
                   {"activities", activities},
                   {"submitted_at", util::NowRfc3339()},
                   {"submitted_by", request.principal.subject}};
}

}  // namespace

std::int64_t ScanOverdueFollowUps(store::Db& tx, const std::string& today) {
  const auto ids = FollowUpsOverdueOn(tx, today);
  for (const auto& id : ids) {
    auto doc = FollowUps().Get(tx, id);
    doc["status"] = "overdue";
    SaveFollowUp(tx, doc);
    Announce(tx, doc, "overdue", {});  // a scan starts a trace of its own
  }
  return static_cast<std::int64_t>(ids.size());
}

http::Response ListFollowUps(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    (void)Nominations().Get(db, id);
    return http::Response::Json(200, ItemsOf(db, FollowUps(), "nomination_id", id, "months"));
  });
}

FollowUpReport ReadFollowUpReport(const nlohmann::json& body) {
  http::ObjectReader in(body);
  FollowUpReport report;
  report.summary = in.RequiredString("summary", 1, 5000);
  report.activities = in.StringArray("activities", false, 50, 500);
  in.Finish();
  return report;
}

std::optional<std::string> ReadScanDate(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto as_of = in.OptionalDate("as_of");
  in.Finish();
  return as_of;
}

http::Response SubmitFollowUpReport(const http::Request& request, Context& context) {
  const auto report = ReadFollowUpReport(http::ParseJsonBody(request));
  return context.store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto doc = FollowUps().Get(tx, request.Param("id"));
      RecordReport(request, doc, report.summary, report.activities);
      SaveFollowUp(tx, doc);
      Announce(tx, doc, "submitted", request.Header("traceparent"));
      return http::Response::Json(201, doc);
    });
  });
}

http::Response RunFollowUpScan(const http::Request& request, Context& context) {
  const auto as_of = ReadScanDate(http::ParseJsonBody(request));
  const std::string today = as_of.value_or(util::BusinessToday());
  const auto count =
      context.store.Write([&](store::Db& tx) { return ScanOverdueFollowUps(tx, today); });
  return http::Response::Json(200, {{"as_of", today}, {"overdue", count}});
}

}  // namespace jilaf::invitations
