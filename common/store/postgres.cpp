#include "common/store/postgres.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <utility>

#include "common/log/log.hpp"
#include "common/store/dialect.hpp"

namespace jilaf::store::pg {
namespace {

std::string SqlState(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr ? state : "";
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  return text;
}

// Throws PgError unless `result` succeeded; frees it when throwing.
void CheckResult(PGconn* conn, PGresult* result, std::string_view what) {
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  const std::string state = SqlState(result);
  std::string message = std::string(what) + ": " + Trimmed(PQerrorMessage(conn));
  PQclear(result);
  throw PgError(state.empty() && PQstatus(conn) != CONNECTION_OK ? "08006" : state, message);
}

}  // namespace

bool PgError::Transient() const {
  const std::string_view state = sqlstate_;
  return state.starts_with("08") || state.starts_with("57P") || state.starts_with("53") ||
         state == "40001" || state == "40P01" || state == "55P03";
}

std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    std::size_t end = i + 1;
    while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end])) != 0) ++end;
    if (end > i + 1) {
      out += '$';
      out.append(sql.substr(i + 1, end - i - 1));
      i = end - 1;
    } else {
      out += '$' + std::to_string(++next);
    }
  }
  return out;
}

Awaited::~Awaited() {
  if (result != nullptr) PQclear(result);
}

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_),
      sql_(std::move(other.sql_)),
      params_(std::move(other.params_)),
      result_(other.result_),
      row_(other.row_),
      awaited_(std::move(other.awaited_)) {
  other.result_ = nullptr;
}

Stmt::~Stmt() { Clear(); }

void Stmt::Clear() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  awaited_.reset();
}

Stmt& Stmt::Bind(int index, std::int64_t value) {
  if (index < 1) throw StoreError(1, "bind index starts at 1");
  if (params_.size() < static_cast<std::size_t>(index)) params_.resize(index);
  params_[index - 1] = std::to_string(value);
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  if (index < 1) throw StoreError(1, "bind index starts at 1");
  if (params_.size() < static_cast<std::size_t>(index)) params_.resize(index);
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  params_[index - 1] = std::string(text, end);
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  if (index < 1) throw StoreError(1, "bind index starts at 1");
  if (params_.size() < static_cast<std::size_t>(index)) params_.resize(index);
  params_[index - 1] = std::string(text);
  return *this;
}

Stmt& Stmt::Bind(int index, std::nullptr_t) {
  if (index < 1) throw StoreError(1, "bind index starts at 1");
  if (params_.size() < static_cast<std::size_t>(index)) params_.resize(index);
  params_[index - 1].reset();
  return *this;
}

Stmt::Wire Stmt::ToWire() const {
  Wire wire{NumberPlaceholders(sql_), {}, true};
  wire.prepare = !wire.text.starts_with(kPlanPerRun);
  wire.values.reserve(params_.size());
  for (const auto& param : params_) wire.values.push_back(param ? param->c_str() : nullptr);
  return wire;
}

void Stmt::Execute() {
  if (db_->pipelined_) {
    Queue(nullptr);
    result_ = db_->SyncPipeline(true);
    row_ = -1;
    return;
  }
  Clear();
  auto [text, values, prepare] = ToWire();
  const int count = static_cast<int>(values.size());
  PGresult* result = nullptr;
  auto prepared = prepare ? db_->prepared_.find(text) : db_->prepared_.end();
  if (prepare && prepared == db_->prepared_.end() && db_->prepared_.size() < Db::kMaxPrepared) {
    // Prepared outside any question of transactions: a statement prepared inside one that
    // rolls back stays prepared.
    std::string name = "j" + std::to_string(db_->prepared_.size());
    PGresult* made = PQprepare(db_->conn_, name.c_str(), text.c_str(), 0, nullptr);
    CheckResult(db_->conn_, made, "statement failed");
    PQclear(made);
    prepared = db_->prepared_.emplace(std::move(text), std::move(name)).first;
  }
  if (prepared != db_->prepared_.end()) {
    result = PQexecPrepared(db_->conn_, prepared->second.c_str(), count, values.data(), nullptr,
                            nullptr, 0);
  } else {
    result =
        PQexecParams(db_->conn_, text.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0);
  }
  CheckResult(db_->conn_, result, "statement failed");
  const char* tuples = PQcmdTuples(result);
  db_->changes_ = (tuples != nullptr && *tuples != '\0') ? std::stoll(tuples) : 0;
  result_ = result;
  row_ = -1;
}

