#include "common/audit/audit.hpp"

#include <any>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/log/log.hpp"
#include "common/store/dialect.hpp"
#include "common/store/write_hook.hpp"
#include "common/util/clock.hpp"
#include "common/util/digest.hpp"
#include "common/util/text.hpp"

namespace jilaf::audit {
namespace {

// The chain's last row, as the store's writer keeps it within one group commit (Db::Keep).
struct ChainTail {
  std::int64_t seq;
  std::string hash;
};
constexpr std::string_view kChainTailKey = "audit.chain_tail";

using nlohmann::json;

constexpr const char* kColumns =
    "seq, at, request_id, subject, roles, method, route, entity_id, status, outcome, prev_hash, "
    "hash";

bool IsWrite(http::Method method) {
  return method != http::Method::kGet && method != http::Method::kHead &&
         method != http::Method::kOptions;
}

std::string OutcomeFor(int status) {
  if (status >= 500) return "failed";
  if (status >= 400) return "rejected";
  return "ok";
}

// Stops a SAX parse at the top-level member "id", keeping its value if it is a string: the
// created entity's id without building the whole body as a DOM (the audit row is written on the
// store's writer thread, where a full parse of every 201 cost more than the row).
class TopLevelId : public json::json_sax_t {
 public:
  std::optional<std::string> id;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool string(string_t& value) override {
    if (at_id_) {
      id = value;
      return false;  // found: the rest of the body is not read
    }
    return true;
  }
  bool start_object(std::size_t) override { return Open(); }
  bool start_array(std::size_t) override { return Open(); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& name) override {
    at_id_ = depth_ == 1 && name == "id";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) override {
    return false;
  }

 private:
  bool Value() {
    at_id_ = false;
    return true;
  }
  bool Open() {
    at_id_ = false;
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  bool at_id_ = false;
};

// The created entity's id from a JSON response body; never anything else of the body.
std::optional<std::string> IdFromBody(std::string_view body) {
  if (body.empty() || body.front() != '{') return std::nullopt;
  TopLevelId sax;
  json::sax_parse(body, &sax, json::input_format_t::json, false);
  return std::move(sax.id);
}

Entry EntryFor(const http::Request& request) {
  Entry entry;
  entry.request_id = request.request_id;
  entry.subject = request.principal.subject;
  for (const auto role : request.principal.roles) {
    entry.roles.emplace_back(auth::RoleName(role));
  }
  entry.method = std::string(http::MethodName(request.method));
  entry.route = request.route;
  // Only `{id}`: other captures (a recipient, a template key) are not entity ids.
  if (const auto& id = request.Param("id"); !id.empty()) entry.entity_id = id;
  return entry;
}

// Appends the request's row to every write job it queues, inside that job's savepoint.
class RequestHook : public store::WriteHook {
 public:
  explicit RequestHook(Entry base) : base_(std::move(base)) {}

  void InTransaction(store::Db& db, const store::JobOutcome& outcome) override {
    // Runs on the store's writer thread, inside the transaction: only what the row needs.
    const auto status = outcome.status;
    Entry entry = base_;
    entry.status = status;
    // A 4xx answered from inside the job (an idempotency key reused with another body) is a
    // rejection even though its transaction committed.
    entry.outcome = status && *status >= 400 ? OutcomeFor(*status) : "committed";
    // What a 201 created (a nomination under /v1/programmes/{id}/...) rather than its parent.
    if (status == 201 && !outcome.created_id.empty()) {
      entry.entity_id = std::string(outcome.created_id);
    } else if (status == 201) {
      if (auto created = IdFromBody(outcome.body)) entry.entity_id = std::move(created);
    }
    Append(db, std::move(entry));
    std::lock_guard lock(mutex_);
    ++appended_;
    last_status_ = status;
  }

  // A row of its own is needed unless a committed row already tells this outcome: nothing was
  // appended, or the request ended otherwise than its last job said (a later job rejected, the
  // commit failed, the handler failed after the commit).
  bool NeedsOwnRow(int final_status) {
    std::lock_guard lock(mutex_);
    if (appended_ == 0) return true;
    if (last_status_) return *last_status_ != final_status;
    return final_status >= 400;
  }

