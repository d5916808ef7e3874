#include "services/missions/records.hpp"

#include <algorithm>

#include "common/aggregate/search.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/aggregate/view.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/ids.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

// The mailboxes of registrants and participants are for staff; viewers see who takes part.
const std::vector<std::string> kPeopleViewerMasked = {"registrations[].email",
                                                      "participants[].email"};

// Keys as in the change events: registrations travel with their seminar, participants with
// their programme, engagements with their alumnus.
aggregate::SnapshotOf SnapshotSource(const Aggregate& of) {
  return {of.kind.table, of.kind.aggregate, [&of](store::Db&, const nlohmann::json& doc) {
            const std::string id = doc["id"];
            return events::SnapshotItem{id, of.subject + "/" + id, of.snapshot(doc)};
          }};
}

events::SnapshotItem AlumnusSnapshot(store::Db& db, const nlohmann::json& doc) {
  const std::string id = doc["id"];
  nlohmann::json engagements = nlohmann::json::array();
  for (const auto& e : Engagements(db, id)) {
    engagements.push_back({{"target_kind", e["kind"]},
                           {"target_id", e["target_id"]},
                           {"fiscal_year", e["fiscal_year"]},
                           {"invited", !e["invited_at"].is_null()},
                           {"registered", !e["registered_at"].is_null()}});
  }
  return {id,
          "alumni/" + id,
          {{"alumnus_id", id},
           {"nomination_id", doc["nomination_id"]},
           {"programme_id", doc["programme_id"]},
           {"fiscal_year", doc["fiscal_year"]},
           {"country", doc["country"]},
           {"engagements", std::move(engagements)}}};
}

// The corrected document: the merge patch over the correctable members, read again as on
// create; returns the names of the members that changed.
// 409 once the aggregate's state is final; 422 naming every patched member PATCH does not correct.
void RequireCorrectable(const Aggregate& of, const nlohmann::json& doc,
                        const nlohmann::json& patch) {
  const std::string status = doc["status"];
  if (of.states.Next(status).empty()) {
    throw http::ApiError::Conflict("a " + of.kind.table.spec().what + " in state " + status +
                                   " is final; it is no longer corrected")
        .With("status", status);
  }
  std::vector<http::FieldError> refused;
  if (patch.is_object()) {
    for (const auto& [key, value] : patch.items()) {
      if (std::find(of.corrects.begin(), of.corrects.end(), key) == of.corrects.end()) {
        refused.push_back({"/" + key, "is not corrected by PATCH"});
      }
    }
  }
  if (!refused.empty()) throw http::ApiError::Validation(std::move(refused));
}

nlohmann::json Revise(const Aggregate& of, const nlohmann::json& patch, nlohmann::json& doc) {
  RequireCorrectable(of, doc, patch);
  nlohmann::json body = nlohmann::json::object();
  for (const auto& key : of.corrects) {
    if (doc.contains(key)) body[key] = doc[key];
  }
  auto input = aggregate::MergePatch(std::move(body), patch);
  if (of.unchanged_input) input.update(of.unchanged_input(doc));
  auto fresh = of.read(input);
  for (const auto& key : of.keeps) fresh.erase(key);
  nlohmann::json changed = nlohmann::json::array();
  for (const auto& key : of.corrects) {
    if (fresh.value(key, nlohmann::json()) != doc.value(key, nlohmann::json())) {
      changed.push_back(key);
    }
  }
  doc.update(fresh);
  doc["fiscal_year"] = FiscalYearOf(doc["start_date"]);
  if (of.still) of.still(doc);
  return changed;
}

}  // namespace

http::Response UpdateRecord(const http::Request& request, store::Store& store,
                            const Aggregate& of) {
  const auto patch = http::ParseJsonBody(request);
  nlohmann::json changed;
  return aggregate::Modify(
      store, request, of.kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) { changed = Revise(of, patch, doc); },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        auto data = of.created(doc);
        data["status"] = doc["status"];
        data["changed"] = changed;
        change.Emit(Fact(of, doc, of.kind.aggregate, "updated", std::move(data)));
      });
}

http::Response CreateRecord(const http::Request& request, store::Store& store,
                            const Aggregate& of) {
  auto doc = of.read(http::ParseJsonBody(request));
  doc["status"] = "planned";
  doc["fiscal_year"] = FiscalYearOf(doc["start_date"]);
  doc["status_history"] = nlohmann::json::array();
  return aggregate::Create(
      store, request, of.kind, std::move(doc), {},
      [&of](aggregate::Change& change, const nlohmann::json& doc) {
        change.Emit(Fact(of, doc, of.kind.aggregate, "created", of.created(doc)));
      });
}

http::Response ListRecords(const http::Request& request, store::Store& store, const Aggregate& of) {
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto status = request.Query("status");
  const auto states = of.states.States();
  if (status && std::find(states.begin(), states.end(), *status) == states.end()) {
    throw http::ApiError::BadRequest("query parameter status is not a " +
                                     of.kind.table.spec().what + " status");
  }
  const aggregate::Filters filters = {
      {"fiscal_year", aggregate::Maybe(fiscal_year)},
      {"status", aggregate::Maybe(status)},
      {"country", aggregate::Maybe(http::QueryCountry(request, "country"))}};
  const auto query = aggregate::ReadListQuery(request, aggregate::FilterNames(filters));
  return store.Read([&](store::Db& db) {
    return http::Response::Json(
        200,
        aggregate::FindIn(db, query, of.kind.table, filters, [&](store::Db&, nlohmann::json doc) {
          return aggregate::ForReader(std::move(doc), request.principal, kPeopleViewerMasked);
        }));
  });
}