void Stmt::Prefetch() {
  if (!db_->pipelined_) return;
  auto awaited = std::make_shared<Awaited>();
  Queue(awaited);
  awaited_ = std::move(awaited);
}

bool Stmt::Step() {
  if (result_ == nullptr && awaited_) {
    if (!awaited_->done) db_->Sync();  // throws the first error of what went with it
    if (!awaited_->done || awaited_->result == nullptr) {
      awaited_.reset();
      throw StoreError(1, "a prefetched statement got no answer (its pipeline was discarded)");
    }
    result_ = std::exchange(awaited_->result, nullptr);
    awaited_.reset();
    row_ = -1;
  }
  if (result_ == nullptr) Execute();
  ++row_;
  return row_ < PQntuples(result_);
}

void Stmt::Queue(std::shared_ptr<Awaited> sink) {
  Clear();
  const auto wire = ToWire();
  db_->Send(wire.text, wire.values, wire.prepare, std::move(sink));
}

void Stmt::Run() {
  if (db_->pipelined_) {
    Queue(nullptr);
    return;
  }
  Execute();
  Clear();
}

std::string Stmt::Text(int column) const {
  return std::string(PQgetvalue(result_, row_, column),
                     static_cast<std::size_t>(PQgetlength(result_, row_, column)));
}

std::int64_t Stmt::Int(int column) const {
  if (IsNull(column)) return 0;
  const std::string text = Text(column);
  if (text == "t") return 1;  // booleans read as integers, as SQLite has them
  if (text == "f") return 0;
  return std::stoll(text);
}

double Stmt::Double(int column) const { return IsNull(column) ? 0.0 : std::stod(Text(column)); }

std::optional<std::string> Stmt::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::optional<std::int64_t> Stmt::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

bool Stmt::IsNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

Db::Db(const ConnectionOptions& options) {
  std::string password;
  if (!options.password_file.empty()) {
    std::ifstream file(options.password_file);
    if (!file) {
      throw PgError("", "database password file " + options.password_file + " cannot be read");
    }
    std::getline(file, password);
    password = Trimmed(password);
  }
  const std::string timeout = std::to_string(options.connect_timeout_s);
  // The URL is expanded first; the keywords after it override what it says.
  std::vector<const char*> keys = {"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {options.url.c_str(), timeout.c_str(), "jilaf"};
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  if (!options.database.empty()) {
    keys.push_back("dbname");
    values.push_back(options.database.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ != nullptr ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("08001", "cannot connect to the database: " + message);
  }
  // Quiet the server's NOTICEs (e.g. "relation already exists, skipping").
  Exec("SET client_min_messages = warning");
}

Db::~Db() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Db::InTransaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

bool Db::Usable() const { return conn_ != nullptr && !broken_ && PQstatus(conn_) == CONNECTION_OK; }

void Db::Send(const std::string& text, const std::vector<const char*>& values, bool prepare,
              std::shared_ptr<Awaited> sink) {
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1) {
    throw PgError("08006", "cannot enter pipeline mode: " + Trimmed(PQerrorMessage(conn_)));
  }
  const int count = static_cast<int>(values.size());
  auto prepared = prepare ? prepared_.find(text) : prepared_.end();
  if (prepare && prepared == prepared_.end() && prepared_.size() < kMaxPrepared) {
    std::string name = "j" + std::to_string(prepared_.size());
    if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) != 1) {
      broken_ = true;
      throw PgError("08006", "cannot send a statement: " + Trimmed(PQerrorMessage(conn_)));
    }
    pending_.push_back({true, text});
    prepared = prepared_.emplace(text, std::move(name)).first;
  }
  const int sent = prepared != prepared_.end()
                       ? PQsendQueryPrepared(conn_, prepared->second.c_str(), count, values.data(),
                                             nullptr, nullptr, 0)
                       : PQsendQueryParams(conn_, text.c_str(), count, nullptr, values.data(),
                                           nullptr, nullptr, 0);
  if (sent != 1) {
    broken_ = true;
    throw PgError("08006", "cannot send a statement: " + Trimmed(PQerrorMessage(conn_)));
  }
  pending_.push_back({false, {}, std::move(sink)});
  if (pending_.size() >= kMaxPending) Sync();
}

