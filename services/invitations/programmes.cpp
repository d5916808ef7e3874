#include "services/invitations/programmes.hpp"

#include <nlohmann/json.hpp>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {
namespace {

const std::vector<std::string_view> kTracks = {"developing", "industrialized"};
const std::vector<std::string_view> kStatuses = {"draft",   "open",      "selection", "confirmed",
                                                 "running", "completed", "cancelled"};

nlohmann::json ReadProgramme(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["fiscal_year"] = in.RequiredInt("fiscal_year", 1989, 2100);
  if (auto title = in.Object("title", true)) {
    doc["title"] = {{"ja", title->RequiredString("ja", 1, 300)},
                    {"en", title->RequiredString("en", 1, 300)}};
    title->RejectUnknownFields();
  }
  doc["track"] = in.RequiredEnum("track", kTracks);
  if (auto region = in.OptionalString("region", 100)) doc["region"] = *region;
  if (auto theme = in.OptionalString("theme", 300)) doc["theme"] = *theme;
  const auto start = in.RequiredDate("start_date");
  const auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start)
    in.AddError("end_date", "must not be before start_date");
  doc["start_date"] = start;
  doc["end_date"] = end;
  const auto seats = in.RequiredInt("seats", 1, 1000);
  doc["seats"] = seats;
  nlohmann::json quotas = nlohmann::json::object();
  if (const auto* raw = in.Raw("country_quotas")) {
    if (!raw->is_object()) {
      in.AddError("country_quotas", "expected an object mapping ISO 3166-1 alpha-2 codes to seats");
    } else {
      for (const auto& [country, quota] : raw->items()) {
        const bool code_ok = country.size() == 2 &&
                             std::isupper(static_cast<unsigned char>(country[0])) &&
                             std::isupper(static_cast<unsigned char>(country[1]));
        if (!code_ok) {
          in.AddError("country_quotas", "'" + country + "' is not an ISO 3166-1 alpha-2 code");
        } else if (!quota.is_number_integer() || quota.get<std::int64_t>() < 1 ||
                   quota.get<std::int64_t>() > seats) {
          in.AddError("country_quotas",
                      "quota for " + country + " must be an integer from 1 to seats");
        } else {
          quotas[country] = quota;
        }
      }
    }
  }
  doc["country_quotas"] = quotas;
  doc["host_organisations"] = in.StringArray("host_organisations", false, 50, 200);
  const auto status = in.OptionalEnum("status", {"draft", "open"});
  doc["status"] = status.value_or("draft");
  in.Finish();
  return doc;
}

}  // namespace

http::Response CreateProgramme(const http::Request& request, store::Store& store) {
  nlohmann::json doc = ReadProgramme(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const std::string now = events::NowRfc3339();
      doc["id"] = events::NewUuid();
      doc["version"] = 1;
      doc["created_at"] = now;
      doc["updated_at"] = now;
      const std::string id = doc["id"];
      auto insert = tx.Prepare(
          "INSERT INTO programmes(id, fiscal_year, track, status, version, doc, created_at,"
          " updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)");
      insert.Bind(1, id)
          .Bind(2, doc["fiscal_year"].get<std::int64_t>())
          .Bind(3, doc["track"].get<std::string>())
          .Bind(4, doc["status"].get<std::string>())
          .Bind(5, doc.dump())
          .Bind(6, now)
          .Bind(7, now);
      insert.Run();
      nlohmann::json data = {{"programme_id", id},
                             {"fiscal_year", doc["fiscal_year"]},
                             {"title", doc["title"]},
                             {"track", doc["track"]},
                             {"status", doc["status"]},
                             {"seats", doc["seats"]},
                             {"country_quotas", doc["country_quotas"]},
                             {"start_date", doc["start_date"]},
                             {"end_date", doc["end_date"]}};
      events::AppendToOutbox(
          tx, kEventsTopic,
          events::MakeEvent(kEventSource, "jilaf.invitations.programme.created", id,
                            "programmes/" + id, "/schemas/invitations/programme.created/v1.json",
                            std::move(data), std::string(request.Header("traceparent"))));
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", "/v1/programmes/" + id);
      response.SetHeader("ETag", http::MakeEtag(1));
      return response;
    });
  });
}

http::Response ListProgrammes(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto track = request.Query("track");
  const auto status = request.Query("status");
  if (track && std::find(kTracks.begin(), kTracks.end(), *track) == kTracks.end()) {
    throw http::ApiError::BadRequest("query parameter track must be developing or industrialized");
  }
  if (status && std::find(kStatuses.begin(), kStatuses.end(), *status) == kStatuses.end()) {
    throw http::ApiError::BadRequest("query parameter status is not a programme status");
  }
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM programmes WHERE seq > ?1"
        " AND (?2 IS NULL OR fiscal_year = ?2) AND (?3 IS NULL OR track = ?3)"
        " AND (?4 IS NULL OR status = ?4) ORDER BY seq LIMIT ?5");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, fiscal_year)
        .Bind(3, track)
        .Bind(4, status)
        .Bind(5, page.page_size + 1);
    const auto body = http::CollectPage(stmt, page.page_size);
    return http::Response::Json(200, body);
  });
}

http::Response GetProgramme(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM programmes WHERE id = ?", id);
  });
  if (!doc) throw http::ApiError::NotFound("no programme with id " + id);
  auto response = http::Response::Json(200, *doc);
  response.SetHeader("ETag", http::MakeEtag((*doc)["version"].get<std::int64_t>()));
  return response;
}

}  // namespace jilaf::invitations
