#include "services/missions/seminars.hpp"

#include <cctype>

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/missions/alumni.hpp"
#include "services/missions/records.hpp"
#include "services/missions/rules.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

nlohmann::json ReadSeminar(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["title"] = ReadBilingual(in, "title", true, 300);
  auto co_organisers = in.StringArray("co_organisers", false, 20, 200);
  if (in.Raw("co_organisers") == nullptr) co_organisers = {"ITUC-AP"};
  doc["co_organisers"] = co_organisers;
  if (auto venue = in.Object("venue", true)) {
    doc["venue"] = {{"name", venue->RequiredString("name", 1, 300)},
                    {"city", venue->RequiredString("city", 1, 200)},
                    {"country", venue->RequiredCountry("country")}};
    venue->RejectUnknownFields();
    doc["country"] = doc["venue"]["country"];
  }
  const auto start = in.RequiredDate("start_date");
  const auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start) {
    in.AddError("end_date", "must not be before start_date");
  }
  doc["start_date"] = start;
  doc["end_date"] = end;
  doc["capacity"] = in.RequiredInt("capacity", 1, 2000);
  doc["agenda"] = ReadArray(in, "agenda", false, 100, [&](http::ObjectReader& item) {
    nlohmann::json out = {{"title", item.RequiredString("title", 1, 300)}};
    const auto date = item.OptionalDate("date");
    if (date && !start.empty() && !end.empty() && (*date < start || *date > end)) {
      item.AddError("date", "must fall between start_date and end_date");
    }
    if (date) out["date"] = *date;
    if (auto speaker = item.OptionalString("speaker", 300)) out["speaker"] = *speaker;
    return out;
  });
  in.Finish();
  doc["status"] = "planned";
  doc["fiscal_year"] = FiscalYearOf(start);
  doc["registrations"] = nlohmann::json::array();
  doc["history"] = nlohmann::json::array();
  return doc;
}

nlohmann::json RegistrationFacts(const nlohmann::json& seminar, const nlohmann::json& r) {
  return {{"seminar_id", seminar["id"]}, {"registration_id", r["id"]},
          {"status", r["status"]},       {"alumnus_id", r.value("alumnus_id", nlohmann::json())},
          {"country", r["country"]},     {"fiscal_year", seminar["fiscal_year"]}};
}

std::string Lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

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

http::Response CreateSeminar(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadSeminar(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      InsertRecord(tx, kSeminars, doc);
      const std::string id = doc["id"];
      Emit(tx, request, "seminar", "created", id, "seminars/" + id, SeminarFacts(doc));
      return RecordResponse(201, kSeminars, doc);
    });
  });
}

http::Response ListSeminars(const http::Request& request, store::Store& store) {
  return ListRecords(request, store, kSeminars, SeminarStates().States());
}

http::Response GetSeminar(const http::Request& request, store::Store& store) {
  const auto doc =
      store.Read([&](store::Db& db) { return LoadOr404(db, kSeminars, request.Param("id")); });
  return RecordResponse(200, kSeminars, doc);
}

http::Response TransitionSeminar(const http::Request& request, store::Store& store) {
  const auto input = ReadTransition(request);
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kSeminars, request.Param("id"));
    http::RequireIfMatch(request, doc["version"].get<std::int64_t>());
    const std::string from = doc["status"];
    SeminarStates().Check(from, input.to);
    doc["status"] = input.to;
    RecordHistory(doc, from, input.to, request, input.note);
    SaveRecord(tx, kSeminars, doc);
    const std::string id = doc["id"];
    auto data = SeminarFacts(doc);
    data["previous_status"] = from;
    int registered = 0;
    int waitlisted = 0;
    for (const auto& r : doc["registrations"]) {
      registered += r["status"] == "registered" ? 1 : 0;
      waitlisted += r["status"] == "waitlisted" ? 1 : 0;
    }
    data["registered"] = registered;
    data["waitlisted"] = waitlisted;
    Emit(tx, request, "seminar", input.to, id, "seminars/" + id, std::move(data));
    return RecordResponse(200, kSeminars, doc);
  });
}

http::Response RegisterForSeminar(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  std::optional<std::string> nomination_id;
  nlohmann::json registration = ReadPerson(in, nomination_id);
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto doc = LoadOr404(tx, kSeminars, request.Param("id"));
      if (doc["status"] != "registration_open") {
        throw http::ApiError::Conflict("registration is not open; the seminar is " +
                                       doc["status"].get<std::string>());
      }
      const std::string email = Lower(registration["email"]);
      for (const auto& other : doc["registrations"]) {
        if (other["status"] != "cancelled" && Lower(other["email"]) == email) {
          throw http::ApiError::Conflict("this email is already registered")
              .With("registration_id", other["id"]);
        }
      }
      const std::string id = doc["id"];
      registration["status"] = AdmissionFor(doc);
      registration["registered_at"] = events::NowRfc3339();
      if (nomination_id) registration["nomination_id"] = *nomination_id;
      const auto alumnus = FindAlumnus(tx, registration["email"], nomination_id);
      if (alumnus) {
        registration["alumnus_id"] = *alumnus;
        LinkRegistration(tx, *alumnus, "seminar", id, doc["fiscal_year"].get<int>(),
                         registration["id"]);
      }
      doc["registrations"].push_back(registration);
      SaveRecord(tx, kSeminars, doc);
      Emit(tx, request, "registration", registration["status"].get<std::string>(), id,
           "seminars/" + id, RegistrationFacts(doc, registration));
      auto response = http::Response::Json(201, registration);
      response.SetHeader("Location", "/v1/seminars/" + id + "/registrations/" +
                                         registration["id"].get<std::string>());
      response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
      return response;
    });
  });
}

http::Response CancelSeminarRegistration(const http::Request& request, store::Store& store) {
  return store.Write([&](store::Db& tx) {
    auto doc = LoadOr404(tx, kSeminars, request.Param("id"));
    const std::string status = doc["status"];
    if (status != "registration_open" && status != "registration_closed") {
      throw http::ApiError::Conflict(
          "registrations can be cancelled only before the seminar is "
          "held; it is " +
          status);
    }
    const std::string& registration_id = request.Param("registration_id");
    const auto promoted = CancelRegistration(doc, registration_id);
    SaveRecord(tx, kSeminars, doc);
    const std::string id = doc["id"];
    // The cancellation first, then the promotion it caused, in that order on the topic.
    for (const auto& r : doc["registrations"]) {
      if (r["id"] == registration_id) {
        if (r.contains("alumnus_id")) UnlinkRegistration(tx, r["alumnus_id"], "seminar", id);
        Emit(tx, request, "registration", "cancelled", id, "seminars/" + id,
             RegistrationFacts(doc, r));
      }
    }
    for (const auto& r : doc["registrations"]) {
      if (promoted && r["id"] == *promoted) {
        auto facts = RegistrationFacts(doc, r);
        facts["previous_status"] = "waitlisted";
        Emit(tx, request, "registration", "promoted", id, "seminars/" + id, std::move(facts));
      }
    }
    nlohmann::json body = {{"cancelled", registration_id},
                           {"promoted", promoted ? nlohmann::json(*promoted) : nlohmann::json()}};
    auto response = http::Response::Json(200, body);
    response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
    return response;
  });
}

}  // namespace jilaf::missions