 private:
  Entry base_;
  std::mutex mutex_;
  int appended_ = 0;
  std::optional<int> last_status_;
};

http::Handler Audited(http::Handler inner, store::Store& store) {
  return [inner = std::move(inner), &store](http::Request& request) {
    auto hook = std::make_shared<RequestHook>(EntryFor(request));
    http::Response response;
    {
      store::ScopedWriteHook scope(hook);
      try {
        response = inner(request);
      } catch (...) {
        // Mapped here (logged once, as the pipeline would) so that the row knows the status.
        response = http::ResponseForException(std::current_exception(), request);
      }
    }
    if (hook->NeedsOwnRow(response.status)) {
      Entry entry = EntryFor(request);
      entry.status = response.status;
      entry.outcome = OutcomeFor(response.status);
      if (response.status == 201) {
        if (auto created = IdFromBody(response.body)) entry.entity_id = std::move(created);
      }
      try {
        store.Write([&entry](store::Db& db) { Append(db, std::move(entry)); });
      } catch (const std::exception& error) {
        log::Error("audit row not written",
                   {{"request_id", request.request_id}, {"error", error.what()}});
      }
    }
    return response;
  };
}

// What NormaliseSince accepts, as the documents state it.
constexpr const char* kSincePattern =
    R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$)";

// `since` as RFC 3339 UTC ("…Z"), normalised to the stored form (milliseconds) so that rows
// compare as text.
std::string NormaliseSince(const std::string& text) {
  const auto bad = [] {
    return http::ApiError::BadRequest(
        "query parameter since must be an RFC 3339 UTC time, e.g. 2026-04-01T00:00:00Z");
  };
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size() + 1 || text.back() != 'Z') throw bad();
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) throw bad();
  }
  std::string fraction;
  const std::string rest = text.substr(kShape.size(), text.size() - kShape.size() - 1);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) throw bad();
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] < '0' || rest[i] > '9') throw bad();
    }
    fraction = rest.substr(1);
  }
  fraction.resize(3, '0');
  return text.substr(0, kShape.size()) + "." + fraction.substr(0, 3) + "Z";
}

json RenderRow(store::Stmt& row) {
  json item = {
      {"seq", row.Int(0)},
      {"at", row.Text(1)},
      {"request_id", row.Text(2)},
      {"actor", {{"subject", row.Text(3)}, {"roles", json::parse(row.Text(4), nullptr, false)}}},
      {"method", row.Text(5)},
      {"route", row.Text(6)},
      {"entity_id", nullptr},
      {"status", nullptr},
      {"outcome", row.Text(9)},
      {"prev_hash", row.Text(10)},
      {"hash", row.Text(11)}};
  if (auto id = row.OptText(7)) item["entity_id"] = *id;
  if (auto status = row.OptInt(8)) item["status"] = *status;
  return item;
}

http::Response ListAudit(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request, 50, 500);
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_log WHERE 1=1";
  std::vector<std::string> binds;
  if (page.after) sql += " AND seq < ?";
  if (const auto since = request.Query("since")) {
    sql += " AND at >= ?";
    binds.push_back(NormaliseSince(*since));
  }
  if (const auto actor = request.Query("actor")) {
    sql += " AND subject = ?";
    binds.push_back(*actor);
  }
  if (const auto outcome = request.Query("outcome")) {
    if (*outcome != "committed" && *outcome != "ok" && *outcome != "rejected" &&
        *outcome != "failed") {
      throw http::ApiError::BadRequest(
          "query parameter outcome must be committed, ok, rejected or failed");
    }
    sql += " AND outcome = ?";
    binds.push_back(*outcome);
  }
  sql += " ORDER BY seq DESC LIMIT ?";
  auto body = store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(sql);
    int index = 1;
    if (page.after) stmt.Bind(index++, *page.after);
    for (const auto& value : binds) stmt.Bind(index++, value);
    stmt.Bind(index, page.page_size + 1);
    return http::CollectPage(stmt, page.page_size, RenderRow);
  });
  return http::Response::Json(200, body);
}

