#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/store/sqlite.hpp"  // StoreError, shared by both engines
#include "common/store/store.hpp"   // MigrationSet: the same versioned steps, in this dialect

struct pg_conn;
struct pg_result;

/// The PostgreSQL engine (libpq 15), beside the SQLite one: the same statement vocabulary as
/// store::Db / store::Stmt (Prepare, Bind from 1, Step, columns from 0, Run, Changes), which
/// wrap these classes when the store runs on PostgreSQL (docs/architecture.md, "Store
/// engines").
namespace jilaf::store::pg {

/// Where the database is: a libpq URL (postgresql://user@host:port/db) without the password,
/// which is read from a file of its own (a mounted secret), first line.
struct ConnectionOptions {
  std::string url;
  std::string password_file;
  /// Overrides the URL's database name when not empty (tests use a database each).
  std::string database;
  int connect_timeout_s = 10;
};

/// A failure reported by the server or libpq, with the SQLSTATE when the server sent one
/// (23505 unique violation, 40001 serialization failure, 40P01 deadlock, 08xxx connection).
class PgError : public StoreError {
 public:
  PgError(std::string sqlstate, const std::string& message)
      : StoreError(1, message), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
  /// A lost or refused connection (08, 57P), a server short of resources (53), a serialization
  /// failure or deadlock (40001, 40P01), a lock not available (55P03).
  [[nodiscard]] bool Transient() const override;

 private:
  std::string sqlstate_;
};

/// `?` and `?N` placeholders (SQLite's spelling) as $1, $2, ... and $N; a `?` inside a quoted
/// literal or identifier is left alone. (So jsonb's `?` operator is spelled jsonb_exists().)
std::string NumberPlaceholders(std::string_view sql);

class Db;

/// The answer of a statement sent ahead (Stmt::Prefetch), filled when the pipeline is read.
struct Awaited {
  Awaited() = default;
  Awaited(const Awaited&) = delete;
  Awaited& operator=(const Awaited&) = delete;
  ~Awaited();
  pg_result* result = nullptr;  // null until answered, and when the statement failed
  bool done = false;
};

/// A statement run with the extended protocol; `?` placeholders become $1, $2, ... Parameters
/// are sent as text; results are read as text and converted on access. The statement runs at
/// the first Step (or Run); its rows are then iterated. Its text is prepared on the server once
/// per connection (Db keeps the names), so a statement run again is neither parsed nor planned
/// again: the server's share of a write is mostly that. A text that starts with
/// store::kPlanPerRun (dialect.hpp) is not prepared: it is planned for its values at every run.
class Stmt {
 public:
  Stmt(Db& db, std::string sql) : db_(&db), sql_(std::move(sql)) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept;
  ~Stmt();

  Stmt& Bind(int index, std::int64_t value);
  Stmt& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Stmt& Bind(int index, double value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, std::nullptr_t);
  template <typename T>
  Stmt& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, nullptr);
  }

  /// Runs the statement on the first call; true while a row is available.
  [[nodiscard]] bool Step();
  /// Runs a statement (any rows are dropped); it may be bound and run again. On a pipelined
  /// connection it is only queued: its error, if any, is thrown by the next statement that
  /// needs an answer, or by Db::Sync.
  void Run();
  /// Drops the rows read so far (bindings are kept): the next Step runs the statement again.
  void Reset() { Clear(); }
  /// On a pipelined connection, queues the statement as it is bound now without waiting for
  /// its answer, so that several reads that do not depend on each other share one round trip;
  /// the first Step takes the answer (sending the queue only if it has not gone yet). An error
  /// is thrown by whichever statement reads the pipeline first, as for Run. Elsewhere nothing:
  /// the statement runs at its first Step.
  void Prefetch();

  [[nodiscard]] std::int64_t Int(int column) const;
  [[nodiscard]] double Double(int column) const;
  [[nodiscard]] std::string Text(int column) const;
  [[nodiscard]] std::optional<std::string> OptText(int column) const;
  [[nodiscard]] std::optional<std::int64_t> OptInt(int column) const;
  [[nodiscard]] bool IsNull(int column) const;

 private:
  void Execute();
  void Clear();
  // Sends the statement as bound down the pipeline; its answer goes to `sink` when given.
  void Queue(std::shared_ptr<Awaited> sink);
  // The text in $N form, the parameters as libpq takes them (pointing into params_), and
  // whether the text is prepared on the server.
  struct Wire {
    std::string text;
    std::vector<const char*> values;
    bool prepare;
  };
  [[nodiscard]] Wire ToWire() const;

  Db* db_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  pg_result* result_ = nullptr;
  int row_ = -1;
  std::shared_ptr<Awaited> awaited_;  // set by Prefetch until the first Step
};

