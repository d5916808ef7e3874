#include "common/crypto/rekey.hpp"

#include <algorithm>

#include "common/log/log.hpp"
#include "common/util/clock.hpp"

namespace jilaf::crypto {
namespace {

// Binds the newest key's id to every '?' of a target's condition, starting at `first`.
void BindKeyId(store::Stmt& stmt, const std::string& where, int first, const std::string& id) {
  const auto marks = std::count(where.begin(), where.end(), '?');
  for (int i = 0; i < marks; ++i) stmt.Bind(first + i, id);
}

}  // namespace

std::string SealedPending(const std::string& column) {
  // Typed parameters: PostgreSQL cannot choose among length()'s overloads for an untyped one.
  return column + " IS NOT NULL AND substr(" + column +
         ", 1, length(CAST(? AS TEXT)) + 4) <> 'v2:' || CAST(? AS TEXT) || ':'";
}

RekeyTarget SealedColumn(const FieldCipher& cipher, const std::string& table,
                         const std::string& key, const std::string& column,
                         const std::string& context_sql) {
  RekeyTarget target{table + "." + column, table, key, SealedPending(column), {}};
  const std::string select =
      "SELECT " + column + ", " + context_sql + " FROM " + table + " WHERE " + key + " = ?";
  const std::string update = "UPDATE " + table + " SET " + column + " = ? WHERE " + key + " = ?";
  target.rewrite = [&cipher, select, update](store::Db& tx, const std::string& row_key) {
    auto row = tx.Prepare(select);
    row.Bind(1, row_key);
    if (!row.Step()) return RowOutcome::kUnchanged;
    const auto sealed = row.OptText(0);
    if (!sealed || cipher.IsCurrent(*sealed)) return RowOutcome::kUnchanged;
    const std::string context = row.Text(1);
    const auto plain = cipher.Decrypt(*sealed, context);
    if (!plain) return RowOutcome::kUnreadable;
    auto write = tx.Prepare(update);
    write.Bind(1, cipher.Encrypt(*plain, context)).Bind(2, row_key);
    write.Run();
    return RowOutcome::kRewritten;
  };
  return target;
}

store::MigrationSet FieldRekey::Migrations() {
  return {"common.field_rekey",
          {{1, "field-key rotation progress",
            "CREATE TABLE field_rekey (target TEXT PRIMARY KEY, write_key TEXT NOT NULL,"
            " last_rowid INTEGER NOT NULL, rewritten INTEGER NOT NULL,"
            " unreadable INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT);"},
           // Rows are walked by their text key on both engines (PostgreSQL has no rowid);
           // last_rowid stays unused. A SQLite run under way when this step lands starts over
           // from the first key, which only re-reads rows already under the newest key.
           {2, "field-key rotation position by key",
            "ALTER TABLE field_rekey ADD COLUMN last_key TEXT NOT NULL DEFAULT '';"}}};
}

FieldRekey::FieldRekey(store::Store& store, const FieldCipher& cipher,
                       std::vector<RekeyTarget> targets, Options options)
    : store_(store), cipher_(cipher), targets_(std::move(targets)), options_(options) {}

FieldRekey::~FieldRekey() { Stop(); }

bool FieldRekey::Start() {
  std::lock_guard lock(mutex_);
  if (running_) return false;
  if (thread_.joinable()) thread_.join();
  store_.Write([&](store::Db& tx) {
    // A finished run or one towards another key starts over; an interrupted one keeps its place.
    auto upsert = tx.Prepare(
        "INSERT INTO field_rekey(target, write_key, last_rowid, rewritten, unreadable,"
        " started_at, last_key) VALUES (?, ?, 0, 0, 0, ?, '') ON CONFLICT(target) DO UPDATE SET"
        " write_key = excluded.write_key, last_key = '', rewritten = 0, unreadable = 0,"
        " started_at = excluded.started_at, finished_at = NULL"
        " WHERE field_rekey.write_key <> excluded.write_key OR field_rekey.finished_at IS NOT "
        "NULL");
    for (const auto& target : targets_) {
      upsert.Bind(1, target.name).Bind(2, cipher_.write_key_id()).Bind(3, util::NowRfc3339());
      upsert.Run();
    }
  });
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void FieldRekey::ResumeIfUnfinished() {
  if (!Unfinished()) return;
  log::Info("resuming the field-key rotation", {{"write_key", cipher_.write_key_id()}});
  (void)Start();
}

bool FieldRekey::Unfinished() {
  return store_.Read([&](store::Db& db) {
    auto stmt =
        db.Prepare("SELECT count(*) FROM field_rekey WHERE write_key = ? AND finished_at IS NULL");
    stmt.Bind(1, cipher_.write_key_id());
    return stmt.Step() && stmt.Int(0) > 0;
  });
}

void FieldRekey::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  Wait();
}

void FieldRekey::Wait() {
  std::thread running;
  {
    std::lock_guard lock(mutex_);  // the thread itself takes it between batches: join outside
    running = std::move(thread_);
  }
  if (running.joinable()) running.join();
}

void FieldRekey::Run() {
  try {
    for (const auto& target : targets_) {
      while (Batch(target)) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, options_.pause, [this] { return stopping_; })) {
          running_ = false;
          return;
        }
      }
    }
    log::Info("field-key rotation finished", {{"write_key", cipher_.write_key_id()}});
  } catch (const std::exception& error) {
    // The position of the last committed batch is kept: a restart or a new request resumes.
    log::Error("field-key rotation stopped", {{"error", error.what()}});
  }
  running_ = false;
}

