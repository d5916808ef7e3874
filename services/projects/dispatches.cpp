#include <nlohmann/json.hpp>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "services/projects/input.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/rules.hpp"
#include "services/projects/tables.hpp"

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
  const std::string expert_id = doc["expert"]["id"];
  for (const auto& other : Tables().dispatches.Where(db, {{"expert_id", expert_id}})) {
    existing.push_back({other["id"], other["expert"]["id"], other["from_date"], other["to_date"],
                        other["status"]});
  }
  rules::CheckNoOverlap(existing, {doc.value("id", ""), doc["expert"]["id"], doc["from_date"],
                                   doc["to_date"], doc.value("status", "planned")});
}

nlohmann::json Data(store::Db&, const nlohmann::json& dispatch) {
  return Payload(
      dispatch, "dispatch_id",
      {"project_id", "expert", "role", "country", "from_date", "to_date", "status", "version"});
}

}  // namespace

http::Response CreateDispatch(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.dispatch,
      ReadDispatch(http::ParseJsonBody(request)),
      [&](aggregate::Change& change, const nlohmann::json& project, nlohmann::json& doc) {
        rules::CheckDispatchAllowed(project["support_type"]);
        rules::CheckProjectCanDisburse(project["status"]);
        CheckOverlap(change.tx, doc);
        doc["project_id"] = project["id"];
        doc["status"] = "planned";
        doc["status_history"] = nlohmann::json::array();
      },
      Announce(Tables().dispatch, "planned", Data));
}

http::Response ListDispatches(const http::Request& request, store::Store& store) {
  return aggregate::List(store, request, Tables().dispatches,
                         {{"expert_id", aggregate::Maybe(request.Query("expert_id"))}});
}

http::Response UpdateDispatch(const http::Request& request, store::Store& store) {
  const auto patch = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().dispatch, request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) {
        if (doc["status"] == "completed" || doc["status"] == "cancelled") {
          throw http::ApiError::Conflict("a " + doc["status"].get<std::string>() +
                                         " dispatch no longer changes")
              .With("status", doc["status"]);
        }
        doc.update(ReadDispatch(aggregate::MergePatch(
            aggregate::Pick(doc, {"expert", "role", "country", "from_date", "to_date", "note"}),
            patch)));
        CheckOverlap(change.tx, doc);
      },
      Announce(Tables().dispatch, "updated", Data));
}

http::Response TransitionDispatch(const http::Request& request, store::Store& store) {
  const auto input = ReadMove(http::ParseJsonBody(request), rules::DispatchStates());
  return aggregate::Transition(store, request, Tables().dispatch,
                               Moves(Tables().dispatch, rules::DispatchStates(), Data),
                               request.Param("id"), input);
}

void AddDispatchBodies(std::vector<http::BodyContract>& out) {
  const auto read = [](const nlohmann::json& body) { (void)ReadDispatch(body); };
  out.push_back({"/components/schemas/DispatchInput", read});
  out.push_back({PatchBody("/v1/dispatches/{id}"), read, true});
}

}  // namespace jilaf::projects
