#include <nlohmann/json.hpp>

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

// expert {id, name}, role, country, from_date, to_date, note.
nlohmann::json ReadDispatch(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  if (auto expert = in.Object("expert", true)) {
    doc["expert"] = {{"id", expert->RequiredString("id", 1, 100)},
                     {"name", expert->RequiredString("name", 1, 200)}};
    expert->RejectUnknownFields();
  }
  doc["role"] = in.RequiredString("role", 1, 200);
  doc["country"] = in.RequiredCountry("country");
  const auto from = in.RequiredDate("from_date");
  const auto to = in.RequiredDate("to_date");
  CheckOrder(in, from, to, "to_date");
  doc["from_date"] = from;
  doc["to_date"] = to;
  doc["note"] = in.OptionalString("note", 2000).value_or("");
  in.Finish();
  return doc;
}

// Every other dispatch of the same person, whatever the project: the overlap rule is global.
void CheckOverlap(store::Db& db, const nlohmann::json& doc) {
  std::vector<rules::DispatchPeriod> existing;
  auto stmt = db.Prepare("SELECT doc FROM dispatches WHERE expert_id = ?");
  stmt.Bind(1, doc["expert"]["id"].get<std::string>());
  while (stmt.Step()) {
    const auto other = nlohmann::json::parse(stmt.Text(0));
    existing.push_back({other["id"], other["expert"]["id"], other["from_date"], other["to_date"],
                        other["status"]});
  }
  rules::CheckNoOverlap(existing, {doc.value("id", ""), doc["expert"]["id"], doc["from_date"],
                                   doc["to_date"], doc.value("status", "planned")});
}

nlohmann::json DispatchData(const nlohmann::json& dispatch) {
  return {{"dispatch_id", dispatch["id"]},  {"project_id", dispatch["project_id"]},
          {"expert", dispatch["expert"]},   {"role", dispatch["role"]},
          {"country", dispatch["country"]}, {"from_date", dispatch["from_date"]},
          {"to_date", dispatch["to_date"]}, {"status", dispatch["status"]},
          {"version", dispatch["version"]}};
}

std::string Subject(const nlohmann::json& dispatch) {
  return "dispatches/" + dispatch["id"].get<std::string>();
}

}  // namespace

http::Response CreateDispatch(const http::Request& request, store::Store& store) {
  auto doc = ReadDispatch(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto project = Require(tx, "projects", request.Param("id"), "project");
      rules::CheckDispatchAllowed(project["support_type"]);
      rules::CheckProjectCanDisburse(project["status"]);
      CheckOverlap(tx, doc);
      doc["project_id"] = project["id"];
      doc["status"] = "planned";
      doc["status_history"] = nlohmann::json::array();
      Stamp(doc, request);
      Insert(tx, "dispatches", doc);
      Emit(tx, request, "dispatch", "planned", project["id"], Subject(doc), DispatchData(doc));
      return Created(doc, "/v1/" + Subject(doc));
    });
  });
}

http::Response ListProjectDispatches(const http::Request& request, store::Store& store) {
  return ListPage(store, request, "dispatches", request.Param("id"));
}

http::Response ListDispatches(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto expert = request.Query("expert_id");
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM dispatches WHERE seq > ?1 AND (?2 IS NULL OR expert_id = ?2)"
        " ORDER BY seq LIMIT ?3");
    stmt.Bind(1, page.after.value_or(0)).Bind(2, expert).Bind(3, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetDispatch(const http::Request& request, store::Store& store) {
  return DocResponse(store.Read(
      [&](store::Db& db) { return Require(db, "dispatches", request.Param("id"), "dispatch"); }));
}

http::Response UpdateDispatch(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "dispatches", request.Param("id"), "dispatch");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    if (doc["status"] == "completed" || doc["status"] == "cancelled") {
      throw http::ApiError::Conflict("a " + doc["status"].get<std::string>() +
                                     " dispatch no longer changes")
          .With("status", doc["status"]);
    }
    doc.update(ReadDispatch(MergePatch(
        Pick(doc, {"expert", "role", "country", "from_date", "to_date", "note"}), patch)));
    CheckOverlap(tx, doc);
    Touch(doc);
    Save(tx, "dispatches", doc);
    Emit(tx, request, "dispatch", "updated", doc["project_id"], Subject(doc), DispatchData(doc));
    return DocResponse(doc);
  });
}

http::Response TransitionDispatch(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);  // the reader points into it
  http::ObjectReader in(body);
  const auto to = in.RequiredString("to", 1, 50);
  const auto comment = in.OptionalString("comment", 2000);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    auto doc = Require(tx, "dispatches", request.Param("id"), "dispatch");
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    rules::DispatchStates().Check(from, to);
    doc["status"] = to;
    doc["status_history"].push_back({{"from", from},
                                     {"to", to},
                                     {"at", events::NowRfc3339()},
                                     {"by", request.principal.subject},
                                     {"comment", comment.value_or("")}});
    Touch(doc);
    Save(tx, "dispatches", doc);
    auto data = DispatchData(doc);
    data["from"] = from;
    Emit(tx, request, "dispatch", to, doc["project_id"], Subject(doc), std::move(data));
    return DocResponse(doc);
  });
}

}  // namespace jilaf::projects