bool FieldRekey::Batch(const RekeyTarget& target) {
  return store_.Write([&](store::Db& tx) {
    // Locked on PostgreSQL: replicas that all resumed the run at start take the batches in
    // turn, each from where the last commit left the position.
    auto progress =
        tx.Prepare(std::string("SELECT last_key FROM field_rekey WHERE target = ? AND write_key = ?"
                               " AND finished_at IS NULL") +
                   std::string(tx.Dialect("", " FOR UPDATE")));
    progress.Bind(1, target.name).Bind(2, cipher_.write_key_id());
    if (!progress.Step()) return false;
    std::string last = progress.Text(0);
    const auto marks = std::count(target.pending_where.begin(), target.pending_where.end(), '?');
    auto rows =
        tx.Prepare("SELECT " + target.key + " FROM " + target.table + " WHERE " + target.key +
                   " > ? AND (" + target.pending_where + ") ORDER BY " + target.key + " LIMIT ?");
    rows.Bind(1, last);
    BindKeyId(rows, target.pending_where, 2, cipher_.write_key_id());
    rows.Bind(2 + static_cast<int>(marks), options_.batch_rows);
    std::vector<std::string> keys;
    while (rows.Step()) keys.push_back(rows.Text(0));
    std::int64_t rewritten = 0;
    std::int64_t unreadable = 0;
    for (const auto& key : keys) {
      const auto outcome = target.rewrite(tx, key);
      rewritten += outcome == RowOutcome::kRewritten ? 1 : 0;
      unreadable += outcome == RowOutcome::kUnreadable ? 1 : 0;
      last = key;
    }
    const bool more = static_cast<std::int64_t>(keys.size()) == options_.batch_rows;
    auto save = tx.Prepare(
        "UPDATE field_rekey SET last_key = ?, rewritten = rewritten + ?,"
        " unreadable = unreadable + ?, finished_at = ? WHERE target = ?");
    save.Bind(1, last).Bind(2, rewritten).Bind(3, unreadable);
    save.Bind(4, more ? std::optional<std::string>() : std::optional(util::NowRfc3339()));
    save.Bind(5, target.name);
    save.Run();
    return more;
  });
}

nlohmann::json FieldRekey::Status() {
  nlohmann::json out = {{"keys", cipher_.key_ids()},
                        {"write_key", cipher_.write_key_id()},
                        {"running", running_.load()},
                        {"targets", nlohmann::json::array()}};
  std::int64_t remaining_total = 0;
  store_.Read([&](store::Db& db) {
    for (const auto& target : targets_) {
      nlohmann::json entry = {{"name", target.name}};
      auto left =
          db.Prepare("SELECT count(*) FROM " + target.table + " WHERE " + target.pending_where);
      BindKeyId(left, target.pending_where, 1, cipher_.write_key_id());
      entry["remaining"] = left.Step() ? left.Int(0) : 0;
      remaining_total += entry["remaining"].get<std::int64_t>();
      auto progress = db.Prepare(
          "SELECT write_key, last_key, rewritten, unreadable, started_at, finished_at"
          " FROM field_rekey WHERE target = ?");
      progress.Bind(1, target.name);
      if (progress.Step()) {
        const auto finished = progress.OptText(5);
        entry["run"] = {{"write_key", progress.Text(0)},
                        {"position", progress.Text(1)},
                        {"rewritten", progress.Int(2)},
                        {"unreadable", progress.Int(3)},
                        {"started_at", progress.Text(4)},
                        {"finished_at", finished ? nlohmann::json(*finished) : nlohmann::json()}};
      }
      out["targets"].push_back(std::move(entry));
    }
  });
  out["remaining"] = remaining_total;
  // What the operator waits for before removing the older keys from the key file.
  out["older_keys_removable"] = remaining_total == 0 && !running_.load();
  return out;
}

}  // namespace jilaf::crypto
