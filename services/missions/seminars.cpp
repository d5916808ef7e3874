#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/records.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/rules.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

void ReadVenue(http::ObjectReader& in, nlohmann::json& doc) {
  if (auto venue = in.Object("venue", true)) {
    doc["venue"] = {{"name", venue->RequiredString("name", 1, 300)},
                    {"city", venue->RequiredString("city", 1, 200)},
                    {"country", venue->RequiredCountry("country")}};
    venue->RejectUnknownFields();
    doc["country"] = doc["venue"]["country"];
  }
}

nlohmann::json ReadAgenda(http::ObjectReader& in, const std::string& start,
                          const std::string& end) {
  return ReadArray(in, "agenda", false, 100, [&](http::ObjectReader& item) {
    nlohmann::json out = {{"title", item.RequiredString("title", 1, 300)}};
    const auto date = item.OptionalDate("date");
    if (date && !start.empty() && !end.empty() && (*date < start || *date > end)) {
      item.AddError("date", "must fall between start_date and end_date");
    }
    if (date) out["date"] = *date;
    if (auto speaker = item.OptionalString("speaker", 300)) out["speaker"] = *speaker;
    return out;
  });
}

nlohmann::json RegistrationFacts(const nlohmann::json& seminar, const nlohmann::json& r) {
  nlohmann::json facts = {
      {"seminar_id", seminar["id"]}, {"registration_id", r["id"]},
      {"status", r["status"]},       {"alumnus_id", r.value("alumnus_id", nlohmann::json())},
      {"country", r["country"]},     {"fiscal_year", seminar["fiscal_year"]}};
  if (r.contains("person_id")) facts["person_id"] = r["person_id"];
  return facts;
}

// Registers (or waitlists) `registration` for the seminar `doc`, linking it to alumni history.
void Admit(store::Db& tx, nlohmann::json& doc, nlohmann::json& registration) {
  RequireStatus(doc, {"registration_open"}, "registration is not open; the seminar is ");
  const std::string email = Lower(registration["email"]);
  for (const auto& other : doc["registrations"]) {
    if (other["status"] != "cancelled" && Lower(other["email"]) == email) {
      throw http::ApiError::Conflict("this email is already registered")
          .With("registration_id", other["id"]);
    }
  }
  registration["status"] = AdmissionFor(doc);
  registration["registered_at"] = util::NowRfc3339();
  LinkAlumnus(tx, "seminar", doc, registration);
  doc["registrations"].push_back(registration);
}

// The cancellation first, then the promotion it caused, in that order on the topic.
void AnnounceCancellation(aggregate::Change& change, const nlohmann::json& doc,
                          const std::string& cancelled,
                          const std::optional<std::string>& promoted) {
  const std::string id = doc["id"];
  for (const auto& r : doc["registrations"]) {
    if (r["id"] != cancelled) continue;
    if (r.contains("alumnus_id")) UnlinkRegistration(change.tx, r["alumnus_id"], "seminar", id);
    change.Emit(Fact(Seminar(), doc, "registration", "cancelled", RegistrationFacts(doc, r)));
  }
  for (const auto& r : doc["registrations"]) {
    if (!promoted || r["id"] != *promoted) continue;
    auto facts = RegistrationFacts(doc, r);
    facts["previous_status"] = "waitlisted";
    change.Emit(Fact(Seminar(), doc, "registration", "promoted", std::move(facts)));
  }
  auto response = http::Response::Json(
      200, {{"cancelled", cancelled},
            {"promoted", promoted ? nlohmann::json(*promoted) : nlohmann::json()}});
  response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
  change.Respond(std::move(response));
}

}  // namespace

nlohmann::json ReadSeminar(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  auto co_organisers = in.StringArray("co_organisers", false, 20, 200);
  if (in.Raw("co_organisers") == nullptr) co_organisers = {"ITUC-AP"};
  doc["co_organisers"] = co_organisers;
  ReadVenue(in, doc);
  const auto [start, end] = ReadPeriod(in, doc);
  doc["capacity"] = in.RequiredInt("capacity", 1, 2000);
  doc["agenda"] = ReadAgenda(in, start, end);
  in.Finish();
  doc["registrations"] = nlohmann::json::array();
  return doc;
}

void CheckCapacityCoversRegistrations(const nlohmann::json& doc) {
  std::int64_t registered = 0;
  for (const auto& r : doc["registrations"]) registered += r["status"] == "registered" ? 1 : 0;
  if (doc["capacity"].get<std::int64_t>() < registered) {
    throw http::ApiError(409, "capacity-below-registrations", "Capacity below registrations",
                         "the seminar already has " + std::to_string(registered) +
                             " registered participants; capacity cannot be lower")
        .With("field", "/capacity")
        .With("registered", registered);
  }
}

nlohmann::json SeminarFacts(const nlohmann::json& doc) {
  return {{"seminar_id", doc["id"]},
          {"title", doc["title"]},
          {"co_organisers", doc["co_organisers"]},
          {"venue", doc["venue"]},
          {"fiscal_year", doc["fiscal_year"]},
          {"start_date", doc["start_date"]},
          {"end_date", doc["end_date"]},
          {"capacity", doc["capacity"]},
          {"status", doc["status"]}};
}

nlohmann::json SeminarMoved(const nlohmann::json& doc) {
  auto data = SeminarFacts(doc);
  int registered = 0;
  int waitlisted = 0;
  for (const auto& r : doc["registrations"]) {
    registered += r["status"] == "registered" ? 1 : 0;
    waitlisted += r["status"] == "waitlisted" ? 1 : 0;
  }
  data["registered"] = registered;
  data["waitlisted"] = waitlisted;
  return data;
}

nlohmann::json SeminarSnapshot(const nlohmann::json& doc) {
  nlohmann::json registrations = nlohmann::json::array();
  for (const auto& r : doc["registrations"]) {
    registrations.push_back({{"registration_id", r["id"]},
                             {"status", r["status"]},
                             {"alumnus_id", r.value("alumnus_id", nlohmann::json())},
                             {"country", r["country"]}});
  }
  auto data = SeminarFacts(doc);
  data["registrations"] = std::move(registrations);
  return data;
}

http::Response RegisterForSeminar(const http::Request& request, store::Store& store) {
  auto registration = ReadPerson(http::ParseJsonBody(request));
  return Join(
      request, store, Seminar(), "registrations", registration,
      [&](aggregate::Change& change, nlohmann::json& doc) { Admit(change.tx, doc, registration); },
      [&](const nlohmann::json& doc) {
        return Fact(Seminar(), doc, "registration", registration["status"],
                    RegistrationFacts(doc, registration));
      });
}

http::Response CancelSeminarRegistration(const http::Request& request, store::Store& store) {
  const std::string& registration_id = request.Param("registration_id");
  std::optional<std::string> promoted;
  return aggregate::Amend(
      store, request, Seminar().kind, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        RequireStatus(doc, {"registration_open", "registration_closed"},
                      "registrations can be cancelled only before the seminar is held; it is ");
        promoted = CancelRegistration(doc, registration_id);
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        AnnounceCancellation(change, doc, registration_id, promoted);
      });
}

}  // namespace jilaf::missions
