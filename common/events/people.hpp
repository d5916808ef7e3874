#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "common/events/cloud_event.hpp"
#include "common/events/consumer.hpp"
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

/// How long an event whose person's record is missing may wait for it. The record is published
/// before the event, so it is missing only while the service's copy of the people topic is
/// behind (a new consumer group replaying the topic, a burst of updates), or when it was lost
/// upstream and will never come. So the event waits as long as the copy is known to be behind,
/// and then `hold` more once the copy has caught up; when the copy's lag is unknown (not yet
/// assigned, broker silent), `hold` from when the event first waited. Time is passed in so the
/// rule can be tested without sleeping.
class RecordWait {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RecordWait(std::chrono::seconds hold,
                      Clock::duration report_valid = std::chrono::seconds(10))
      : hold_(hold), report_valid_(report_valid) {}

  /// The copy's whole consumer lag as just measured (nullopt: unknown).
  void NoteCopyLag(std::optional<std::int64_t> lag, Clock::time_point now);

  /// Whether event `event_id` may wait (again) for its record; false once it has waited long
  /// enough, which also forgets it.
  bool MayWait(const std::string& event_id, Clock::time_point now);

  /// Forgets `event_id` (its record came, or it no longer needs one).
  void Release(const std::string& event_id);

  /// The process's instance, fed by the people copy's consumer (PeopleCopyOptions).
  static RecordWait& Instance();

  /// Told by the people copy's consumer each time it has committed a batch (its offsets stored):
  /// an event waiting for a record is woken at once instead of sleeping its backoff out (a
  /// fixed 200 ms sleep made such an event wait 100 ms on average, docs/benchmarks.md).
  void NoteCopyApplied();
  /// How many batches the copy has committed so far: taken before an attempt is submitted, it
  /// is what AwaitCopyApplied waits to see change.
  [[nodiscard]] std::uint64_t CopyGeneration();
  /// Waits until the copy has committed a batch since `seen`, or `timeout` has passed; true if
  /// it has.
  bool AwaitCopyApplied(std::uint64_t seen, Clock::duration timeout);

 private:
  const std::chrono::seconds hold_;
  const Clock::duration report_valid_;
  std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> first_;  // when each event first waited
  std::optional<Clock::time_point> reported_;                 // last known lag, and when
  bool behind_ = false;
  Clock::time_point caught_up_since_{};
  std::mutex applied_mutex_;
  std::condition_variable applied_cv_;
  std::uint64_t applied_ = 0;
};

/// The options of a service's consumer of the people topic under group `name`: the topic, the
/// dead-letter topic, and its lag reported to RecordWait::Instance().
ConsumerOptions PeopleCopyOptions(std::string name, std::string dead_letter_topic);

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
/// goes on without personal data, and so does a recent one whose record RecordWait::Instance()
/// says will not come any more (a record lost upstream must not stop the partition).
std::optional<nlohmann::json> PersonOfEvent(store::Db& db, const CloudEvent& event,
                                            std::chrono::minutes wait = std::chrono::minutes(15));

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