http::Response GetRecord(const http::Request& request, store::Store& store, const Aggregate& of) {
  const std::string id = request.Param("id");
  auto stored = store.Read([&](store::Db& db) { return of.kind.table.Find(db, id); });
  if (!stored) {
    throw http::ApiError::NotFound("no " + of.kind.table.spec().what + " with id " + id);
  }
  return aggregate::DocResponse(
      aggregate::ForReader(std::move(*stored), request.principal, kPeopleViewerMasked));
}

http::Response TransitionRecord(const http::Request& request, store::Store& store,
                                const Aggregate& of) {
  const auto input = ReadTransitionBody(http::ParseJsonBody(request), of.states);
  const aggregate::Lifecycle lifecycle{
      of.states, "status_history",
      [&of](aggregate::Change&, const nlohmann::json& doc, const std::string& from) {
        auto data = of.moved(doc);
        data["previous_status"] = from;
        return Fact(of, doc, of.kind.aggregate, doc.at("status"), std::move(data));
      }};
  return aggregate::Transition(store, request, of.kind, lifecycle, request.Param("id"), input,
                               [&](aggregate::Change& change, nlohmann::json& doc) {
                                 if (of.rule) of.rule(change, doc, input.to);
                               });
}

http::Response Join(const http::Request& request, store::Store& store, const Aggregate& of,
                    const std::string& collection, const nlohmann::json& member,
                    const aggregate::Rule& admit,
                    const std::function<aggregate::EventFacts(const nlohmann::json& doc)>& event) {
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      aggregate::Change change(tx, request, of.kind.events);
      auto doc = of.kind.table.Get(tx, request.Param("id"));
      admit(change, doc);
      of.kind.table.Update(tx, doc);
      change.Emit(event(doc));
      auto response = http::Response::Json(201, member);
      response.SetHeader("Location", of.kind.table.Location(doc) + "/" + collection + "/" +
                                         member.at("id").get<std::string>());
      response.SetHeader("ETag", http::MakeEtag(doc.at("version").get<std::int64_t>()));
      return response;
    });
  });
}

void LinkAlumnus(store::Db& tx, const std::string& kind, const nlohmann::json& doc,
                 nlohmann::json& person) {
  std::optional<std::string> nomination_id;
  if (person.contains("nomination_id")) nomination_id = person["nomination_id"];
  if (const auto alumnus = FindAlumnus(tx, person["email"], nomination_id)) {
    person["alumnus_id"] = *alumnus;
    const auto found = AlumniTable().Find(tx, *alumnus);
    if (found && found->contains("person_id")) person["person_id"] = (*found)["person_id"];
    LinkRegistration(tx, *alumnus, kind, doc["id"], doc["fiscal_year"].get<int>(), person["id"]);
  }
}

void RequireStatus(const nlohmann::json& doc, std::initializer_list<const char*> allowed,
                   const std::string& message) {
  const std::string status = doc.at("status");
  for (const char* state : allowed) {
    if (status == state) return;
  }
  throw http::ApiError::Conflict(message + status);
}

nlohmann::json ReadBilingual(http::ObjectReader& in, const std::string& key, bool required,
                             std::size_t max_len) {
  auto text = in.Object(key, required);
  if (!text) return nullptr;
  nlohmann::json out = {{"ja", text->RequiredString("ja", 1, max_len)},
                        {"en", text->RequiredString("en", 1, max_len)}};
  text->RejectUnknownFields();
  return out;
}

std::pair<std::string, std::string> ReadPeriod(http::ObjectReader& in, nlohmann::json& doc) {
  auto start = in.RequiredDate("start_date");
  auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start) {
    in.AddError("end_date", "must not be before start_date");
  }
  doc["start_date"] = start;
  doc["end_date"] = end;
  return {std::move(start), std::move(end)};
}

nlohmann::json ReadPerson(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json person = {{"id", util::NewTimeOrderedUuid()}};
  person["name"] = in.RequiredString("name", 1, 300);
  person["email"] = in.RequiredEmail("email");
  person["country"] = in.RequiredCountry("country");
  if (auto organisation = in.OptionalString("organisation", 300)) {
    person["organisation"] = *organisation;
  }
  if (auto nomination_id = in.OptionalString("nomination_id", 64)) {
    person["nomination_id"] = *nomination_id;
  }
  in.Finish();
  return person;
}

aggregate::TransitionInput ReadTransitionBody(const nlohmann::json& body,
                                              const domain::StateMachine& machine) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in, machine);
  in.Finish();
  return input;
}

http::Response PublishSnapshots(const http::Request& request, store::Store& store) {
  return aggregate::Snapshots(store, request, Events(),
                              {SnapshotSource(Mission()),
                               SnapshotSource(Seminar()),
                               SnapshotSource(Education()),
                               {AlumniTable(), "alumnus", AlumnusSnapshot}});
}

}  // namespace jilaf::missions
