#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/http/json_input.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// A table of aggregates with the shared columns (id, status, fiscal_year, version, doc).
struct Table {
  const char* name;  // SQL table name (a constant, never client input)
  const char* what;  // for messages: "mission", "seminar"
  const char* path;  // collection path: "/v1/missions"
};

inline constexpr Table kMissions{"missions", "mission", "/v1/missions"};
inline constexpr Table kEducation{"education_programmes", "education programme",
                                  "/v1/education-programmes"};
inline constexpr Table kSeminars{"seminars", "seminar", "/v1/seminars"};

/// The aggregate with this id; 404 naming the kind when there is none.
nlohmann::json LoadOr404(store::Db& db, const Table& table, const std::string& id);
/// Inserts a new aggregate: fills id, version 1, created_at and updated_at.
void InsertRecord(store::Db& tx, const Table& table, nlohmann::json& doc);
/// Stores a changed aggregate: bumps version and updated_at.
void SaveRecord(store::Db& tx, const Table& table, nlohmann::json& doc);
/// The aggregate as JSON with its ETag (and Location for 201).
http::Response RecordResponse(int status, const Table& table, const nlohmann::json& doc);
/// GET collection: optional `status` (checked against `states`) and `fiscal_year` filters,
/// cursor-paginated, oldest first.
http::Response ListRecords(const http::Request& request, store::Store& store, const Table& table,
                           const std::vector<std::string>& states);

/// Appends jilaf.missions.<aggregate>.<what> (dataschema /schemas/missions/<aggregate>.<what>/
/// v1.json) to the outbox, carrying the request's traceparent.
void Emit(store::Db& tx, const http::Request& request, const std::string& aggregate,
          const std::string& what, const std::string& key, const std::string& subject,
          nlohmann::json data);

/// Reads an array of objects at `key` with field-precise errors, calling `read(item)` on each.
template <typename Fn>
nlohmann::json ReadArray(http::ObjectReader& in, const std::string& key, bool required,
                         std::size_t max_items, Fn read) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& item : in.ObjectArray(key, required, max_items)) {
    out.push_back(read(item));
    item.RejectUnknownFields();
  }
  return out;
}
/// True for an ISO 3166-1 alpha-2 shape: two upper-case letters.
bool IsCountryCode(const std::string& code);

/// Reads `{"ja": ..., "en": ...}` at `key` (both required, 1..max_len).
nlohmann::json ReadBilingual(http::ObjectReader& in, const std::string& key, bool required,
                             std::size_t max_len);
/// A person signing up (seminar registration, course enrolment): `name`, `email`, `country`,
/// optional `organisation`, with a fresh `id`. An optional `nomination_id` (to link the person to
/// their invitation history) goes to `nomination_id`.
nlohmann::json ReadPerson(http::ObjectReader& in, std::optional<std::string>& nomination_id);

/// The `to` of a transition body `{"to": "...", "note": "..."}`; `note` returned if given.
struct TransitionInput {
  std::string to;
  std::optional<std::string> note;
};
TransitionInput ReadTransition(const http::Request& request);
/// Appends `{from, to, at, by, note}` to doc["history"].
void RecordHistory(nlohmann::json& doc, const std::string& from, const std::string& to,
                   const http::Request& request, const std::optional<std::string>& note);

}  // namespace jilaf::missions
