#include "common/store/sqlite.hpp"

#include <sqlite3.h>

#include "common/store/postgres.hpp"

namespace jilaf::store {

void Check(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw StoreError(rc, message);
}

Stmt::Stmt(Db* owner, sqlite3* db, sqlite3_stmt* stmt) : owner_(owner), db_(db), stmt_(stmt) {}

Stmt::Stmt(std::unique_ptr<pg::Stmt> pg) : pg_(std::move(pg)) {}

Stmt::Stmt(Stmt&& other) noexcept
    : owner_(other.owner_), db_(other.db_), stmt_(other.stmt_), pg_(std::move(other.pg_)) {
  other.stmt_ = nullptr;
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  if (owner_ != nullptr) {
    owner_->Release(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Stmt& Stmt::Bind(int index, std::int64_t value) {
  if (pg_) {
    pg_->Bind(index, value);
    return *this;
  }
  Check(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  if (pg_) {
    pg_->Bind(index, value);
    return *this;
  }
  Check(db_, sqlite3_bind_double(stmt_, index, value), "bind");
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  if (pg_) {
    pg_->Bind(index, text);
    return *this;
  }
  Check(
      db_,
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      "bind");
  return *this;
}

Stmt& Stmt::Bind(int index, std::nullptr_t) {
  if (pg_) {
    pg_->Bind(index, nullptr);
    return *this;
  }
  Check(db_, sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  if (pg_) throw StoreError(SQLITE_MISUSE, "BindBlob is SQLite's: PostgreSQL binds text");
  Check(db_,
        sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                          SQLITE_TRANSIENT),
        "bind");
  return *this;
}

bool Stmt::Step() {
  if (pg_) return pg_->Step();
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  Check(db_, rc, "step");
  return false;
}

void Stmt::Run() {
  if (pg_) {
    pg_->Run();
    return;
  }
  while (Step()) {
  }
  Reset();
}

void Stmt::Prefetch() {
  if (pg_) pg_->Prefetch();
}

void Stmt::Reset() {
  if (pg_) {
    pg_->Reset();
    return;
  }
  sqlite3_reset(stmt_);
}

std::int64_t Stmt::Int(int column) const {
  return pg_ ? pg_->Int(column) : sqlite3_column_int64(stmt_, column);
}

double Stmt::Double(int column) const {
  return pg_ ? pg_->Double(column) : sqlite3_column_double(stmt_, column);
}

std::string Stmt::Text(int column) const {
  if (pg_) return pg_->Text(column);
  const auto* text = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(static_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::string> Stmt::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::optional<std::int64_t> Stmt::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

bool Stmt::IsNull(int column) const {
  return pg_ ? pg_->IsNull(column) : sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

namespace {

// 16 MiB: 4,096 pages, twice what the writer lets the WAL reach before it finishes a
// checkpoint itself (Store::OnWalCommit), so a steady load does not truncate and regrow it.
constexpr long long kWalSizeLimitBytes = 16LL * 1024 * 1024;

// Once per process, before the first connection initialises the library: without memory
// statistics SQLite's allocator takes no global mutex, which the io threads' read connections
// otherwise contend on.
void ConfigureLibrary() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE if already initialised: harmless
    return true;
  }();
  (void)configured;
}

}  // namespace

Db::Db(const std::string& path, const Options& options) {
  ConfigureLibrary();
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open database " + path + ": " +
                          (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError(rc, message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  if (!options.read_only) Exec("PRAGMA journal_mode=WAL");
  // A WAL that grew while readers kept a checkpoint from finishing (a burst of writes beside
  // long reads) is cut back to this size each time it starts again from its beginning; without
  // a limit the file keeps its largest size for good (551 MB beside a 338 MB database after a
  // bench load of 100,000 nominations).
  Exec("PRAGMA journal_size_limit=" + std::to_string(kWalSizeLimitBytes));
  // FULL: a commit is on disk when it returns, so a 2xx is never lost to a power cut.
  Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY");
  // Pages are read through a memory map rather than read(2) into the page cache: no copy per
  // page, and the mapping is the kernel's page cache, shared by every connection (it counts
  // towards RSS only as pages are touched). Writes still go through the WAL.
  Exec("PRAGMA mmap_size=268435456");
  // Content a write replaces or deletes is overwritten with zeros, not left in free pages or
  // slack space: an erased person's earlier versions of a document leave the file too.
  Exec("PRAGMA secure_delete=ON");
}

Db::Db(const pg::ConnectionOptions& options) : pg_(std::make_unique<pg::Db>(options)) {}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Db::Release(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  auto [it, inserted] = cache_.try_emplace(sqlite3_sql(stmt), stmt);
  if (!inserted) {
    if (it->second == nullptr) {
      it->second = stmt;
    } else {
      sqlite3_finalize(stmt);
    }
  }
}

void Db::AtBatchEnd(std::function<void(Db&)> work) {
  if (batching_) {
    batch_end_.push_back(std::move(work));
  } else {
    work(*this);
  }
}

bool Db::SendsAhead() const { return pg_ && pg_->Pipelined(); }

const std::any* Db::Kept(std::string_view key) const {
  if (!keeping_) return nullptr;
  const auto it = kept_.find(std::string(key));
  return it != kept_.end() ? &it->second : nullptr;
}

void Db::Keep(std::string_view key, std::any value) {
  if (keeping_) kept_.insert_or_assign(std::string(key), std::move(value));
}

void Db::Exec(std::string_view sql) {
  if (pg_) {
    pg_->Exec(sql);
    return;
  }
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = "exec failed: " + std::string(error != nullptr ? error : "?");
    sqlite3_free(error);
    throw StoreError(rc, message);
  }
}

Stmt Db::Prepare(std::string_view sql) {
  if (pg_) return Stmt(std::make_unique<pg::Stmt>(pg_->Prepare(sql)));
  if (auto it = cache_.find(std::string(sql)); it != cache_.end() && it->second != nullptr) {
    sqlite3_stmt* cached = it->second;
    it->second = nullptr;
    return Stmt(this, db_, cached);
  }
  sqlite3_stmt* stmt = nullptr;
  Check(db_, sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr),
        "prepare");
  return Stmt(this, db_, stmt);
}

void Db::Defer(std::string_view sql) {
  if (pg_) {
    pg_->Defer(sql);
  } else {
    Exec(sql);
  }
}

void Db::Sync() {
  if (pg_) pg_->Sync();
}

void Db::DiscardPending() noexcept {
  if (pg_) pg_->DiscardPending();
}

std::int64_t Db::Changes() const { return pg_ ? pg_->Changes() : sqlite3_changes64(db_); }

std::int64_t Db::LastInsertRowId() const {
  if (pg_) throw StoreError(SQLITE_MISUSE, "LastInsertRowId on PostgreSQL: use RETURNING");
  return sqlite3_last_insert_rowid(db_);
}

bool Db::InTransaction() const {
  return pg_ ? pg_->InTransaction() : sqlite3_get_autocommit(db_) == 0;
}

bool Db::Usable() const { return pg_ ? pg_->Usable() : db_ != nullptr; }

}  // namespace jilaf::store
