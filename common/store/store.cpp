#include "common/store/store.hpp"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/log/log.hpp"
#include "common/store/postgres.hpp"
#include "common/util/thread_role.hpp"

namespace jilaf::store {
namespace {

// Transaction control through the connection's statement cache: sqlite3_exec would compile the
// text again on every call, several times per commit and per read. On PostgreSQL the simple
// protocol takes one round trip where a parameterised statement takes more.
void Control(Db& db, std::string_view sql) {
  if (db.engine() == Engine::kPostgres) {
    db.Exec(sql);
  } else {
    db.Prepare(sql).Run();
  }
}

// The sets with each step's PostgreSQL text where it has one.
std::vector<MigrationSet> InPostgresDialect(std::vector<MigrationSet> sets) {
  for (auto& set : sets) {
    for (auto& migration : set.migrations) {
      if (!migration.postgres.empty()) migration.sql = migration.postgres;
    }
  }
  return sets;
}

// An io thread's read transactions, one per store, held until the end of the round.
struct HeldReadSlot {
  Store* owner;
  std::unique_ptr<Db> db;
  std::uint64_t generation;
  int depth;    // Reads of this store running on this thread right now (nesting)
  bool broken;  // a statement failed: close the connection once no Read uses it
};
thread_local std::vector<HeldReadSlot> t_held_reads;
thread_local bool t_release_registered = false;

}  // namespace

void Migrate(Db& db, const std::vector<MigrationSet>& sets) {
  if (db.engine() == Engine::kPostgres) {
    pg::Migrate(*db.postgres(), InPostgresDialect(sets));
    return;
  }
  db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
      " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
      " PRIMARY KEY (component, version))");
  for (const auto& set : sets) {
    std::int64_t current = 0;
    {
      auto stmt =
          db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?");
      stmt.Bind(1, set.component);
      if (stmt.Step()) current = stmt.Int(0);
    }
    const std::int64_t known = set.migrations.empty() ? 0 : set.migrations.back().version;
    if (current > known) {
      throw StoreError(SQLITE_ERROR, "database schema of '" + set.component + "' is at version " +
                                         std::to_string(current) + ", newer than this binary (" +
                                         std::to_string(known) + ")");
    }
    for (const auto& migration : set.migrations) {
      if (migration.version <= current) continue;
      db.Exec("BEGIN IMMEDIATE");
      try {
        db.Exec(migration.sql);
        auto stmt =
            db.Prepare("INSERT INTO schema_migrations(component, version, name) VALUES (?, ?, ?)");
        stmt.Bind(1, set.component).Bind(2, migration.version).Bind(3, migration.name);
        stmt.Run();
        db.Exec("COMMIT");
      } catch (...) {
        db.Exec("ROLLBACK");
        throw;
      }
      log::Info(
          "migration applied",
          {{"component", set.component}, {"version", migration.version}, {"name", migration.name}});
    }
  }
}

namespace {
// The writer's page cache, in KiB: the indexes' interior pages and the leaves a batch touches.
// SQLite's default (2 MiB) is outgrown by the store's B-trees from about 10^4 nominations on,
// and beyond the memory map (mmap_size) every miss is a pread(2) and a copy. Readers keep the
// default: they read through the map and are many (docs/operations.md, "Memory").
constexpr int kWriterCacheKiB = 64 * 1024;

void SizeWriterCache(Db& db, Engine engine) {
  if (engine == Engine::kSqlite) db.Exec("PRAGMA cache_size=-" + std::to_string(kWriterCacheKiB));
}
}  // namespace

Store::Store(StoreOptions options, std::vector<MigrationSet> migrations)
    : options_(std::move(options)) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  writer_db_ = Connect(false);
  SizeWriterCache(*writer_db_, options_.engine);
  if (options_.engine == Engine::kSqlite) UseIncrementalVacuum(*writer_db_);
  Migrate(*writer_db_, migrations);
  if (options_.engine == Engine::kSqlite) StartCheckpointer();
  writer_ = std::thread([this] { WriterLoop(); });
}