http::Response VerifyAudit(const http::Request&, store::Store& store) {
  const auto result = store.Read([](store::Db& db) { return Verify(db); });
  json body = {{"intact", result.intact},
               {"rows", result.rows},
               {"last_seq", result.last_seq},
               {"last_hash", result.last_hash},
               {"first_broken_seq", nullptr}};
  if (result.first_broken_seq) {
    body["first_broken_seq"] = *result.first_broken_seq;
    body["problem"] = result.problem;
  }
  return http::Response::Json(200, body);
}

}  // namespace

const char* const kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

store::MigrationSet Migrations() {
  const std::string sql =
      "CREATE TABLE audit_log ("
      " seq INTEGER PRIMARY KEY,"
      " at TEXT NOT NULL,"
      " request_id TEXT NOT NULL,"
      " subject TEXT NOT NULL,"
      " roles TEXT NOT NULL,"
      " method TEXT NOT NULL,"
      " route TEXT NOT NULL,"
      " entity_id TEXT,"
      " status INTEGER,"
      " outcome TEXT NOT NULL,"
      " prev_hash TEXT NOT NULL,"
      " hash TEXT NOT NULL);"
      "CREATE INDEX audit_log_subject ON audit_log(subject, seq);";
  return {"common.audit", {{1, "create audit log", sql, store::PostgresTypes(sql)}}};
}

namespace {

// ["staff","admin"] as nlohmann writes a JSON array of strings.
std::string RolesText(const std::vector<std::string>& roles, bool ensure_ascii = false) {
  std::string out = "[";
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (i > 0) out += ',';
    util::AppendJsonString(out, roles[i], ensure_ascii);
  }
  return out + "]";
}

}  // namespace

std::string CanonicalRow(std::int64_t seq, const Entry& entry) {
  // Compact JSON with the keys sorted, as nlohmann's dump() of the row's object writes it (the
  // chains written before this was built by hand keep verifying: the text is the same).
  std::string out;
  out.reserve(256);
  const auto member = [&out](const char* key, bool first = false) {
    out += first ? "{\"" : ",\"";
    out += key;
    out += "\":";
  };
  member("at", true);
  util::AppendJsonString(out, entry.at, true);
  member("entity_id");
  if (entry.entity_id) {
    util::AppendJsonString(out, *entry.entity_id, true);
  } else {
    out += "null";
  }
  member("method");
  util::AppendJsonString(out, entry.method, true);
  member("outcome");
  util::AppendJsonString(out, entry.outcome, true);
  member("request_id");
  util::AppendJsonString(out, entry.request_id, true);
  member("roles");
  out += RolesText(entry.roles, true);
  member("route");
  util::AppendJsonString(out, entry.route, true);
  member("seq");
  out += std::to_string(seq);
  member("status");
  out += entry.status ? std::to_string(*entry.status) : "null";
  member("subject");
  util::AppendJsonString(out, entry.subject, true);
  out += '}';
  return out;
}

