// The person read model: one history per person across invitations and missions, fed from the
// event topics alone (no call to another service), keyed by the person id invitations assigns.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/aggregate/search.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/events/people.hpp"
#include "common/util/clock.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

// The facts of an event a history item keeps: what happened and to which record.
constexpr const char* kItemFacts[] = {
    "status",       "previous_status", "reason",          "reversal",       "fiscal_year",
    "programme_id", "programme_title", "nomination_id",   "followup_id",    "months",
    "due_date",     "seminar_id",      "registration_id", "participant_id", "certificate_code",
    "changed",      "target_kind",     "target_id",       "target_title"};

std::string Text(const nlohmann::json& data, const char* key) {
  const auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "jilaf.invitations.nomination.completed" → service "invitations", what
// "nomination.completed"; the link is the owning service's resource.
nlohmann::json HistoryItem(const events::CloudEvent& event) {
  const auto rest = event.type.substr(std::string("jilaf.").size());
  const auto dot = rest.find('.');
  nlohmann::json item = {{"at", event.time},
                         {"event_id", event.id},
                         {"service", rest.substr(0, dot)},
                         {"what", rest.substr(dot + 1)}};
  for (const char* key : kItemFacts) {
    if (event.data.contains(key)) item[key] = event.data[key];
  }
  const std::string nomination = Text(event.data, "nomination_id");
  item["link"] = rest.find(".followup.") != std::string::npos || event.subject.empty()
                     ? "/v1/nominations/" + nomination + "/followups"
                     : "/v1/" + event.subject;
  return item;
}

// Names and nationality as the latest nomination event gives them (version 1 events carry the
// names; version 2 only the nationality), then the names of the person's record on the people
// topic, which is always the latest (ApplyPeopleRecord keeps them current).
void TakeNames(store::Db& tx, nlohmann::json& person, const events::CloudEvent& event) {
  const auto& candidate = event.data.value("candidate", nlohmann::json::object());
  if (candidate.is_object() && event.time >= person.value("names_at", std::string())) {
    for (const char* key : {"family_name", "given_name", "nationality"}) {
      if (candidate.contains(key)) person[key] = candidate[key];
    }
    person["names_at"] = event.time;
  }
  if (const auto record = events::PersonRecord(tx, person.at("id").get<std::string>())) {
    const auto names = record->value("candidate", nlohmann::json::object());
    for (const char* key : {"family_name", "given_name"}) {
      if (names.contains(key)) person[key] = names[key];
    }
  }
}

bool Erased(store::Db& tx, const std::string& person_id) {
  auto stmt = tx.Prepare("SELECT 1 FROM erased_people WHERE person_id = ?");
  stmt.Bind(1, person_id);
  return stmt.Step();
}

}  // namespace

const aggregate::DocTable& PeopleTable() {
  static const aggregate::DocTable table({"people",
                                          "person",
                                          "/v1/people",
                                          {{"nationality", "nationality"}},
                                          {},
                                          true,
                                          {"family_name", "given_name"}});
  return table;
}

void ApplyPersonEvent(store::Db& tx, const events::CloudEvent& event,
                      const events::MessageOrigin& /*origin*/) {
  if (!event.data.is_object() || !event.type.starts_with("jilaf.")) return;
  const std::string person_id = Text(event.data, "person_id");
  if (person_id.empty() || Erased(tx, person_id)) return;  // unknown, or erased
  auto found = PeopleTable().Find(tx, person_id);
  nlohmann::json person = found ? std::move(*found)
                                : nlohmann::json{{"id", person_id},
                                                 {"version", 1},
                                                 {"created_at", util::NowRfc3339()},
                                                 {"updated_at", util::NowRfc3339()},
                                                 {"history", nlohmann::json::array()}};
  if (event.type.starts_with("jilaf.invitations.nomination.")) TakeNames(tx, person, event);
  auto& history = person["history"];
  history.push_back(HistoryItem(event));
  // Time order, whatever order the topics' partitions delivered them in.
  std::stable_sort(history.begin(), history.end(), [](const auto& a, const auto& b) {
    return std::tie(a["at"], a["event_id"]) < std::tie(b["at"], b["event_id"]);
  });
  if (found) {
    PeopleTable().Update(tx, person);
  } else {
    PeopleTable().Insert(tx, person);
  }
}

http::Response GetPerson(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, PeopleTable(), request.Param("id"));
}

http::Response FindPeople(const http::Request& request, store::Store& store) {
  return aggregate::Find(
      store, request, PeopleTable(),
      {{"nationality", aggregate::Maybe(http::QueryCountry(request, "nationality"))}});
}

}  // namespace jilaf::missions
