#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/store/sqlite.hpp"
#include "common/store/write_hook.hpp"
#include "common/util/thread_role.hpp"

namespace jilaf::store {

/// One schema step. Versions increase by one within a component.
struct Migration {
  int version;
  std::string name;
  std::string sql;
  /// The same step in PostgreSQL's dialect; empty when `sql` runs on both engines as it is.
  std::string postgres = {};
};

/// The migrations of one component (a service's tables, or common's outbox and inbox).
struct MigrationSet {
  std::string component;
  std::vector<Migration> migrations;
};

struct StoreOptions {
  /// SQLite: the database file.
  std::string path;
  /// Most write jobs folded into one commit; 1 forces one commit per job (benchmark reference).
  std::size_t max_batch = 256;
  int busy_timeout_ms = 5000;
  Engine engine = Engine::kSqlite;
  /// PostgreSQL: a libpq URL without the password, the file holding the password (first line),
  /// and a database name overriding the URL's when not empty.
  std::string database_url = {};
  std::string database_password_file = {};
  std::string database_name = {};
  int connect_timeout_s = 5;
};

/// Applies pending migrations in order, each in its own transaction, in the connection's
/// dialect (PostgreSQL: under an advisory lock, pg::Migrate). Throws StoreError if the database
/// holds a newer schema than this binary knows.
void Migrate(Db& db, const std::vector<MigrationSet>& sets);

/// The service's store, on SQLite or PostgreSQL. All writes go through one writer thread that
/// folds whatever jobs are queued into a single transaction (group commit): each job runs in its
/// own savepoint, so one job's failure rolls back only its own work, and every job's caller is
/// released only after the COMMIT that made its work durable. Reads run on pooled connections in
/// the caller's thread (a worker thread, or an io thread for routes declared
/// Router::Execution::kIoThread) and never wait for the writer. On PostgreSQL the pool holds one
/// connection per thread that reads at once (so at most the io and worker threads), a lost
/// connection is dropped and opened again on next use, and a write or read while the server is
/// unreachable fails with a transient StoreError (StoreError::Transient) instead of waiting.
class Store {
 public:
  using CommitListener = std::function<void()>;
  /// Called on the writer thread after each commit with the number of jobs and seconds taken.
  using CommitObserver = std::function<void(std::size_t jobs, double seconds)>;

  Store(StoreOptions options, std::vector<MigrationSet> migrations);

  /// Returns up to `max_pages` free pages (left by deleted rows) to the file system, so the file
  /// shrinks; returns how many. The store keeps its file in incremental auto-vacuum mode.
  std::int64_t ReclaimFreePages(std::int64_t max_pages);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  /// Queues `fn(Db&)` for the writer and returns a future that completes after its commit, with
  /// fn's result or its exception. The calling thread's WriteHook (an audit row) runs in the same
  /// transaction, right after fn.
  template <typename Fn>
  auto WriteAsync(Fn fn) -> std::future<std::invoke_result_t<Fn&, Db&>> {
    using R = std::invoke_result_t<Fn&, Db&>;
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    Job job;
    if constexpr (std::is_void_v<R>) {
      job.run = [fn = WithWriteHook(std::move(fn))](Db& db) mutable { fn(db); };
      job.complete = [promise](std::exception_ptr error) {
        error ? promise->set_exception(error) : promise->set_value();
      };
    } else {
      auto result = std::make_shared<std::optional<R>>();
      job.run = [fn = WithWriteHook(std::move(fn)), result](Db& db) mutable {
        result->emplace(fn(db));
      };
      job.complete = [promise, result](std::exception_ptr error) {
        error ? promise->set_exception(error) : promise->set_value(std::move(**result));
      };
    }
    Enqueue(std::move(job));
    return future;
  }

  /// WriteAsync, then waits for the commit. Refused on an io thread (util::OnIoThread), where
  /// waiting for a commit would stall every connection of that thread.
  template <typename Fn>
  auto Write(Fn fn) -> std::invoke_result_t<Fn&, Db&> {
    RefuseOnIoThread();
    return WriteAsync(std::move(fn)).get();
  }