namespace {
// SQLite's own automatic checkpoint threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT).
constexpr int kCheckpointPages = 1000;
// The WAL starts again from its beginning only when a write begins with every frame copied
// back, which a checkpoint running beside a steady stream of commits never achieves. Past
// this size the writer finishes the checkpoint itself (only the frames the checkpoint thread
// has not copied yet), so the WAL stays bounded under any load.
constexpr int kWriterCheckpointPages = 2 * kCheckpointPages;
}  // namespace

void Store::StartCheckpointer() {
  // Replaces the automatic checkpoint, which ran on the writer thread inside the COMMIT that
  // crossed the threshold: about a tenth of the writer's time (`pwrite` and `fdatasync` of
  // the database file). A PASSIVE checkpoint on another connection never blocks the writer.
  sqlite3_wal_hook(writer_db_->handle(), &Store::OnWalCommit, this);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
}

int Store::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  if (pages < kCheckpointPages) return SQLITE_OK;
  if (pages >= kWriterCheckpointPages) {
    // Busy (the checkpoint thread is at it): the next commit tries again.
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  auto& store = *static_cast<Store*>(self);
  {
    std::lock_guard lock(store.checkpoint_mutex_);
    store.checkpoint_due_ = true;
  }
  store.checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void Store::CheckpointLoop() {
  pthread_setname_np(pthread_self(), "store-checkpoint");
  std::unique_ptr<Db> db;
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [this] { return checkpoint_due_ || checkpoint_stopping_; });
      if (checkpoint_stopping_) return;
      checkpoint_due_ = false;
    }
    try {
      if (!db) db = Connect(false);
      const int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               nullptr, nullptr);
      // Busy: a reader or another checkpoint is in the way; the next commit asks again.
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
        log::Warn("WAL checkpoint failed", {{"error", sqlite3_errmsg(db->handle())}});
      }
    } catch (const std::exception& error) {
      log::Warn("WAL checkpoint failed", {{"error", error.what()}});
      db.reset();
    }
  }
}

void Store::StopCheckpointer() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void Store::UseIncrementalVacuum(Db& db) {
  {
    auto mode = db.Prepare("PRAGMA auto_vacuum");
    if (mode.Step() && mode.Int(0) == 2) return;  // INCREMENTAL already
  }
  // The mode is fixed when the file is laid out: a new file takes it at once, an existing one
  // is rewritten by one VACUUM (a one-off, logged, as long as a copy of the file).
  log::Info("store file switched to incremental vacuum", {{"path", options_.path}});
  db.Exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM");
}

std::unique_ptr<Db> Store::Connect(bool reader) {
  if (options_.engine == Engine::kSqlite) {
    auto db = std::make_unique<Db>(options_.path, Db::Options{false, options_.busy_timeout_ms});
    if (reader) db->Exec("PRAGMA query_only=ON");
    return db;
  }
  pg::ConnectionOptions connection;
  connection.url = options_.database_url;
  connection.password_file = options_.database_password_file;
  connection.database = options_.database_name;
  connection.connect_timeout_s = options_.connect_timeout_s;
  auto db = std::make_unique<Db>(connection);
  if (reader) {
    db->Exec("SET default_transaction_read_only = on");
  } else {
    db->postgres()->LockReadRows(true);
    db->postgres()->SetPipelined(true);
  }
  return db;
}

std::int64_t Store::ReclaimFreePages(std::int64_t max_pages) {
  if (options_.engine == Engine::kPostgres) return 0;  // the server's autovacuum does this
  return Write([max_pages](Db& tx) {
    std::int64_t free_pages = 0;
    {
      auto count = tx.Prepare("PRAGMA freelist_count");
      if (count.Step()) free_pages = count.Int(0);
    }
    if (free_pages == 0) return std::int64_t{0};
    tx.Exec("PRAGMA incremental_vacuum(" + std::to_string(std::min(free_pages, max_pages)) + ")");
    return std::min(free_pages, max_pages);
  });
}

Store::~Store() { Stop(); }

void Store::Stop() {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  StopCheckpointer();
}

