#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aggregate/doc_table.hpp"
#include "common/aggregate/publisher.hpp"
#include "common/events/snapshot.hpp"
#include "common/http/json_input.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::domain {
class StateMachine;
}

// The request sequences every service repeats, written once: create, get, list, modify (PATCH
// and actions), transition, and a child created under its parent. A handler supplies only what
// is its own: how it reads the body, its rules, and its event facts. Each sequence runs inside
// one store transaction: the record, its events (outbox rows) and the caller's audit row commit
// together or not at all.
namespace jilaf::aggregate {

/// One kind of record: where it is kept and how its events are named.
struct Kind {
  const DocTable& table;
  const Publisher& events;
  std::string aggregate;  // the event name's middle part: "tranche" in jilaf.projects.tranche.paid
  bool records_creator = false;  // Create stamps `created_by` with the caller's subject
};

/// What a rule sees of the write it runs in: the transaction, the request, and a way to publish
/// events (with the request's traceparent) and to answer something other than the document.
class Change {
 public:
  Change(store::Db& tx, const http::Request& request, const Publisher& events)
      : tx(tx), request(request), events_(events) {}

  store::Db& tx;
  const http::Request& request;

  /// Appends an event to the outbox in this transaction.
  void Emit(EventFacts facts);
  /// Answers `response` instead of the document (the sequence still commits as usual).
  void Respond(http::Response response) { response_ = std::move(response); }
  [[nodiscard]] std::optional<http::Response>& response() { return response_; }
  /// Create and CreateChild: answers what `build` returns instead of the document, built after
  /// the commit on the caller's thread unless an Idempotency-Key must store it with the write.
  /// `build` may refer to the document and to what outlives the sequence's call, not to the
  /// transaction. The answer describes the created record (the audit row takes its id from it).
  void RespondAfterCommit(std::function<http::Response()> build) { later_ = std::move(build); }
  [[nodiscard]] std::function<http::Response()>& later() { return later_; }
  /// Columns a new record's row gets beside its document (Create, CreateChild), written by its
  /// INSERT rather than by an UPDATE after it.
  void KeepColumns(ExtraColumns columns) { columns_ = std::move(columns); }
  [[nodiscard]] const ExtraColumns& columns() const { return columns_; }

