#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "common/aggregate/sequences.hpp"
#include "common/http/json_input.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"
#include "services/missions/tables.hpp"

// What the missions service's three aggregates do alike, on the aggregate layer: create, list and
// transition them, add a member to one, and read the parts of their bodies they share.
namespace jilaf::missions {

// The handlers of the routes every aggregate has (routes.cpp binds them to each).

/// POST a new aggregate: reads the body with `of.read`, `planned` in the fiscal year of its
/// `start_date`; inserts it and emits `<aggregate>.created` with `of.created(doc)`.
http::Response CreateRecord(const http::Request& request, store::Store& store, const Aggregate& of);
/// GET the collection: optional `status` (one of its states), `fiscal_year` and `country` (the
/// aggregate's `country` or any of its `countries`), cursor-paginated, oldest first.
http::Response ListRecords(const http::Request& request, store::Store& store, const Aggregate& of);
/// GET `{id}`, with its ETag.
http::Response GetRecord(const http::Request& request, store::Store& store, const Aggregate& of);
/// PATCH `{id}` (If-Match, JSON merge patch of `of.corrects`) until the aggregate's state is
/// final: the corrected body is read again by `of.read` (field-precise 422s, dates in order),
/// `of.still` must hold (409), the fiscal year follows the start date; emits
/// `<aggregate>.updated` with `of.created(doc)` and `changed`.
http::Response UpdateRecord(const http::Request& request, store::Store& store, const Aggregate& of);
/// POST .../transitions `{"to", "reason"}` (If-Match): the state machine, `of.rule`,
/// `status_history`, and `<aggregate>.<to>` with `of.moved(doc)` and `previous_status`.
http::Response TransitionRecord(const http::Request& request, store::Store& store,
                                const Aggregate& of);

/// POST a member (a participant, a registration) into the aggregate `{id}` without If-Match
/// (several people join at once without reading it first), idempotent under `Idempotency-Key`:
/// loads it (404), runs `admit` (which adds `member` to it or refuses), stores the next version,
/// emits `event(doc)`, and answers 201 with the member, Location
/// `<aggregate's location>/<collection>/<member id>` and the aggregate's ETag.
http::Response Join(const http::Request& request, store::Store& store, const Aggregate& of,
                    const std::string& collection, const nlohmann::json& member,
                    const aggregate::Rule& admit,
                    const std::function<aggregate::EventFacts(const nlohmann::json& doc)>& event);
/// Links `person` (a member of `doc`, a seminar or a programme of `kind`) to the alumni directory
/// when they are an alumnus: sets `alumnus_id` and records the registration in their history.
void LinkAlumnus(store::Db& tx, const std::string& kind, const nlohmann::json& doc,
                 nlohmann::json& person);
/// 409 `message` + the status unless `doc` is in one of `allowed`.
void RequireStatus(const nlohmann::json& doc, std::initializer_list<const char*> allowed,
                   const std::string& message);

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

/// Reads `{"ja": ..., "en": ...}` at `key` (both required, 1..max_len).
nlohmann::json ReadBilingual(http::ObjectReader& in, const std::string& key, bool required,
                             std::size_t max_len);
/// Reads `start_date` and `end_date` (not before the start) into `doc`; returns them.
std::pair<std::string, std::string> ReadPeriod(http::ObjectReader& in, nlohmann::json& doc);
/// The body of a person signing up (seminar registration, course enrolment): `name`, `email`,
/// `country`, optional `organisation` and `nomination_id` (which links the person to their
/// invitation history), with a fresh `id`.
nlohmann::json ReadPerson(const nlohmann::json& body);
/// A transition body `{"to", "reason"}` (`note` and `comment`: deprecated names of `reason`).
/// `to` described as the states `machine` moves to.
aggregate::TransitionInput ReadTransitionBody(const nlohmann::json& body,
                                              const domain::StateMachine& machine);

}  // namespace jilaf::missions