PGresult* Db::SyncPipeline(bool keep_last) {
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return nullptr;
  const std::vector<Pending> pending = std::move(pending_);
  pending_.clear();
  if (PQpipelineSync(conn_) != 1) {
    broken_ = true;
    throw PgError("08006", "cannot send to the server: " + Trimmed(PQerrorMessage(conn_)));
  }
  std::optional<PgError> failure;
  PGresult* kept = nullptr;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    // Each queued statement's answer ends with a null result.
    while (PGresult* result = PQgetResult(conn_)) {
      const ExecStatusType status = PQresultStatus(result);
      const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
      if (!ok && pending[i].prepare) prepared_.erase(pending[i].text);  // not prepared after all
      if (status == PGRES_FATAL_ERROR && !failure) {
        const std::string state = SqlState(result);
        failure.emplace(state.empty() ? "08006" : state,
                        "statement failed: " + Trimmed(PQresultErrorMessage(result)));
      }
      if (ok && !pending[i].prepare) {
        const char* tuples = PQcmdTuples(result);
        changes_ = (tuples != nullptr && *tuples != '\0') ? std::stoll(tuples) : 0;
        if (pending[i].sink) {
          ClearResult(std::exchange(pending[i].sink->result, result));
          continue;
        }
        if (keep_last && i + 1 == pending.size()) {
          ClearResult(kept);
          kept = result;
          continue;
        }
      }
      PQclear(result);  // answered, or skipped (PGRES_PIPELINE_ABORTED) after an error
    }
    if (pending[i].sink) pending[i].sink->done = true;
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  ClearResult(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) broken_ = true;
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    ClearResult(kept);
    broken_ = true;
    throw PgError("08006",
                  failure ? failure->what()
                          : "connection to the server lost: " + Trimmed(PQerrorMessage(conn_)));
  }
  if (failure) {
    ClearResult(kept);
    throw *failure;
  }
  return kept;
}

void Db::ClearResult(PGresult* result) {
  if (result != nullptr) PQclear(result);
}

void Db::Defer(std::string_view sql) {
  if (!pipelined_) {
    Exec(sql);
    return;
  }
  Send(std::string(sql), {}, false);
}

void Db::DiscardPending() noexcept {
  try {
    Sync();
  } catch (...) {  // the work failed already; a lost connection shows in Usable()
  }
}

void Db::Exec(std::string_view sql) {
  if (pipelined_) {
    std::string_view statement = sql;
    while (!statement.empty() && (statement.back() == ';' || statement.back() == ' ')) {
      statement.remove_suffix(1);
    }
    if (statement.find(';') == std::string_view::npos) {  // one statement: down the pipeline
      Send(std::string(statement), {}, false);
      Sync();
      return;
    }
    Sync();  // what is queued goes first; the simple protocol needs the pipeline off
  }
  const std::string text(sql);
  PGresult* result = PQexec(conn_, text.c_str());
  CheckResult(conn_, result, "exec failed");
  PQclear(result);
}

void Migrate(Db& db, const std::vector<MigrationSet>& sets) {
  db.Exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
  try {
    db.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
        " PRIMARY KEY (component, version))");
    for (const auto& set : sets) {
      std::int64_t current = 0;
      {
        auto stmt = db.Prepare(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?");
        stmt.Bind(1, set.component);
        if (stmt.Step()) current = stmt.Int(0);
      }
      const std::int64_t known = set.migrations.empty() ? 0 : set.migrations.back().version;
      if (current > known) {
        throw StoreError(1, "database schema of '" + set.component + "' is at version " +
                                std::to_string(current) + ", newer than this binary (" +
                                std::to_string(known) + ")");
      }
      for (const auto& migration : set.migrations) {
        if (migration.version <= current) continue;
        Transaction(db, [&](Db& tx) {
          tx.Exec(migration.sql);
          auto stmt = tx.Prepare(
              "INSERT INTO schema_migrations(component, version, name) VALUES (?, ?, ?)");
          stmt.Bind(1, set.component).Bind(2, migration.version).Bind(3, migration.name);
          stmt.Run();
        });
        log::Info("migration applied", {{"component", set.component},
                                        {"version", migration.version},
                                        {"name", migration.name},
                                        {"engine", "postgres"}});
      }
    }
  } catch (...) {
    try {
      db.Exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    } catch (const StoreError&) {  // a lost connection releases the lock by itself
    }
    throw;
  }
  db.Exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
}

}  // namespace jilaf::store::pg
