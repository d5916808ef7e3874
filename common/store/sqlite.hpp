#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/store/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

/// The store's connection and statement, over either engine: SQLite (embedded, the default) or
/// PostgreSQL (common/store/postgres.hpp). Callers speak one vocabulary; the SQL text that must
/// differ between the engines asks Db::engine() (docs/architecture.md, "Store engines").
namespace jilaf::store {

namespace pg {
class Db;
class Stmt;
struct ConnectionOptions;
}  // namespace pg

enum class Engine { kSqlite, kPostgres };

/// A prepared statement. Bind indexes start at 1, columns at 0.
class Db;
class Stmt {
 public:
  Stmt(Db* owner, sqlite3* db, sqlite3_stmt* stmt);
  explicit Stmt(std::unique_ptr<pg::Stmt> pg);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept;
  /// Returns the statement to its connection's cache.
  ~Stmt();

  Stmt& Bind(int index, std::int64_t value);
  Stmt& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Stmt& Bind(int index, double value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, std::nullptr_t);
  Stmt& BindBlob(int index, std::string_view bytes);
  template <typename T>
  Stmt& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, nullptr);
  }

  /// Advances; true while a row is available.
  [[nodiscard]] bool Step();
  /// Runs a statement that returns no rows, then resets it so it can be bound and run again.
  void Run();
  /// Rewinds the statement (bindings are kept) so it can be stepped again.
  void Reset();
  /// A hint, called once it is bound: the statement's answer will be needed, but not before
  /// other reads that do not depend on it are sent. On the store's pipelined PostgreSQL writer
  /// it is sent now, and the reads prefetched before the next Step share that round trip; on
  /// SQLite, and on PostgreSQL elsewhere, nothing (it runs at its first Step).
  void Prefetch();

  [[nodiscard]] std::int64_t Int(int column) const;
  [[nodiscard]] double Double(int column) const;
  [[nodiscard]] std::string Text(int column) const;
  [[nodiscard]] std::optional<std::string> OptText(int column) const;
  [[nodiscard]] std::optional<std::int64_t> OptInt(int column) const;
  [[nodiscard]] bool IsNull(int column) const;

 private:
  Db* owner_ = nullptr;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::unique_ptr<pg::Stmt> pg_;  // set on PostgreSQL, where the others are null
};

/// One connection: SQLite (WAL mode, synchronous=FULL, a busy timeout) or PostgreSQL.
class Db {
 public:
  struct Options {
    bool read_only = false;
    int busy_timeout_ms = 5000;
  };

  /// Opens a SQLite file.
  Db(const std::string& path, const Options& options);
  /// Connects to PostgreSQL; throws StoreError naming what is wrong (URL, password file, server).
  explicit Db(const pg::ConnectionOptions& options);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  [[nodiscard]] Engine engine() const { return pg_ ? Engine::kPostgres : Engine::kSqlite; }
  /// `sqlite` on SQLite, `postgres` on PostgreSQL: SQL text that differs between the engines.
  [[nodiscard]] std::string_view Dialect(std::string_view sqlite, std::string_view postgres) const {
    return pg_ ? postgres : sqlite;
  }
  /// True inside an open transaction (also one a failed statement has aborted on PostgreSQL).
  [[nodiscard]] bool InTransaction() const;
  /// False once the connection is lost (PostgreSQL); a pool drops it instead of reusing it.
  [[nodiscard]] bool Usable() const;

  /// Runs one or more statements without results.
  void Exec(std::string_view sql);
  /// One statement whose answer nobody waits for: queued on a pipelined PostgreSQL connection
  /// (its error comes with the next answer or Sync), run at once otherwise.
  void Defer(std::string_view sql);
  /// PostgreSQL: sends what is queued and throws the first error among the answers. SQLite:
  /// nothing (its statements run when called).
  void Sync();
  /// Sync for work that failed already: its errors are dropped.
  void DiscardPending() noexcept;
  /// True when Stmt::Prefetch sends a statement ahead (the store's pipelined PostgreSQL
  /// writer); elsewhere Prefetch does nothing, and a caller need not make a statement early.
  [[nodiscard]] bool SendsAhead() const;
  /// Prepares a statement, reusing a compiled one from this connection's cache when free.
  [[nodiscard]] Stmt Prepare(std::string_view sql);
  /// Rows changed by the last statement.
  [[nodiscard]] std::int64_t Changes() const;
  /// SQLite only (PostgreSQL: use RETURNING).
  [[nodiscard]] std::int64_t LastInsertRowId() const;
  /// The SQLite connection (null on PostgreSQL).
  [[nodiscard]] sqlite3* handle() const { return db_; }
  /// The PostgreSQL connection (null on SQLite).
  [[nodiscard]] pg::Db* postgres() const { return pg_.get(); }

  /// Runs `work` now, or, inside a group commit of the store's writer on SQLite, after the
  /// batch's last job and before its COMMIT, in the order queued; work queued by a job that
  /// rolls back is dropped with it. For writes to FTS5 tables: FTS5 flushes its pending terms
  /// to a new segment at every savepoint, and the writer opens one per job.
  void AtBatchEnd(std::function<void(Db&)> work);

  /// What the store's writer may keep between the jobs of one group commit instead of reading
  /// it again (the audit chain's last row): null outside a group commit and when nothing was
  /// kept. The writer drops all of it when a job fails (its savepoint rolled back) and when
  /// the transaction ends, so a kept value is never older than the transaction's own view.
  [[nodiscard]] const std::any* Kept(std::string_view key) const;
  /// Keeps `value` under `key` for the rest of the group commit; nothing outside one.
  void Keep(std::string_view key, std::any value);

 private:
  friend class Stmt;
  friend class Store;
  void Release(sqlite3_stmt* stmt);

  sqlite3* db_ = nullptr;
  std::unique_ptr<pg::Db> pg_;
  // One idle compiled statement per SQL text; a connection is used by one thread at a time.
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  bool batching_ = false;  // set by Store::CommitBatch around a batch's jobs
  bool keeping_ = false;   // likewise, on both engines: Keep is honoured
  std::unordered_map<std::string, std::any> kept_;
  std::vector<std::function<void(Db&)>> batch_end_;
};

/// Throws StoreError for a failed SQLite result code.
void Check(sqlite3* db, int rc, std::string_view what);

}  // namespace jilaf::store
