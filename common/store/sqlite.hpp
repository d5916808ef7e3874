#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace jilaf::store {

/// A failure of the store itself (I/O, disk full, corruption, busy), as opposed to a rule of the
/// domain. Consumers retry these instead of dead-lettering the event.
class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int code() const { return code_; }

 private:
  int code_;
};

/// A prepared statement. Bind indexes start at 1, columns at 0.
class Db;
class Stmt {
 public:
  Stmt(Db* owner, sqlite3* db, sqlite3_stmt* stmt) : owner_(owner), db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : owner_(other.owner_), db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
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

  [[nodiscard]] std::int64_t Int(int column) const;
  [[nodiscard]] double Double(int column) const;
  [[nodiscard]] std::string Text(int column) const;
  [[nodiscard]] std::optional<std::string> OptText(int column) const;
  [[nodiscard]] std::optional<std::int64_t> OptInt(int column) const;
  [[nodiscard]] bool IsNull(int column) const;

 private:
  Db* owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

/// One SQLite connection, WAL mode, synchronous=FULL, with a busy timeout.
class Db {
 public:
  struct Options {
    bool read_only = false;
    int busy_timeout_ms = 5000;
  };

  Db(const std::string& path, const Options& options);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  /// Runs one or more statements without results.
  void Exec(std::string_view sql);
  /// Prepares a statement, reusing a compiled one from this connection's cache when free.
  [[nodiscard]] Stmt Prepare(std::string_view sql);
  /// Rows changed by the last statement.
  [[nodiscard]] std::int64_t Changes() const;
  [[nodiscard]] std::int64_t LastInsertRowId() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  friend class Stmt;
  void Release(sqlite3_stmt* stmt);

  sqlite3* db_ = nullptr;
  // One idle compiled statement per SQL text; a connection is used by one thread at a time.
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// Throws StoreError for a failed SQLite result code.
void Check(sqlite3* db, int rc, std::string_view what);

}  // namespace jilaf::store
