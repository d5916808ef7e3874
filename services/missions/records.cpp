#include "services/missions/records.hpp"

#include <algorithm>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {

nlohmann::json LoadOr404(store::Db& db, const Table& table, const std::string& id) {
  auto doc =
      store::LoadJsonDoc(db, std::string("SELECT doc FROM ") + table.name + " WHERE id = ?", id);
  if (!doc) throw http::ApiError::NotFound(std::string("no ") + table.what + " with id " + id);
  return std::move(*doc);
}

void InsertRecord(store::Db& tx, const Table& table, nlohmann::json& doc) {
  const std::string now = events::NowRfc3339();
  doc["id"] = events::NewTimeOrderedUuid();
  doc["version"] = 1;
  doc["created_at"] = now;
  doc["updated_at"] = now;
  auto insert = tx.Prepare(std::string("INSERT INTO ") + table.name +
                           "(id, status, fiscal_year, version, doc, created_at, updated_at)"
                           " VALUES (?, ?, ?, 1, ?, ?, ?)");
  insert.Bind(1, doc["id"].get<std::string>())
      .Bind(2, doc["status"].get<std::string>())
      .Bind(3, doc["fiscal_year"].get<std::int64_t>())
      .Bind(4, doc.dump())
      .Bind(5, now)
      .Bind(6, now);
  insert.Run();
}

void SaveRecord(store::Db& tx, const Table& table, nlohmann::json& doc) {
  const std::string now = events::NowRfc3339();
  doc["version"] = doc["version"].get<std::int64_t>() + 1;
  doc["updated_at"] = now;
  auto update = tx.Prepare(std::string("UPDATE ") + table.name +
                           " SET status = ?, fiscal_year = ?, version = ?, doc = ?, updated_at = ?"
                           " WHERE id = ?");
  update.Bind(1, doc["status"].get<std::string>())
      .Bind(2, doc["fiscal_year"].get<std::int64_t>())
      .Bind(3, doc["version"].get<std::int64_t>())
      .Bind(4, doc.dump())
      .Bind(5, now)
      .Bind(6, doc["id"].get<std::string>());
  update.Run();
}

http::Response RecordResponse(int status, const Table& table, const nlohmann::json& doc) {
  auto response = http::Response::Json(status, doc);
  response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
  if (status == 201) {
    response.SetHeader("Location", std::string(table.path) + "/" + doc["id"].get<std::string>());
  }
  return response;
}

http::Response ListRecords(const http::Request& request, store::Store& store, const Table& table,
                           const std::vector<std::string>& states) {
  const auto page = http::ParsePage(request);
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto status = request.Query("status");
  if (status && std::find(states.begin(), states.end(), *status) == states.end()) {
    throw http::ApiError::BadRequest(std::string("query parameter status is not a ") + table.what +
                                     " status");
  }
  const auto country = request.Query("country");
  if (country && !IsCountryCode(*country)) {
    throw http::ApiError::BadRequest("query parameter country must be an ISO 3166-1 alpha-2 code");
  }
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        std::string("SELECT seq, doc FROM ") + table.name +
        " WHERE seq > ?1 AND (?2 IS NULL OR fiscal_year = ?2) AND (?3 IS NULL OR status = ?3)"
        " AND (?4 IS NULL OR json_extract(doc, '$.country') = ?4 OR EXISTS (SELECT 1 FROM"
        " json_each(doc, '$.countries') WHERE value = ?4)) ORDER BY seq LIMIT ?5");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, fiscal_year)
        .Bind(3, status)
        .Bind(4, country)
        .Bind(5, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

void Emit(store::Db& tx, const http::Request& request, const std::string& aggregate,
          const std::string& what, const std::string& key, const std::string& subject,
          nlohmann::json data) {
  events::AppendToOutbox(
      tx, kEventsTopic,
      events::MakeEvent(kEventSource, "jilaf.missions." + aggregate + "." + what, key, subject,
                        "/schemas/missions/" + aggregate + "." + what + "/v1.json", std::move(data),
                        std::string(request.Header("traceparent"))));
}

bool IsCountryCode(const std::string& code) {
  return code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z';
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

nlohmann::json ReadPerson(http::ObjectReader& in, std::optional<std::string>& nomination_id) {
  nlohmann::json person = {{"id", events::NewTimeOrderedUuid()}};
  person["name"] = in.RequiredString("name", 1, 300);
  person["email"] = in.RequiredEmail("email");
  person["country"] = in.RequiredCountry("country");
  if (auto organisation = in.OptionalString("organisation", 300)) {
    person["organisation"] = *organisation;
  }
  nomination_id = in.OptionalString("nomination_id", 64);
  return person;
}

TransitionInput ReadTransition(const http::Request& request) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  TransitionInput input;
  input.to = in.RequiredString("to", 1, 40);
  input.note = in.OptionalString("note", 2000);
  in.Finish();
  return input;
}

void RecordHistory(nlohmann::json& doc, const std::string& from, const std::string& to,
                   const http::Request& request, const std::optional<std::string>& note) {
  nlohmann::json entry = {
      {"from", from}, {"to", to}, {"at", events::NowRfc3339()}, {"by", request.principal.subject}};
  if (note) entry["note"] = *note;
  doc["history"].push_back(std::move(entry));
}

}  // namespace jilaf::missions