/// One connection. Used by one thread at a time.
class Db {
 public:
  /// Connects; throws StoreError naming the setting that is wrong (the password file, the
  /// URL, or the server's own message, e.g. a refused password).
  explicit Db(const ConnectionOptions& options);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  /// Runs one or more statements without parameters or results (simple query protocol; one
  /// statement on a pipelined connection goes down the pipeline, after what is queued).
  void Exec(std::string_view sql);
  [[nodiscard]] Stmt Prepare(std::string_view sql) { return Stmt(*this, std::string(sql)); }
  /// Rows changed by the last statement run through Prepare (synced first).
  [[nodiscard]] std::int64_t Changes() {
    Sync();
    return changes_;
  }

  /// Pipelining (libpq's pipeline mode), set on a store's writer connection: statements that
  /// need no answer (Stmt::Run, Defer) are queued and go to the server together with the next
  /// one that does, so a write costs a round trip per read it makes plus one, not one per
  /// statement. Errors come back at that next statement (or at Sync), in order.
  void SetPipelined(bool pipelined) { pipelined_ = pipelined; }
  [[nodiscard]] bool Pipelined() const { return pipelined_; }
  /// Queues one statement without parameters (pipelined), or runs it (not pipelined).
  void Defer(std::string_view sql);
  /// Sends what is queued and reads every answer; throws the first error among them.
  void Sync() { ClearResult(SyncPipeline(false)); }
  /// Sync, for a connection whose work failed already: the errors are dropped.
  void DiscardPending() noexcept;
  [[nodiscard]] pg_conn* handle() const { return conn_; }
  /// True inside a transaction, also one a failed statement has aborted.
  [[nodiscard]] bool InTransaction() const;
  /// False once the connection to the server is lost (or left in doubt by a pipeline).
  [[nodiscard]] bool Usable() const;
  /// Set on a store's writer connection: a document a write reads through the aggregate layer
  /// is locked (SELECT ... FOR UPDATE) until the commit, so a rule checked against it (seats,
  /// budgets, versions) holds against writers in other processes.
  void LockReadRows(bool lock) { lock_read_rows_ = lock; }
  [[nodiscard]] bool LocksReadRows() const { return lock_read_rows_; }

 private:
  friend class Stmt;
  struct Pending {
    bool prepare;      // a PQsendPrepare (its statement is not prepared if it fails)
    std::string text;  // the prepared text (prepare only)
    std::shared_ptr<Awaited> sink = {};  // a prefetched statement's answer goes there
  };
  // Queues the statement `text` with `values` in the pipeline (prepared once when `prepare`);
  // its answer is kept in `sink` when one is given.
  void Send(const std::string& text, const std::vector<const char*>& values, bool prepare,
            std::shared_ptr<Awaited> sink = nullptr);
  // Sends the queue with a sync point and reads every answer; the last statement's result is
  // returned when `keep_last` (the caller frees it). Throws the first error.
  pg_result* SyncPipeline(bool keep_last);
  static void ClearResult(pg_result* result);

  pg_conn* conn_ = nullptr;
  std::int64_t changes_ = 0;
  bool lock_read_rows_ = false;
  bool pipelined_ = false;
  bool broken_ = false;  // a pipeline ended in a state the connection cannot be trusted in
  std::vector<Pending> pending_;
  // A bound on what is queued unread: the server's answers must fit its socket buffer.
  static constexpr std::size_t kMaxPending = 256;
  // Server-side prepared statements of this connection: SQL text ($N form) -> name. Bounded:
  // texts built per call (IN lists of any length) would otherwise fill the server's memory.
  std::unordered_map<std::string, std::string> prepared_;
  static constexpr std::size_t kMaxPrepared = 512;
};

/// Runs `fn(db)` in one transaction (READ COMMITTED unless `isolation` names another, e.g.
/// "SERIALIZABLE"): COMMIT when it returns, ROLLBACK when it throws (the exception goes on).
template <typename Fn>
auto Transaction(Db& db, Fn fn, std::string_view isolation = {}) -> std::invoke_result_t<Fn&, Db&> {
  db.Exec(isolation.empty() ? std::string("BEGIN")
                            : "BEGIN ISOLATION LEVEL " + std::string(isolation));
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Db&>>) {
      fn(db);
      db.Exec("COMMIT");
    } else {
      auto result = fn(db);
      db.Exec("COMMIT");
      return result;
    }
  } catch (...) {
    try {
      db.Exec("ROLLBACK");
    } catch (const StoreError&) {  // the connection is gone: the server rolled back already
    }
    throw;
  }
}

/// Applies the pending migrations of `sets`, each step in its own transaction with its row in
/// schema_migrations. Holds a session advisory lock for the whole run, so replicas starting
/// together apply each step once: the second waits, then finds the steps applied. Throws
/// StoreError if the database holds a newer schema than `sets` know.
void Migrate(Db& db, const std::vector<MigrationSet>& sets);

/// The key of the advisory lock Migrate holds (documented for operators who see it waiting).
inline constexpr std::int64_t kMigrationLockKey = 0x6a696c6166;  // "jilaf"

}  // namespace jilaf::store::pg
