#include "services/invitations/logistics.hpp"

#include <nlohmann/json.hpp>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/records.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {
namespace {

// "YYYY-MM-DDTHH:MM" with optional ":SS", Japan local time of the visit.
bool IsLocalDateTime(const std::string& text) {
  if (text.size() != 16 && text.size() != 19) return false;
  if (!http::IsIsoDate(std::string_view(text).substr(0, 10)) || text[10] != 'T') return false;
  auto two = [&](std::size_t at, int max) {
    if (!std::isdigit(static_cast<unsigned char>(text[at])) ||
        !std::isdigit(static_cast<unsigned char>(text[at + 1]))) {
      return false;
    }
    return (text[at] - '0') * 10 + (text[at + 1] - '0') <= max;
  };
  return two(11, 23) && text[13] == ':' && two(14, 59) &&
         (text.size() == 16 || (text[16] == ':' && two(17, 59)));
}

std::optional<std::string> DateTime(http::ObjectReader& in, const std::string& key, bool required) {
  auto value = required ? std::optional(in.RequiredString(key, 1, 19)) : in.OptionalString(key, 19);
  if (value && !value->empty() && !IsLocalDateTime(*value)) {
    in.AddError(key, "expected a local date and time YYYY-MM-DDTHH:MM[:SS]");
    return std::nullopt;
  }
  return value;
}

nlohmann::json ReadFlight(http::ObjectReader& in, const std::string& key) {
  auto flight = in.Object(key, false);
  if (!flight) return nullptr;
  nlohmann::json out = {{"flight", flight->RequiredString("flight", 2, 20)},
                        {"airport", flight->RequiredString("airport", 3, 100)}};
  out["at"] = DateTime(*flight, "at", true).value_or("");
  flight->RejectUnknownFields();
  return out;
}

}  // namespace

http::Response CreateItineraryItem(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);  // the reader keeps a pointer into it
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["starts_at"] = DateTime(in, "starts_at", true).value_or("");
  if (auto ends = DateTime(in, "ends_at", false)) doc["ends_at"] = *ends;
  doc["organisation"] = in.RequiredString("organisation", 1, 200);
  doc["city"] = in.RequiredString("city", 1, 100);
  doc["topic"] = in.RequiredString("topic", 1, 500);
  doc["interpreter_needed"] = in.OptionalBool("interpreter_needed").value_or(false);
  if (doc.contains("ends_at") && doc["ends_at"] < doc["starts_at"]) {
    in.AddError("ends_at", "must not be before starts_at");
  }
  in.Finish();
  const std::string programme_id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto programme = LoadProgramme(tx, programme_id);
      if (programme["status"] == "cancelled" || programme["status"] == "completed") {
        throw http::ApiError::Conflict("programme " + programme_id + " is " +
                                       programme["status"].get<std::string>());
      }
      const std::string id = events::NewTimeOrderedUuid();
      doc["id"] = id;
      doc["programme_id"] = programme_id;
      doc["version"] = 1;
      doc["created_at"] = events::NowRfc3339();
      auto insert = tx.Prepare(
          "INSERT INTO itinerary_items(id, programme_id, starts_at, doc) VALUES (?, ?, ?, ?)");
      insert.Bind(1, id)
          .Bind(2, programme_id)
          .Bind(3, doc["starts_at"].get<std::string>())
          .Bind(4, doc.dump());
      insert.Run();
      nlohmann::json data = doc;
      data["itinerary_item_id"] = id;
      data["fiscal_year"] = programme["fiscal_year"];
      events::AppendToOutbox(
          tx, kEventsTopic,
          events::MakeEvent(kEventSource, "jilaf.invitations.itinerary_item.created", programme_id,
                            "programmes/" + programme_id + "/itinerary/" + id,
                            "/schemas/invitations/itinerary_item.created/v1.json", data,
                            std::string(request.Header("traceparent"))));
      auto response = JsonWithEtag(201, doc);
      response.SetHeader("Location", "/v1/programmes/" + programme_id + "/itinerary");
      return response;
    });
  });
}

http::Response ListItinerary(const http::Request& request, Context& context) {
  const std::string programme_id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    LoadProgramme(db, programme_id);
    nlohmann::json items = nlohmann::json::array();
    auto stmt = db.Prepare(
        "SELECT doc FROM itinerary_items WHERE programme_id = ? ORDER BY starts_at, seq");
    stmt.Bind(1, programme_id);
    while (stmt.Step()) items.push_back(nlohmann::json::parse(stmt.Text(0)));
    return http::Response::Json(200, {{"items", items}});
  });
}

http::Response PutLogistics(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);  // the reader keeps a pointer into it
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["arrival"] = ReadFlight(in, "arrival");
  doc["departure"] = ReadFlight(in, "departure");
  if (auto hotel = in.Object("hotel", false)) {
    doc["hotel"] = {{"name", hotel->RequiredString("name", 1, 200)},
                    {"city", hotel->RequiredString("city", 1, 100)},
                    {"check_in", hotel->RequiredDate("check_in")},
                    {"check_out", hotel->RequiredDate("check_out")}};
    if (doc["hotel"]["check_out"] < doc["hotel"]["check_in"]) {
      hotel->AddError("check_out", "must not be before check_in");
    }
    hotel->RejectUnknownFields();
  } else {
    doc["hotel"] = nullptr;
  }
  in.Finish();
  const std::string id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    const auto nomination = LoadNomination(tx, id);
    if (!HoldsSeat(nomination["status"].get<std::string>())) {
      throw http::ApiError::Conflict("nomination " + id + " is " +
                                     nomination["status"].get<std::string>() +
                                     "; logistics are arranged for selected participants")
          .With("status", nomination["status"]);
    }
    const auto existing =
        store::LoadJsonDoc(tx, "SELECT doc FROM logistics WHERE nomination_id = ?", id);
    std::int64_t version = 1;
    if (existing) {
      http::RequireIfMatch(request, (*existing)["version"].get<std::int64_t>());
      version = (*existing)["version"].get<std::int64_t>() + 1;
    }
    doc["nomination_id"] = id;
    doc["version"] = version;
    doc["updated_at"] = events::NowRfc3339();
    auto upsert = tx.Prepare(
        "INSERT INTO logistics(nomination_id, version, doc) VALUES (?, ?, ?)"
        " ON CONFLICT(nomination_id) DO UPDATE SET version = excluded.version, doc = excluded.doc");
    upsert.Bind(1, id).Bind(2, version).Bind(3, doc.dump());
    upsert.Run();
    const auto programme = LoadProgramme(tx, nomination["programme_id"]);
    EmitNominationEvent(tx, programme, nomination, std::nullopt,
                        std::string(request.Header("traceparent")),
                        {{"logistics_version", version},
                         {"arrival", doc["arrival"]},
                         {"departure", doc["departure"]},
                         {"hotel", doc["hotel"]}},
                        "logistics_updated");
    return JsonWithEtag(existing ? 200 : 201, doc);
  });
}

http::Response GetLogistics(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    LoadNomination(db, id);
    auto doc = store::LoadJsonDoc(db, "SELECT doc FROM logistics WHERE nomination_id = ?", id);
    if (!doc) throw http::ApiError::NotFound("no logistics recorded for nomination " + id);
    return JsonWithEtag(200, *doc);
  });
}

}  // namespace jilaf::invitations