  /// Runs `fn(Db&)` in a read transaction (one consistent snapshot) on a pooled connection.
  ///
  /// On an io thread the requests of one round (util::AtEndOfRound) share one read
  /// transaction, as long as nothing has been committed since it began: opening and closing a
  /// WAL read transaction takes file locks (fcntl) and a process-wide mutex, 11 % of an io
  /// thread's time in the read profile (docs/benchmarks.md). A reader therefore never sees a
  /// snapshot older than the last commit that had completed when it asked: every commit bumps
  /// a generation before its writers are released, and a held transaction of an older
  /// generation is ended and begun again. A Read nested in another shares its snapshot. The
  /// transaction ends with the round, so an idle thread holds no snapshot that would keep
  /// checkpoints back.
  template <typename Fn>
  auto Read(Fn fn) -> std::invoke_result_t<Fn&, Db&> {
    if (util::OnIoThread() && options_.engine == Engine::kSqlite) {
      HeldReadScope scope(*this);
      try {
        return fn(scope.db);
      } catch (const StoreError&) {
        scope.failed = true;  // the connection may be in any state: closed, not reused
        throw;
      }
    }
    Lease lease(*this);
    ReadTransaction tx(*lease.db);
    return fn(*lease.db);
  }

  /// Listeners run on the writer thread after every successful commit (e.g. to wake the relay).
  void AddCommitListener(CommitListener listener);
  void SetCommitObserver(CommitObserver observer);

  /// True when a trivial query succeeds on a read connection.
  [[nodiscard]] bool Healthy();

  /// Finishes queued jobs and stops the writer. Later writes fail with StoreError.
  void Stop();

  [[nodiscard]] const StoreOptions& options() const { return options_; }

 private:
  void UseIncrementalVacuum(Db& db);
  struct Job {
    std::function<void(Db&)> run;
    std::function<void(std::exception_ptr)> complete;
  };

  struct Lease {
    explicit Lease(Store& store);
    ~Lease();
    Store& store;
    std::unique_ptr<Db> db;
  };

  // One Read on an io thread: enters the thread's held transaction for this store, and leaves
  // it (closing the connection if a statement failed and no outer Read still uses it).
  struct HeldReadScope {
    explicit HeldReadScope(Store& owner) : store(owner), db(owner.EnterHeldRead()) {}
    ~HeldReadScope() { store.LeaveHeldRead(failed); }
    HeldReadScope(const HeldReadScope&) = delete;
    HeldReadScope& operator=(const HeldReadScope&) = delete;
    Store& store;
    Db& db;
    bool failed = false;
  };

  // The batch's Db::AtBatchEnd work: queued while the jobs run, run by Run() before COMMIT,
  // dropped if the batch fails.
  class BatchEndScope {
   public:
    explicit BatchEndScope(Db& db);
    ~BatchEndScope();
    BatchEndScope(const BatchEndScope&) = delete;
    BatchEndScope& operator=(const BatchEndScope&) = delete;
    void Run();

   private:
    Db& db_;
  };

  struct ReadTransaction {
    explicit ReadTransaction(Db& db);
    ~ReadTransaction();
    Db& db;
  };

  void Enqueue(Job job);
  static void RefuseOnIoThread();
  std::unique_ptr<Db> Connect(bool reader);
  std::unique_ptr<Db> AcquireReader();
  void ReturnReader(std::unique_ptr<Db> db);
  Db& EnterHeldRead();
  void LeaveHeldRead(bool failed);
  static void ReleaseHeldReads();
  void WriterLoop();
  void CommitBatch(std::vector<Job>& batch);
  void StartCheckpointer();
  void CheckpointLoop();
  void StopCheckpointer();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);

  StoreOptions options_;
  std::unique_ptr<Db> writer_db_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Db>> readers_;
  // Bumped after every successful COMMIT, before its jobs' callers are released.
  std::atomic<std::uint64_t> generation_{0};

  std::mutex listeners_mutex_;
  std::vector<CommitListener> listeners_;
  CommitObserver observer_;

  std::thread writer_;

  // SQLite: the WAL is copied back into the database file by a thread of its own
  // (`store-checkpoint`), woken by the writer's commits once the WAL holds
  // kCheckpointPages, instead of by the committing writer itself.
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;
  bool checkpoint_stopping_ = false;
  std::thread checkpointer_;
};

/// Runs `job` in separate write jobs, each deleting at most `batch` rows and returning how many
/// it deleted, until one deletes fewer or `max_jobs` have run (a larger backlog is left to the
/// next call): the writer is never held for long. Returns the total.
template <typename Job>
std::int64_t WriteInBatches(Store& store, std::int64_t batch, int max_jobs, Job job) {
  std::int64_t total = 0;
  for (int run = 0; run < max_jobs; ++run) {
    const std::int64_t deleted = store.Write(job);
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

}  // namespace jilaf::store
