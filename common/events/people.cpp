#include "common/events/people.hpp"

#include <atomic>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "common/log/log.hpp"

#include "common/util/clock.hpp"

namespace jilaf::events {
namespace {

std::atomic<bool> scrub_requested{false};

// RFC 3339 UTC with seconds, comparable as text with the events' `time`.
std::string Rfc3339Before(std::chrono::minutes ago) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - ago);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
  return out;
}

bool WasErased(store::Db& db, const std::string& person_id) {
  auto stmt = db.Prepare("SELECT 1 FROM erased_people WHERE person_id = ?");
  stmt.Bind(1, person_id);
  return stmt.Step();
}

}  // namespace

void RecordWait::NoteCopyLag(std::optional<std::int64_t> lag, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!lag) {
    reported_.reset();
    return;
  }
  const bool behind = *lag > 0;
  if (!behind && (behind_ || !reported_)) caught_up_since_ = now;
  behind_ = behind;
  reported_ = now;
}

bool RecordWait::MayWait(const std::string& event_id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = first_.try_emplace(event_id, now).first;
  auto start = it->second;
  if (reported_ && now - *reported_ < report_valid_) {
    if (behind_) return true;  // the record is most likely among those the copy has yet to read
    start = std::max(start, caught_up_since_);
  }
  if (now - start < hold_) return true;
  first_.erase(it);
  return false;
}

void RecordWait::Release(const std::string& event_id) {
  std::lock_guard lock(mutex_);
  first_.erase(event_id);
}

void RecordWait::NoteCopyApplied() {
  {
    std::lock_guard lock(applied_mutex_);
    ++applied_;
  }
  applied_cv_.notify_all();
}

std::uint64_t RecordWait::CopyGeneration() {
  std::lock_guard lock(applied_mutex_);
  return applied_;
}

bool RecordWait::AwaitCopyApplied(std::uint64_t seen, Clock::duration timeout) {
  std::unique_lock lock(applied_mutex_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_ != seen; });
}

RecordWait& RecordWait::Instance() {
  static RecordWait wait(std::chrono::seconds(30));
  return wait;
}

ConsumerOptions PeopleCopyOptions(std::string name, std::string dead_letter_topic) {
  ConsumerOptions options;
  options.name = std::move(name);
  options.dead_letter_topic = std::move(dead_letter_topic);
  options.topics = {kPeopleTopic};
  options.on_lag = [](std::optional<std::int64_t> lag) {
    RecordWait::Instance().NoteCopyLag(lag, RecordWait::Clock::now());
  };
  options.on_applied = [] { RecordWait::Instance().NoteCopyApplied(); };
  return options;
}

bool CarriesNamesInline(const nlohmann::json& data) {
  if (!data.is_object()) return false;
  const auto candidate = data.find("candidate");
  return data.contains("family_name") ||
         (candidate != data.end() && candidate->is_object() && candidate->contains("family_name"));
}

store::MigrationSet PeopleCopyMigrations() {
  return {"common.people",
          {{1, "the copy of the people topic, and erased ids",
            "CREATE TABLE person_records (person_id TEXT PRIMARY KEY, doc TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"
            "CREATE TABLE erased_people (person_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL);"}}};
}

void RequestScrub() { scrub_requested.store(true); }

bool TakeScrubRequest() { return scrub_requested.exchange(false); }

void ScrubDatabaseFile(const std::string& path) {
  try {
    store::Db db(path, {false, 30000});
    db.Exec("VACUUM");
    db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    log::Info("database file scrubbed after an erasure", {{"db", path}});
  } catch (const std::exception& error) {
    RequestScrub();  // the next tick tries again
    log::Warn("scrubbing the database file failed; retrying", {{"error", error.what()}});
  }
}

void ApplyPersonRecord(store::Db& tx, const CloudEvent& event, const ErasePerson& erase) {
  const std::string& person_id = event.key;
  if (person_id.empty()) throw std::invalid_argument("a people-topic record without a key");
  if (event.data.is_null()) {  // the tombstone
    // SQLite: freed cells zeroed, not left in free pages (PostgreSQL's are vacuumed away).
    if (tx.engine() == store::Engine::kSqlite) tx.Exec("PRAGMA secure_delete = ON");
    erase(tx, person_id, PersonRecord(tx, person_id).value_or(nullptr));
    RequestScrub();  // its VACUUM waits for this transaction's write lock: it runs after it
    auto drop = tx.Prepare("DELETE FROM person_records WHERE person_id = ?");
    drop.Bind(1, person_id);
    drop.Run();
    auto mark = tx.Prepare(
        "INSERT INTO erased_people(person_id, erased_at) VALUES (?, ?)"
        " ON CONFLICT DO NOTHING");
    mark.Bind(1, person_id).Bind(2, util::NowRfc3339());
    mark.Run();
    return;
  }
  if (!event.data.is_object()) throw std::invalid_argument("a person record is not an object");
  auto put = tx.Prepare(
      "INSERT INTO person_records(person_id, doc, updated_at) VALUES (?, ?, ?)"
      " ON CONFLICT(person_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at");
  put.Bind(1, person_id).Bind(2, event.data.dump()).Bind(3, event.time);
  put.Run();
}

std::optional<nlohmann::json> PersonRecord(store::Db& db, const std::string& person_id) {
  auto stmt = db.Prepare("SELECT doc FROM person_records WHERE person_id = ?");
  stmt.Bind(1, person_id);
  if (!stmt.Step()) return std::nullopt;
  return nlohmann::json::parse(stmt.Text(0));
}

std::optional<nlohmann::json> PersonOfEvent(store::Db& db, const CloudEvent& event,
                                            std::chrono::minutes wait) {
  if (!event.data.is_object()) return std::nullopt;
  const auto it = event.data.find("person_id");
  if (it == event.data.end() || !it->is_string()) return std::nullopt;
  const std::string person_id = *it;
  if (auto record = PersonRecord(db, person_id)) {
    RecordWait::Instance().Release(event.id);
    return record;
  }
  if (WasErased(db, person_id) || CarriesNamesInline(event.data) ||
      event.time < Rfc3339Before(wait)) {
    RecordWait::Instance().Release(event.id);
    return std::nullopt;
  }
  if (!RecordWait::Instance().MayWait(event.id, RecordWait::Clock::now())) {
    log::Warn("event goes on without its person's record",
              {{"event_id", event.id}, {"person_id", person_id}});
    return std::nullopt;
  }
  throw NotYetApplicable("the record of person " + person_id + " is not on this side yet");
}

nlohmann::json WithPersonalData(nlohmann::json data, const nlohmann::json& record) {
  if (!data.is_object() || !record.is_object()) return data;
  if (!data.contains("candidate")) {
    const auto candidate = record.value("candidate", nlohmann::json::object());
    for (const char* key : {"family_name", "given_name", "email"}) {
      if (candidate.contains(key) && !data.contains(key)) data[key] = candidate[key];
    }
    return data;
  }
  auto personal = record;
  personal.erase("person_id");
  data.update(personal, /*merge_objects=*/true);
  return data;
}

}  // namespace jilaf::events