std::int64_t Append(store::Db& db, Entry entry) {
  if (entry.at.empty()) entry.at = util::NowRfc3339();
  std::int64_t seq = 1;
  std::string prev = kGenesisHash;
  const bool postgres = db.engine() == store::Engine::kPostgres;
  // PostgreSQL: the chain's last row as this transaction appended it, kept by the store's writer
  // between the jobs of one group commit. The lock below, taken by the job that read the chain,
  // is held until the commit, so no other replica can have appended since; the writer drops
  // what it kept when a job rolls back and when the transaction ends.
  const auto* kept = postgres ? db.Kept(kChainTailKey) : nullptr;
  if (const auto* tail = kept != nullptr ? std::any_cast<ChainTail>(kept) : nullptr) {
    seq = tail->seq + 1;
    prev = tail->hash;
  } else {
    if (postgres) {
      // Writers in several processes append to one chain: one at a time, until their commit.
      // Queued: the server takes the lock before it runs the read below, which carries it.
      db.Defer("SELECT pg_advisory_xact_lock(" + std::to_string(kChainLockKey) + ")");
    }
    auto last = db.Prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (last.Step()) {
      seq = last.Int(0) + 1;
      prev = last.Text(1);
    }
  }
  const std::string hash = util::Sha256Hex(prev + CanonicalRow(seq, entry));
  auto insert = db.Prepare(
      "INSERT INTO audit_log(seq, at, request_id, subject, roles, method, route, entity_id,"
      " status, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, seq)
      .Bind(2, entry.at)
      .Bind(3, entry.request_id)
      .Bind(4, entry.subject)
      .Bind(5, RolesText(entry.roles))
      .Bind(6, entry.method)
      .Bind(7, entry.route)
      .Bind(8, entry.entity_id)
      .Bind(9, entry.status)
      .Bind(10, entry.outcome)
      .Bind(11, prev)
      .Bind(12, hash);
  insert.Run();
  if (postgres) db.Keep(kChainTailKey, ChainTail{seq, hash});
  return seq;
}

Verification Verify(store::Db& db) {
  Verification result;
  std::string expected_prev = kGenesisHash;
  std::int64_t expected_seq = 1;
  auto stmt = db.Prepare(std::string("SELECT ") + kColumns + " FROM audit_log ORDER BY seq");
  while (stmt.Step()) {
    Entry entry;
    const std::int64_t seq = stmt.Int(0);
    entry.at = stmt.Text(1);
    entry.request_id = stmt.Text(2);
    entry.subject = stmt.Text(3);
    const auto roles = json::parse(stmt.Text(4), nullptr, false);
    if (roles.is_array()) {
      for (const auto& role : roles) {
        if (role.is_string()) entry.roles.push_back(role.get<std::string>());
      }
    }
    entry.method = stmt.Text(5);
    entry.route = stmt.Text(6);
    entry.entity_id = stmt.OptText(7);
    if (auto status = stmt.OptInt(8)) entry.status = static_cast<int>(*status);
    entry.outcome = stmt.Text(9);
    const std::string prev = stmt.Text(10);
    const std::string hash = stmt.Text(11);
    ++result.rows;
    if (result.intact) {
      std::string problem;
      if (seq != expected_seq) {
        problem = "expected seq " + std::to_string(expected_seq) + ": a row is missing";
      } else if (prev != expected_prev) {
        problem = "prev_hash does not match the previous row's hash";
      } else if (util::Sha256Hex(prev + CanonicalRow(seq, entry)) != hash) {
        problem = "the row's content does not match its hash";
      }
      if (!problem.empty()) {
        result.intact = false;
        result.first_broken_seq = seq;
        result.problem = std::move(problem);
      }
    }
    expected_seq = seq + 1;
    expected_prev = hash;
    result.last_seq = seq;
    result.last_hash = hash;
  }
  return result;
}

std::vector<http::Operation> Parameters() {
  auto list = http::ListParameters(500);
  list.push_back(http::QueryPattern("since", kSincePattern));
  list.push_back(http::QueryText("actor"));
  list.push_back(http::QueryEnum("outcome", {"committed", "ok", "rejected", "failed"}));
  return {{http::Method::kGet, "/v1/audit", std::move(list)}};
}

http::Router Instrument(const http::Router& api, store::Store& store) {
  http::Router out;
  for (const auto& route : api.routes()) {
    // Everything but the handler is kept as declared: where it runs and what it costs.
    // Reads of personal data are recorded like writes: who looked at whose record, and when.
    const bool audited = IsWrite(route.method) || route.personal_data;
    out.Add(route.method, route.pattern, route.access,
            audited ? Audited(route.handler, store) : route.handler, route.execution);
    if (route.cost == http::Router::Cost::kExpensive) out.Expensive();
    if (route.personal_data) out.PersonalData();
    out.Declare({{route.method, route.pattern, route.parameters}});
  }
  out.Add(http::Method::kGet, "/v1/audit", auth::Access::kAdmin,
          [&store](http::Request& request) { return ListAudit(request, store); })
      .Tabular();  // a list like any other: CSV, unknown filters refused, tokens bound
  out.Add(http::Method::kGet, "/v1/audit/verify", auth::Access::kAdmin,
          [&store](http::Request& request) { return VerifyAudit(request, store); })
      .Expensive();  // reads and hashes the whole chain
  return out.Declare(Parameters());
}

}  // namespace jilaf::audit
