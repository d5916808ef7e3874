#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

#include <nlohmann/json.hpp>

#include "common/aggregate/sequences.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

// "YYYY-MM-DDTHH:MM" with optional ":SS", Japan local time of the visit.
bool IsLocalDateTime(std::string_view text) {
  if (text.size() != 16 && text.size() != 19) return false;
  if (!http::IsIsoDate(text.substr(0, 10)) || text[10] != 'T') return false;
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

constexpr http::TextRule kLocalDateTime = {
    "^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|"
    "[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|((19|[2-9][0-9])(0[48]|[2468][048]|[13579][26])|(["
    "2468][048]|[3579][26])00)-02-29)T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
    IsLocalDateTime, "a local date and time YYYY-MM-DDTHH:MM[:SS]", 16, 19};

std::optional<std::string> DateTime(http::ObjectReader& in, const std::string& key, bool required) {
  if (required) return in.RequiredText(key, kLocalDateTime);
  return in.OptionalText(key, kLocalDateTime);
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

// What a visit's body holds (and a correction may change).
constexpr std::initializer_list<const char*> kItemMembers = {
    "starts_at", "ends_at", "organisation", "city", "topic", "interpreter_needed"};

}  // namespace

nlohmann::json ReadItineraryItem(const nlohmann::json& body) {
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
  return doc;
}

namespace {

void AddToProgramme(const nlohmann::json& programme, nlohmann::json& item) {
  const std::string programme_id = programme.at("id");
  if (programme["status"] == "cancelled" || programme["status"] == "completed") {
    throw http::ApiError::Conflict("programme " + programme_id + " is " +
                                   programme["status"].get<std::string>());
  }
  item["programme_id"] = programme_id;
}

// `itinerary_item.<what>`, keyed by the programme (`extra` merged into the data).
void EmitItem(aggregate::Change& change, const nlohmann::json& item,
              const nlohmann::json& fiscal_year, const std::string& what,
              const nlohmann::json& extra = nlohmann::json::object()) {
  const std::string programme_id = item.at("programme_id");
  const std::string id = item.at("id");
  nlohmann::json data = item;
  data["itinerary_item_id"] = id;
  data["fiscal_year"] = fiscal_year;
  data.update(extra);
  change.Emit({"itinerary_item", what, programme_id,
               "programmes/" + programme_id + "/itinerary/" + id, std::move(data)});
}

void AnnounceItem(aggregate::Change& change, const nlohmann::json& item,
                  const nlohmann::json& fiscal_year) {
  const std::string programme_id = item.at("programme_id");
  EmitItem(change, item, fiscal_year, "created");
  auto response = aggregate::DocResponse(item, 201);
  response.SetHeader("Location", "/v1/programmes/" + programme_id + "/itinerary");
  change.Respond(std::move(response));
}

}  // namespace

nlohmann::json ReadLogistics(const nlohmann::json& body) {
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
  return doc;
}

namespace {

void RequireSeat(const nlohmann::json& nomination) {
  const std::string status = nomination.at("status");
  if (!HoldsSeat(status)) {
    throw http::ApiError::Conflict("nomination " + nomination.at("id").get<std::string>() + " is " +
                                   status + "; logistics are arranged for selected participants")
        .With("status", status);
  }
}

// The logistics row keeps the nomination's id as its own and a creation time: neither is part of
// the answer.
http::Response LogisticsResponse(nlohmann::json doc, int status) {
  doc.erase("id");
  doc.erase("created_at");
  return aggregate::DocResponse(doc, status);
}

// Stores `doc` as the nomination's logistics: the first version, or the next one under If-Match.
bool StoreLogistics(store::Db& tx, const http::Request& request, const std::string& id,
                    nlohmann::json& doc) {
  const auto existing = Logistics().Find(tx, id);
  doc["id"] = id;
  doc["nomination_id"] = id;
  if (!existing) {
    doc["version"] = 1;
    doc["created_at"] = doc["updated_at"] = util::NowRfc3339();
    Logistics().Insert(tx, doc);
    return true;
  }
  http::RequireIfMatch(request, existing->at("version").get<std::int64_t>());
  doc["version"] = existing->at("version");
  doc["created_at"] = existing->at("created_at");
  Logistics().Update(tx, doc);
  return false;
}

}  // namespace

http::Response CreateItineraryItem(const http::Request& request, Context& context) {
  nlohmann::json fiscal_year;
  return aggregate::CreateChild(
      context.store, request, Programmes(), request.Param("id"), ItineraryKind(),
      ReadItineraryItem(http::ParseJsonBody(request)),
      [&](aggregate::Change&, const nlohmann::json& programme, nlohmann::json& item) {
        AddToProgramme(programme, item);
        fiscal_year = programme.at("fiscal_year");
      },
      [&](aggregate::Change& change, const nlohmann::json& item) {
        AnnounceItem(change, item, fiscal_year);
      });
}

http::Response CorrectItineraryItem(const http::Request& request, Context& context) {
  const auto patch = http::ParseJsonBody(request);
  nlohmann::json fiscal_year;
  nlohmann::json changed = nlohmann::json::array();
  return aggregate::Modify(
      context.store, request, ItineraryKind(), request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& item) {
        const auto programme =
            Programmes().Get(change.tx, item.at("programme_id").get<std::string>());
        AddToProgramme(programme, item);  // not in a cancelled or completed programme
        fiscal_year = programme.at("fiscal_year");
        const auto before = aggregate::Pick(item, kItemMembers);
        auto after = ReadItineraryItem(aggregate::MergePatch(before, patch));
        for (const char* key : kItemMembers) {
          if (before.value(key, nlohmann::json()) != after.value(key, nlohmann::json())) {
            changed.push_back(key);
          }
          if (!after.contains(key)) item.erase(key);
        }
        item.update(after);
      },
      [&](aggregate::Change& change, const nlohmann::json& item) {
        EmitItem(change, item, fiscal_year, "updated", {{"changed", changed}});
      });
}

http::Response GetItineraryItem(const http::Request& request, Context& context) {
  return aggregate::Get(context.store, ItineraryItems(), request.Param("id"));
}

http::Response ListItinerary(const http::Request& request, Context& context) {
  const std::string programme_id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    (void)Programmes().Get(db, programme_id);
    return http::Response::Json(
        200, ItemsOf(db, ItineraryItems(), "programme_id", programme_id, "starts_at"));
  });
}

http::Response PutLogistics(const http::Request& request, Context& context) {
  auto doc = ReadLogistics(http::ParseJsonBody(request));
  const std::string id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    const auto nomination = Nominations().Get(tx, id);
    RequireSeat(nomination);
    const bool created = StoreLogistics(tx, request, id, doc);
    const auto programme = Programmes().Get(tx, nomination.at("programme_id").get<std::string>());
    auto extra = aggregate::Pick(doc, {"arrival", "departure", "hotel"});  // null when not given
    extra["logistics_version"] = doc["version"];
    Events().Publish(
        tx, NominationFacts(programme, nomination, std::nullopt, extra, "logistics_updated"),
        request.Header("traceparent"));
    return LogisticsResponse(doc, created ? 201 : 200);
  });
}

http::Response GetLogistics(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  return context.store.Read([&](store::Db& db) {
    (void)Nominations().Get(db, id);
    auto doc = Logistics().Find(db, id);
    if (!doc) throw http::ApiError::NotFound("no logistics recorded for nomination " + id);
    return LogisticsResponse(std::move(*doc), 200);
  });
}

}  // namespace jilaf::invitations