 private:
  const Publisher& events_;
  std::optional<http::Response> response_;
  std::function<http::Response()> later_;
  ExtraColumns columns_;
};

/// Runs inside the transaction before the record is stored; validates (throws) and changes it.
using Rule = std::function<void(Change&, nlohmann::json& doc)>;
/// Runs after the record is stored (its version is final): emits the events.
using Announce = std::function<void(Change&, const nlohmann::json& doc)>;

/// 200 (or `status`) with the document and its ETag.
http::Response DocResponse(const nlohmann::json& doc, int status = 200);
/// 201 with the document, its ETag and Location.
http::Response CreatedResponse(const DocTable& table, const nlohmann::json& doc);

/// GET one: the stored document as it is (never parsed), with its ETag (for versioned tables);
/// 404 when absent.
http::Response Get(store::Store& store, const DocTable& table, std::string_view id);
/// GET a collection: `page_size`/`page_token` and the given filters, oldest first.
http::Response List(store::Store& store, const http::Request& request, const DocTable& table,
                    const Filters& filters);

/// GET the records under a parent (a project's tranches): 404 when the parent does not exist,
/// else a page of `table` filtered on `link` = parent id and on `filters`.
http::Response ListUnder(store::Store& store, const http::Request& request, const DocTable& parents,
                         std::string_view parent_id, const DocTable& table, const std::string& link,
                         Filters filters = {});

/// POST a new record: stamps `doc` (id, version 1, times, created_by), runs `rule`, inserts,
/// runs `announce`, answers 201 with Location. Idempotent under `Idempotency-Key`. Without one,
/// the answer is serialised after the commit, outside the store's writer thread.
http::Response Create(store::Store& store, const http::Request& request, const Kind& kind,
                      nlohmann::json doc, const Rule& rule, const Announce& announce);

/// Changes a stored record: loads it (404), checks If-Match (428/412), runs `rule`, stores the
/// next version (412 if another write won the race), runs `announce`, answers the document
/// (serialised after the commit, off the writer thread).
http::Response Modify(store::Store& store, const http::Request& request, const Kind& kind,
                      std::string_view id, const Rule& rule, const Announce& announce);

/// Modify without If-Match: for actions on a part of a record that several clients make at
/// once without reading it first (a registration, an enrolment). Still a versioned write.
http::Response Amend(store::Store& store, const http::Request& request, const Kind& kind,
                     std::string_view id, const Rule& rule, const Announce& announce);

/// DELETE: loads (404), checks If-Match (428/412), runs `rule` (which may refuse or clean up
/// related rows), deletes, runs `announce` with the deleted document, answers 204.
http::Response Remove(store::Store& store, const http::Request& request, const Kind& kind,
                      std::string_view id, const Rule& rule, const Announce& announce);

/// A transition body: `{"to": "...", "reason": "..."}`. `note` and `comment` are read as
/// deprecated aliases of `reason`.
struct TransitionInput {
  std::string to;
  std::optional<std::string> reason;
};
/// Reads `to` and `reason` (at most `max_reason` characters) from `in`; the caller reads its own
/// extra members and calls Finish.
TransitionInput ReadTransition(http::ObjectReader& in, std::size_t max_reason = 2000);
/// The same, describing `to` as the states `machine` moves to (what the document lists; the
/// machine itself refuses a move its current state does not allow).
TransitionInput ReadTransition(http::ObjectReader& in, const domain::StateMachine& machine,
                               std::size_t max_reason = 2000);
/// Appends the one status-history entry shape, `{from, to, at, by, reason?}`, to doc[field].
void RecordTransition(nlohmann::json& doc, const std::string& field, const std::string& from,
                      const std::string& to, std::string_view by,
                      const std::optional<std::string>& reason);

/// How a kind of record moves between states.
struct Lifecycle {
  const domain::StateMachine& machine;
  std::string history_field = "status_history";
  /// The event of a move, from the stored document and the state it left.
  std::function<EventFacts(Change&, const nlohmann::json& doc, const std::string& from)> event;
};

/// POST .../transitions: loads (404), If-Match (428/412), the state machine (409/422), `rule`
/// (may refuse or change more), the new status and its history entry, stores the next version,
/// publishes `lifecycle.event`, answers the document.
http::Response Transition(store::Store& store, const http::Request& request, const Kind& kind,
                          const Lifecycle& lifecycle, std::string_view id,
                          const TransitionInput& input, const Rule& rule = {});

/// POST a record under a parent (a tranche under its project): loads the parent (404), runs
/// `rule` with it, then as Create. Idempotent under `Idempotency-Key`. The parent is read and
/// parsed, and the record stamped, before the write is queued; inside the writer's transaction
/// the parent's version is checked by its index and the parent read again only if it changed.
/// `prefetch`, when given, runs in the transaction before the parent's version is checked: it
/// sends ahead the reads `rule` will make (store::Stmt::Prefetch), so that on PostgreSQL they
/// share the parent's round trip.
using ChildRule = std::function<void(Change&, const nlohmann::json& parent, nlohmann::json& doc)>;
using Prefetch = std::function<void(store::Db& tx, const nlohmann::json& doc)>;
http::Response CreateChild(store::Store& store, const http::Request& request,
                           const DocTable& parents, std::string_view parent_id, const Kind& kind,
                           nlohmann::json doc, const ChildRule& rule, const Announce& announce,
                           const Prefetch& prefetch = {});

/// One kind of record a snapshot run republishes: every document of `table`, described as
/// `jilaf.<service>.<aggregate>.snapshot`.
struct SnapshotOf {
  const DocTable& table;
  std::string aggregate;
  std::function<events::SnapshotItem(store::Db&, const nlohmann::json& doc)> describe;
};
/// POST /v1/admin/snapshots: publishes every record of `kinds` through the outbox, page by page,
/// under the request's trace; answers 202 with the counts.
http::Response Snapshots(store::Store& store, const http::Request& request, const Publisher& events,
                         const std::vector<SnapshotOf>& kinds);

/// A JSON merge patch (RFC 7396) applied to the members a client may change; 422 when the body
/// is not an object. The result is then read like a create body.
nlohmann::json MergePatch(nlohmann::json editable, const nlohmann::json& patch);
/// The members of `doc` named in `keys` (those present).
nlohmann::json Pick(const nlohmann::json& doc, std::initializer_list<const char*> keys);

}  // namespace jilaf::aggregate