void Store::AddCommitListener(CommitListener listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

void Store::SetCommitObserver(CommitObserver observer) {
  std::lock_guard lock(listeners_mutex_);
  observer_ = std::move(observer);
}

void Store::Enqueue(Job job) {
  {
    std::lock_guard lock(queue_mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      queue_cv_.notify_one();
      return;
    }
  }
  job.complete(std::make_exception_ptr(StoreError(SQLITE_MISUSE, "store is stopped")));
}

void Store::WriterLoop() {
  // Named, so that its CPU time can be read from /proc/<pid>/task/<tid>/stat (scripts/bench
  // reports the writer's µs per nomination) and profiles show it apart from the pool.
  pthread_setname_np(pthread_self(), "store-writer");
  std::vector<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void Store::CommitBatch(std::vector<Job>& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::exception_ptr> errors(batch.size());
  const bool savepoints = batch.size() > 1;
  bool committed = false;
  try {
    // A PostgreSQL connection lost in an earlier batch is opened again; while the server is
    // unreachable every job of the batch fails at once with the transient connect error.
    if (!writer_db_ || !writer_db_->Usable()) {
      writer_db_.reset();
      writer_db_ = Connect(false);
      SizeWriterCache(*writer_db_, options_.engine);
    }
  } catch (...) {
    const auto failure = std::current_exception();
    {
      std::lock_guard lock(listeners_mutex_);
      if (observer_) observer_(batch.size(), 0.0);
    }
    for (auto& job : batch) job.complete(failure);
    return;
  }
  Db& db = *writer_db_;
  // PostgreSQL (a pipelined connection): BEGIN, a job's SAVEPOINT and the previous job's
  // RELEASE are queued and travel with the job's first statement that needs an answer; the
  // job's statements that need none travel with the next one, or with the Sync that ends the
  // job (its errors are its own). COMMIT releases the last savepoint.
  const bool defer_release = db.engine() == Engine::kPostgres;
  bool release_pending = false;
  BatchEndScope batch_end(db);
  try {
    if (defer_release) {
      db.Defer("BEGIN");
    } else {
      Control(db, "BEGIN IMMEDIATE");
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (savepoints && defer_release) {
        if (release_pending) db.Defer("RELEASE job");
        db.Defer("SAVEPOINT job");
      } else if (savepoints) {
        Control(db, "SAVEPOINT job");
      }
      release_pending = false;
      const std::size_t queued = db.batch_end_.size();
      try {
        batch[i].run(db);
        db.Sync();
        if (savepoints && defer_release) {
          release_pending = true;
        } else if (savepoints) {
          Control(db, "RELEASE job");
        }
      } catch (...) {
        errors[i] = std::current_exception();
        db.kept_.clear();  // it may hold what the job's rolled-back work left
        db.batch_end_.erase(db.batch_end_.begin() + static_cast<std::ptrdiff_t>(queued),
                            db.batch_end_.end());
        db.DiscardPending();  // what the job queued before it failed
        // An I/O or disk-full error can make SQLite roll back the whole transaction itself;
        // a lost connection ends PostgreSQL's.
        if (!db.InTransaction() || !db.Usable()) throw;
        if (savepoints) {
          Control(db, "ROLLBACK TO job");
          Control(db, "RELEASE job");
        } else {
          Control(db, "ROLLBACK");
        }
      }
    }
    if (db.InTransaction()) {
      batch_end.Run();  // a failure here fails every job of the batch (the catch below)
      Control(db, "COMMIT");
      committed = true;
      generation_.fetch_add(1, std::memory_order_release);  // before anyone is released
    }
  } catch (...) {
    const auto failure = std::current_exception();
    db.DiscardPending();
    if (db.Usable() && db.InTransaction()) {
      try {
        Control(db, "ROLLBACK");
      } catch (...) {
      }
    }
    committed = false;
    for (auto& error : errors) {
      if (!error) error = failure;
    }
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log::Error("store commit failed", {{"jobs", batch.size()}, {"error", e.what()}});
    } catch (...) {
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard lock(listeners_mutex_);
    if (committed) {
      for (const auto& listener : listeners_) listener();
    }
    if (observer_) observer_(batch.size(), seconds);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].complete(errors[i]);
}

Store::BatchEndScope::BatchEndScope(Db& db) : db_(db) {
  // PostgreSQL's savepoints cost its full-text index nothing: its work runs in place.
  db_.batching_ = db_.engine() == Engine::kSqlite;
  db_.batch_end_.clear();
  db_.keeping_ = true;
  db_.kept_.clear();
}

Store::BatchEndScope::~BatchEndScope() {
  db_.batching_ = false;
  db_.batch_end_.clear();
  db_.keeping_ = false;
  db_.kept_.clear();
}

void Store::BatchEndScope::Run() {
  db_.batching_ = false;
  auto work = std::move(db_.batch_end_);
  db_.batch_end_.clear();
  for (auto& step : work) step(db_);
}

std::unique_ptr<Db> Store::AcquireReader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!readers_.empty()) {
      auto db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  return Connect(true);
}

void Store::ReturnReader(std::unique_ptr<Db> db) {
  if (!db || !db->Usable() || db->InTransaction()) return;  // lost or in doubt: closed
  std::lock_guard lock(readers_mutex_);
  readers_.push_back(std::move(db));
}

Store::Lease::Lease(Store& owner) : store(owner), db(owner.AcquireReader()) {}

Store::Lease::~Lease() { store.ReturnReader(std::move(db)); }

Db& Store::EnterHeldRead() {
  HeldReadSlot* slot = nullptr;
  for (auto& held : t_held_reads) {
    if (held.owner == this) slot = &held;
  }
  if (slot != nullptr && slot->depth > 0) {  // nested in another Read: same snapshot
    ++slot->depth;
    return *slot->db;
  }
  // Read before the snapshot is taken (at the first statement after BEGIN): a commit landing
  // in between makes the snapshot newer than its generation, which only ends it sooner.
  const auto generation = generation_.load(std::memory_order_acquire);
  if (slot == nullptr) {
    t_held_reads.push_back({this, AcquireReader(), generation, 0, false});
    slot = &t_held_reads.back();
    try {
      Control(*slot->db, "BEGIN");
    } catch (const StoreError&) {
      t_held_reads.pop_back();
      throw;
    }
  } else if (slot->generation != generation) {
    try {
      Control(*slot->db, "COMMIT");  // something committed since this snapshot began
      Control(*slot->db, "BEGIN");
    } catch (const StoreError&) {
      slot->broken = true;
      LeaveHeldRead(false);  // depth is 0: closes it
      throw;
    }
    slot->generation = generation;
  }
  if (!t_release_registered) {
    util::AtEndOfRound(&Store::ReleaseHeldReads);
    t_release_registered = true;
  }
  ++slot->depth;
  return *slot->db;
}

void Store::LeaveHeldRead(bool failed) {
  for (auto it = t_held_reads.begin(); it != t_held_reads.end(); ++it) {
    if (it->owner != this) continue;
    if (it->depth > 0) --it->depth;
    it->broken = it->broken || failed;
    // Closing the connection ends its transaction; an outer Read still using it keeps it until
    // it leaves too.
    if (it->broken && it->depth == 0) t_held_reads.erase(it);
    return;
  }
}

void Store::ReleaseHeldReads() {
  t_release_registered = false;
  for (auto& slot : t_held_reads) {
    try {
      Control(*slot.db, "COMMIT");
    } catch (...) {
      continue;  // not returned to the pool: the connection closes with the slot
    }
    slot.owner->ReturnReader(std::move(slot.db));
  }
  t_held_reads.clear();  // keeps its capacity: no allocation per round
}

// REPEATABLE READ on PostgreSQL: one snapshot for the whole Read, as a SQLite read transaction.
Store::ReadTransaction::ReadTransaction(Db& connection) : db(connection) {
  Control(db, db.Dialect("BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
}

Store::ReadTransaction::~ReadTransaction() {
  try {
    Control(db, "COMMIT");
  } catch (...) {
  }
}

void Store::RefuseOnIoThread() {
  if (util::OnIoThread()) {
    throw std::logic_error(
        "store write on an io thread: the route must run on the worker pool "
        "(Router::Execution::kWorkerPool)");
  }
}

bool Store::Healthy() {
  try {
    return Read([](Db& db) {
      auto stmt = db.Prepare("SELECT count(*) FROM schema_migrations");
      return stmt.Step();
    });
  } catch (const std::exception& error) {
    log::Warn("store health check failed", {{"error", error.what()}});
    return false;
  }
}

}  // namespace jilaf::store
