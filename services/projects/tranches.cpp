#include <nlohmann/json.hpp>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "services/projects/input.hpp"
#include "services/projects/money.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/tables.hpp"

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

void CheckEditable(const nlohmann::json& doc) {
  if (doc["status"] != "planned" && doc["status"] != "requested") {
    throw http::ApiError::Conflict(
        "a tranche changes only while planned or requested; this one is " +
        doc["status"].get<std::string>())
        .With("status", doc["status"]);
  }
}

// The members a transition to `paid` may fix: the value date and the rate on it.
struct Payment {
  std::optional<std::string> value_date;
  std::optional<money::Rate> rate;
};

Payment ReadPayment(http::ObjectReader& in, const std::string& to) {
  Payment payment;
  payment.value_date = in.OptionalDate("value_date");
  const auto rate_text = in.OptionalString("exchange_rate", 30);
  in.Describe("exchange_rate", {{"type", "string"}, {"pattern", std::string(money::kRatePattern)}});
  if ((payment.value_date || rate_text) && to != "paid") {
    in.AddError(payment.value_date ? "value_date" : "exchange_rate",
                "is accepted only with to = paid (the rate is fixed on the value date)");
  }
  if (rate_text) {
    payment.rate = money::ParseRate(*rate_text);
    if (!payment.rate) {
      in.AddError("exchange_rate", "expected a positive decimal string, e.g. \"151.25\"");
    }
  }
  return payment;
}

struct TrancheMove {
  aggregate::TransitionInput input;
  Payment payment;
};

// A tranche's transition body: the move, and with `paid` the payment it may fix.
TrancheMove ReadTrancheMove(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in, rules::TrancheStates());
  auto payment = ReadPayment(in, input.to);
  in.Finish();
  return {std::move(input), std::move(payment)};
}

void ApplyPayment(nlohmann::json& doc, const Payment& payment) {
  if (payment.rate) {
    const auto jpy = money::ToJpy(doc["amount"], doc["currency"].get<std::string>(), *payment.rate);
    if (!jpy) {
      throw http::ApiError::Validation(
          {{"/exchange_rate", "does not convert this tranche's amount in " +
                                  doc["currency"].get<std::string>() + " (JPY needs \"1\")"}});
    }
    doc["exchange_rate"] = payment.rate->text;
    doc["amount_jpy"] = *jpy;
  }
  if (payment.value_date) doc["value_date"] = *payment.value_date;
}

// Money and reports rules of a move to `to`, once the payment (if any) is applied.
void CheckMove(store::Db& db, const nlohmann::json& doc, const std::string& to, bool rerated) {
  const auto project = ProjectOf(db, doc);
  if (to == "approved" || (to == "paid" && rerated)) {
    rules::CheckProjectCanDisburse(project["status"]);
    rules::CheckBudgetCeiling(project["budget"]["amount_jpy"],
                              rules::CommittedJpy(TrancheMoneyOf(db, project["id"]), doc["id"]),
                              doc["amount_jpy"]);
  }
  if (to == "approved") {
    const auto reports =
        Tables().reports.Where(db, {{"project_id", project["id"].get<std::string>()}});
    rules::CheckReportHold(ReportsDue(reports), doc["planned_date"]);
  }
}

// Who last moved the tranche to approved (its status history), "" when no one on record did.
std::string ApprovedBy(const nlohmann::json& doc) {
  std::string by;
  for (const auto& entry : doc.value("status_history", nlohmann::json::array())) {
    if (entry.value("to", "") == "approved") by = entry.value("by", "");
  }
  return by;
}

}  // namespace

nlohmann::json TrancheData(store::Db& db, const nlohmann::json& tranche) {
  const auto project = ProjectOf(db, tranche);
  auto data = Payload(tranche, "tranche_id",
                      {"project_id", "status", "amount", "currency", "exchange_rate", "amount_jpy",
                       "planned_date", "value_date", "version"});
  data.update(aggregate::Pick(project, {"country", "area", "support_type"}));
  data["project_fiscal_year"] = project["fiscal_year"];
  return data;
}

http::Response CreateTranche(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.tranche,
      ReadTranche(http::ParseJsonBody(request)),
      [](aggregate::Change&, const nlohmann::json& project, nlohmann::json& doc) {
        rules::CheckFinancingAllowed(project["support_type"]);
        rules::CheckProjectCanDisburse(project["status"]);
        doc["project_id"] = project["id"];
        doc["status"] = "planned";
        doc["status_history"] = nlohmann::json::array();
      },
      Announce(t.tranche, "planned", TrancheData));
}

http::Response UpdateTranche(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().tranche, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        CheckEditable(doc);
        auto editable = aggregate::Pick(
            doc, {"amount", "currency", "exchange_rate", "planned_date", "value_date", "note"});
        if (patch.is_object() && patch.contains("currency") && !patch.contains("exchange_rate")) {
          editable.erase("exchange_rate");  // a new currency needs its own rate
        }
        doc.update(ReadTranche(aggregate::MergePatch(editable, patch)));
      },
      Announce(Tables().tranche, "updated", TrancheData));
}

http::Response TransitionTranche(const http::Request& request, store::Store& store,
                                 const Settings& settings) {
  const auto move = ReadTrancheMove(http::ParseJsonBody(request));
  return aggregate::Transition(
      store, request, Tables().tranche,
      Moves(Tables().tranche, rules::TrancheStates(), TrancheData), request.Param("id"), move.input,
      [&](aggregate::Change& change, nlohmann::json& doc) {
        if (move.input.to == "paid") {
          rules::CheckPayerIsNotApprover(settings.separation_of_duties, ApprovedBy(doc),
                                         request.principal.subject);
        }
        ApplyPayment(doc, move.payment);
        CheckMove(change.tx, doc, move.input.to, move.payment.rate.has_value());
      });
}

http::Response TransitionTranche(const http::Request& request, store::Store& store) {
  return TransitionTranche(request, store, Settings{});
}

void AddTrancheBodies(std::vector<http::BodyContract>& out) {
  const auto read = [](const nlohmann::json& body) { (void)ReadTranche(body); };
  out.push_back({"/components/schemas/TrancheInput", read});
  out.push_back({PatchBody("/v1/tranches/{id}"), read, true});
  out.push_back({"/components/schemas/TrancheTransitionInput",
                 [](const nlohmann::json& body) { (void)ReadTrancheMove(body); }});
}

}  // namespace jilaf::projects
