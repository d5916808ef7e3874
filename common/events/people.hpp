#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/events/cloud_event.hpp"
#include "common/store/store.hpp"

namespace jilaf::events {

/// The compacted topic that carries invitations' personal data, keyed by person id.
inline constexpr const char* kPeopleTopic = "jilaf.invitations.people";

/// A consumer's copy of the people topic (component "common.people"): the latest record of each
/// person, and the ids of people erased (ids only, so an event that arrives after the erasure
/// is not held back waiting for a record that will never come).
store::MigrationSet PeopleCopyMigrations();

/// Thrown by a handler whose event cannot be applied yet because another consumer of the same
/// service has not caught up (the person's record is not in the copy yet). The consumer retries
/// it without limit, with backoff, instead of dead-lettering it.
class NotYetApplicable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a service deletes of an erased person: called inside the consumer's transaction with the
/// person's id and last record (null when the copy never had it), before the record goes.
using ErasePerson =
    std::function<void(store::Db& tx, const std::string& person_id, const nlohmann::json& record)>;

/// The handler of a people-topic consumer: `person.updated` replaces the copy's record;
/// `person.erased` (a tombstone) runs `erase`, deletes the record and remembers the id.
void ApplyPersonRecord(store::Db& tx, const CloudEvent& event, const ErasePerson& erase);

/// The copy's record of `person_id`, if any.
std::optional<nlohmann::json> PersonRecord(store::Db& db, const std::string& person_id);

/// Whether an event is of a version before personal data left the events topics (names in its
/// payload: `candidate.family_name`, or `family_name` for alumnus events). Consumers read such
/// events as before: the topics keep them.
bool CarriesNamesInline(const nlohmann::json& data);

/// The record of the person an event names (`person_id` in its data), or nullopt when it names
/// none, the person was erased, or the event carries the names itself (a version 1 event). When the
/// record is missing but the event is recent (younger than `wait`), throws NotYetApplicable: the
/// people consumer has not caught up yet. An older event (a replay from the start of the topic)
/// goes on without personal data, and so does a recent one whose record has not come `hold`
/// after this process first held it (a record lost upstream must not stop the partition).
std::optional<nlohmann::json> PersonOfEvent(store::Db& db, const CloudEvent& event,
                                            std::chrono::minutes wait = std::chrono::minutes(15),
                                            std::chrono::seconds hold = std::chrono::seconds(30));

/// `data` with the person's names and contact details put back where the nomination events
/// carried them before version 2 (`candidate.family_name`, `union`, ...), so rules, recipient
/// pointers and templates read them as before; an event without a `candidate` (an alumnus
/// event) gets `family_name`, `given_name` and `email` at its top level.
nlohmann::json WithPersonalData(nlohmann::json data, const nlohmann::json& record);

/// Asks for the database file to be scrubbed (after an erasure): SQLite's `secure_delete` zeroes
/// freed cells, but a page rebuilt by a rebalance can keep old bytes in its unused gap, so the
/// service's scheduler rewrites the file (ScrubDatabaseFile) at its next tick.
void RequestScrub();
/// True once per RequestScrub() since the last call.
bool TakeScrubRequest();
/// VACUUM (a fresh copy of every live row, nothing else), then a checkpoint that truncates the
/// WAL; logs "database file scrubbed after an erasure".
void ScrubDatabaseFile(const std::string& path);

}  // namespace jilaf::events
