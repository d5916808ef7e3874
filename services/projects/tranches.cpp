#include <nlohmann/json.hpp>

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/input.hpp"
#include "services/projects/money.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/store.hpp"

namespace jilaf::projects {
namespace {

// amount, currency, exchange_rate (fixed on value_date), planned_date, value_date, note.
nlohmann::json ReadTranche(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc = ReadMoney(in);
  const auto planned = in.RequiredDate("planned_date");
  doc["planned_date"] = planned;
  doc["value_date"] = in.OptionalDate("value_date").value_or(planned);
  doc["note"] = in.OptionalString("note", 2000).value_or("");
  in.Finish();
  return doc;
}

}  // namespace

nlohmann::json TrancheData(const nlohmann::json& tranche, const nlohmann::json& project) {
  return {{"tranche_id", tranche["id"]},
          {"project_id", project["id"]},
          {"status", tranche["status"]},
          {"amount", tranche["amount"]},
          {"currency", tranche["currency"]},
          {"exchange_rate", tranche["exchange_rate"]},
          {"amount_jpy", tranche["amount_jpy"]},
          {"planned_date", tranche["planned_date"]},
          {"value_date", tranche["value_date"]},
          {"country", project["country"]},
          {"area", project["area"]},
          {"support_type", project["support_type"]},
          {"project_fiscal_year", project["fiscal_year"]},
          {"version", tranche["version"]}};
}

namespace {

std::vector<rules::TrancheMoney> MoneyOf(store::Db& db, const std::string& project_id) {
  std::vector<rules::TrancheMoney> out;
  for (const auto& t : ForProject(db, "tranches", project_id)) {
    out.push_back({t["id"], t["status"], t["amount_jpy"]});
  }
  return out;
}

std::vector<rules::ReportDue> ReportsOf(store::Db& db, const std::string& project_id) {
  std::vector<rules::ReportDue> out;
  for (const auto& r : ForProject(db, "reports", project_id)) {
    out.push_back({r["id"], r["kind"], r["due_date"], r["status"], std::nullopt});
  }
  return out;
}

std::string Subject(const nlohmann::json& tranche) {
  return "tranches/" + tranche["id"].get<std::string>();
}

}  // namespace

http::Response CreateTranche(const http::Request& request, store::Store& store) {
  auto doc = ReadTranche(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto project = Require(tx, "projects", request.Param("id"), "project");
      rules::CheckFinancingAllowed(project["support_type"]);
      rules::CheckProjectCanDisburse(project["status"]);
      doc["project_id"] = project["id"];
      doc["status"] = "planned";
      doc["status_history"] = nlohmann::json::array();
      Stamp(doc, request);
      Insert(tx, "tranches", doc);
      Emit(tx, request, "tranche", "planned", project["id"], Subject(doc),
           TrancheData(doc, project));
      return Created(doc, "/v1/" + Subject(doc));
    });
  });
}

http::Response ListTranches(const http::Request& request, store::Store& store) {
  return ListPage(store, request, "tranches", request.Param("id"));
}

http::Response GetTranche(const http::Request& request, store::Store& store) {
  return DocResponse(store.Read(
      [&](store::Db& db) { return Require(db, "tranches", request.Param("id"), "tranche"); }));
}

http::Response UpdateTranche(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "tranches", request.Param("id"), "tranche");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    if (doc["status"] != "planned" && doc["status"] != "requested") {
      throw http::ApiError::Conflict(
          "a tranche changes only while planned or requested; this one is " +
          doc["status"].get<std::string>())
          .With("status", doc["status"]);
    }
    auto editable =
        Pick(doc, {"amount", "currency", "exchange_rate", "planned_date", "value_date", "note"});
    if (patch.is_object() && patch.contains("currency") && !patch.contains("exchange_rate")) {
      editable.erase("exchange_rate");  // a new currency needs its own rate
    }
    doc.update(ReadTranche(MergePatch(editable, patch)));
    Touch(doc);
    Save(tx, "tranches", doc);
    const auto project = Require(tx, "projects", doc["project_id"], "project");
    Emit(tx, request, "tranche", "updated", project["id"], Subject(doc), TrancheData(doc, project));
    return DocResponse(doc);
  });
}

http::Response TransitionTranche(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);  // the reader points into it
  http::ObjectReader in(body);
  const auto to = in.RequiredString("to", 1, 50);
  const auto comment = in.OptionalString("comment", 2000);
  const auto value_date = in.OptionalDate("value_date");
  const auto rate_text = in.OptionalString("exchange_rate", 30);
  if ((value_date || rate_text) && to != "paid") {
    in.AddError(value_date ? "value_date" : "exchange_rate",
                "is accepted only with to = paid (the rate is fixed on the value date)");
  }
  std::optional<money::Rate> rate;
  if (rate_text) {
    rate = money::ParseRate(*rate_text);
    if (!rate) in.AddError("exchange_rate", "expected a positive decimal string, e.g. \"151.25\"");
  }
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "tranches", request.Param("id"), "tranche");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    rules::TrancheStates().Check(from, to);
    const auto project = Require(tx, "projects", doc["project_id"], "project");
    if (rate) {
      const auto jpy = money::ToJpy(doc["amount"], doc["currency"].get<std::string>(), *rate);
      if (!jpy) {
        throw http::ApiError::Validation(
            {{"/exchange_rate", "does not convert this tranche's amount in " +
                                    doc["currency"].get<std::string>() + " (JPY needs \"1\")"}});
      }
      doc["exchange_rate"] = rate->text;
      doc["amount_jpy"] = *jpy;
    }
    if (value_date) doc["value_date"] = *value_date;
    if (to == "approved" || (to == "paid" && rate)) {
      rules::CheckProjectCanDisburse(project["status"]);
      rules::CheckBudgetCeiling(project["budget"]["amount_jpy"],
                                rules::CommittedJpy(MoneyOf(tx, project["id"]), doc["id"]),
                                doc["amount_jpy"]);
    }
    if (to == "approved") rules::CheckReportHold(ReportsOf(tx, project["id"]), doc["planned_date"]);
    doc["status"] = to;
    doc["status_history"].push_back({{"from", from},
                                     {"to", to},
                                     {"at", events::NowRfc3339()},
                                     {"by", request.principal.subject},
                                     {"comment", comment.value_or("")}});
    Touch(doc);
    Save(tx, "tranches", doc);
    auto data = TrancheData(doc, project);
    data["from"] = from;
    Emit(tx, request, "tranche", to, project["id"], Subject(doc), std::move(data));
    return DocResponse(doc);
  });
}

}  // namespace jilaf::projects
