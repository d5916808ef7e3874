#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace jilaf::store {

class Db;
struct JobOutcome;

/// Work that must commit in the same transaction as every write queued by one piece of code
/// (the audit row of an HTTP request). Installed per thread with ScopedWriteHook; Store picks it
/// up when a job is queued and runs it on the writer thread right after the job, inside the job's
/// savepoint, so the job and the hook's rows commit or roll back together.
class WriteHook {
 public:
  virtual ~WriteHook() = default;
  /// Runs after the job returned. `outcome` describes the job's result (DescribeOutcome), else
  /// it is empty. Throwing fails the job (and so rolls back its work).
  virtual void InTransaction(Db& db, const JobOutcome& outcome) = 0;
};

/// The hook installed on this thread, or null.
std::shared_ptr<WriteHook> CurrentWriteHook();

/// Installs a hook for writes queued from this thread until destroyed (restores the previous).
class ScopedWriteHook {
 public:
  explicit ScopedWriteHook(std::shared_ptr<WriteHook> hook);
  ScopedWriteHook(const ScopedWriteHook&) = delete;
  ScopedWriteHook& operator=(const ScopedWriteHook&) = delete;
  ~ScopedWriteHook();

 private:
  std::shared_ptr<WriteHook> previous_;
};

/// What a hook learns of a job's result. The store knows no result types: the default below says
/// nothing, and a layer above gives its own result type an overload found by argument-dependent
/// lookup (common/http does so for its Response).
struct JobOutcome {
  std::optional<int> status;
  std::string_view body;
  /// The id of the record the job created when its answer is built only after the commit (so
  /// `body` is still empty); else empty, and the body tells it.
  std::string_view created_id;
};

template <typename R>
JobOutcome DescribeOutcome(const R& /*result*/) {
  return {};
}

/// `fn` followed by the current thread's hook, if any (else `fn` unchanged in effect).
template <typename Fn>
auto WithWriteHook(Fn fn) {
  return [fn = std::move(fn), hook = CurrentWriteHook()](Db& db) mutable {
    using R = std::invoke_result_t<Fn&, Db&>;
    if constexpr (std::is_void_v<R>) {
      fn(db);
      if (hook) hook->InTransaction(db, JobOutcome{});
    } else {
      R result = fn(db);
      if (hook) hook->InTransaction(db, DescribeOutcome(result));
      return result;
    }
  };
}

}  // namespace jilaf::store
