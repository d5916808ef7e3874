#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto/field_cipher.hpp"
#include "common/store/store.hpp"

namespace jilaf::crypto {

/// What rewriting one row came to.
enum class RowOutcome { kRewritten, kUnchanged, kUnreadable };

/// A set of rows whose stored values depend on the field key: sealed columns, blind indexes.
struct RekeyTarget {
  /// Shown in the status and keys the progress row, e.g. "webhook_secrets.secret".
  std::string name;
  std::string table;
  /// A unique text column of `table` (its primary key), scanned in order: both engines have
  /// one, where only SQLite has rowids.
  std::string key;
  /// SQL condition selecting the rows not yet under the newest key; every '?' in it is bound to
  /// the newest key's id (e.g. SealedPending's).
  std::string pending_where;
  /// Brings the row whose `key` column holds `key` under the newest key, inside the writer's
  /// transaction.
  std::function<RowOutcome(store::Db& tx, const std::string& key)> rewrite;
};

/// The condition "`column` holds a value not sealed with the key whose id is bound to '?'".
[[nodiscard]] std::string SealedPending(const std::string& column);

/// A target re-sealing `table.column` (rows keyed by `key`) with the newest key of `cipher`;
/// `context_sql` is the SQL
/// expression (over the row) of the associated data the values were sealed with, e.g.
/// "nomination_id || '/passport_number'".
[[nodiscard]] RekeyTarget SealedColumn(const FieldCipher& cipher, const std::string& table,
                                       const std::string& key, const std::string& column,
                                       const std::string& context_sql);

/// Online, resumable re-encryption under the newest key of a ring (docs/operations.md, "Field-key
/// rotation"). A thread of its own walks every target in key order, a small batch per write
/// transaction, so API writes interleave with it on the same writer; each batch stores its
/// position in `field_rekey` in the same transaction, so a restart resumes where the last
/// commit left off. The ring keeps opening values sealed with older keys throughout; once every
/// target reports nothing remaining, the older keys can leave the key file.
class FieldRekey {
 public:
  struct Options {
    std::int64_t batch_rows = 200;
    /// Pause between batches, leaving the writer to the API.
    std::chrono::milliseconds pause{20};
  };

  /// The progress table (component "common.field_rekey").
  static store::MigrationSet Migrations();

  FieldRekey(store::Store& store, const FieldCipher& cipher, std::vector<RekeyTarget> targets,
             Options options);
  FieldRekey(store::Store& store, const FieldCipher& cipher, std::vector<RekeyTarget> targets)
      : FieldRekey(store, cipher, std::move(targets), Options{}) {}
  FieldRekey(const FieldRekey&) = delete;
  FieldRekey& operator=(const FieldRekey&) = delete;
  ~FieldRekey();

  /// Starts a rekey to the newest key (or resumes the one under way); false if it is running.
  bool Start();
  /// At service start: resumes a rekey to the newest key that a stop interrupted.
  void ResumeIfUnfinished();
  /// Waits for the running batch to commit, then stops (the position is kept).
  void Stop();
  /// Blocks until the run ends (tests).
  void Wait();
  /// The ring's key ids, the key that seals, the run's state and per target its position,
  /// rewritten and unreadable rows and the rows still under an older key.
  [[nodiscard]] nlohmann::json Status();

 private:
  void Run();
  // One batch of one target; false when the target is done.
  bool Batch(const RekeyTarget& target);
  bool Unfinished();

  store::Store& store_;
  const FieldCipher& cipher_;
  std::vector<RekeyTarget> targets_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace jilaf::crypto
