#include "common/aggregate/sequences.hpp"

#include "common/domain/state_machine.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"

namespace jilaf::aggregate {
namespace {

http::Response Answer(Change& change, const nlohmann::json& doc, int status,
                      const DocTable& table) {
  if (auto& custom = change.response()) return std::move(*custom);
  return status == 201 ? CreatedResponse(table, doc) : DocResponse(doc, status);
}

// A creation's result as the writer returns it. Its answer is built there only when an
// Idempotency-Key stores it with the write (or a rule answered with a ready response); else
// after the commit, so the writer thread does not render and serialise it.
struct Created {
  http::Response response;  // a placeholder with the status when `later`
  bool later = false;
  std::string id;                          // the created record's id, when `later`
  std::function<http::Response()> custom;  // Change::RespondAfterCommit, when `later`
};

// Found by argument-dependent lookup from store::WithWriteHook: the audit row of a creation.
[[maybe_unused]] store::JobOutcome DescribeOutcome(const Created& created) {
  if (created.later) return {created.response.status, {}, created.id};
  return {created.response.status, created.response.body, {}};
}

// Inside the transaction, after `announce`: the answer, or what building it later needs.
http::Response AnswerCreated(Change& change, const nlohmann::json& doc, const DocTable& table,
                             Created& out) {
  if (change.response() || !change.request.Header("idempotency-key").empty()) {
    if (!change.response() && change.later()) return change.later()();
    return Answer(change, doc, 201, table);
  }
  out.later = true;
  out.id = doc.at("id").get<std::string>();
  out.custom = std::move(change.later());
  return http::Response::Empty(201);
}

// After the commit: the answer the writer left to build.
http::Response Deliver(Created created, const nlohmann::json& doc, const DocTable& table) {
  if (!created.later) return std::move(created.response);
  return created.custom ? created.custom() : CreatedResponse(table, doc);
}

}  // namespace

void Change::Emit(EventFacts facts) {
  events_.Publish(tx, std::move(facts), request.Header("traceparent"));
}

http::Response DocResponse(const nlohmann::json& doc, int status) {
  auto response = http::Response::Json(status, doc);
  response.SetHeader("ETag", http::MakeEtag(doc.at("version").get<std::int64_t>()));
  return response;
}

http::Response CreatedResponse(const DocTable& table, const nlohmann::json& doc) {
  auto response = DocResponse(doc, 201);
  response.SetHeader("Location", table.Location(doc));
  return response;
}

http::Response Get(store::Store& store, const DocTable& table, std::string_view id) {
  auto stored = store.Read([&](store::Db& db) { return table.FindStored(db, id); });
  if (!stored) {
    throw http::ApiError::NotFound("no " + table.spec().what + " with id " + std::string(id));
  }
  auto response = http::Response::JsonText(200, std::move(stored->json));
  if (table.spec().versioned) response.SetHeader("ETag", http::MakeEtag(stored->version));
  return response;
}

http::Response ListUnder(store::Store& store, const http::Request& request, const DocTable& parents,
                         std::string_view parent_id, const DocTable& table, const std::string& link,
                         Filters filters) {
  const auto page = http::ParsePage(request);
  filters.emplace_back(link, std::string(parent_id));
  return http::Response::Json(200, store.Read([&](store::Db& db) {
    if (!parents.Find(db, parent_id)) {
      throw http::ApiError::NotFound("no " + parents.spec().what + " with id " +
                                     std::string(parent_id));
    }
    return table.List(db, page, filters);
  }));
}

http::Response List(store::Store& store, const http::Request& request, const DocTable& table,
                    const Filters& filters) {
  const auto page = http::ParsePage(request);
  return http::Response::Json(
      200, store.Read([&](store::Db& db) { return table.List(db, page, filters); }));
}

http::Response Create(store::Store& store, const http::Request& request, const Kind& kind,
                      nlohmann::json doc, const Rule& rule, const Announce& announce) {
  auto created = store.Write([&](store::Db& tx) {
    Created out;
    out.response = http::RunIdempotent(tx, request, [&] {
      Change change(tx, request, kind.events);
      Stamp(doc, kind.records_creator ? request.principal.subject : std::string_view());
      if (rule) rule(change, doc);
      kind.table.Insert(tx, doc, change.columns());
      if (announce) announce(change, doc);
      return AnswerCreated(change, doc, kind.table, out);
    });
    return out;
  });
  return Deliver(std::move(created), doc, kind.table);
}

namespace {

enum class Ending { kUpdate, kDelete };

// The one sequence behind Modify, Amend and Remove: load (404), If-Match when asked, the rule,
// then the versioned update or the delete, then the announcement.
http::Response LoadChangeStore(store::Store& store, const http::Request& request, const Kind& kind,
                               std::string_view id, bool if_match, Ending ending, const Rule& rule,
                               const Announce& announce) {
  nlohmann::json doc;
  bool later = false;  // the stored document is the answer, serialised after the commit
  auto response = store.Write([&](store::Db& tx) {
    later = false;
    Change change(tx, request, kind.events);
    doc = kind.table.Get(tx, id);
    if (if_match) http::RequireIfMatch(request, doc.at("version").get<std::int64_t>());
    if (rule) rule(change, doc);
    if (ending == Ending::kDelete) {
      kind.table.Delete(tx, id);
    } else {
      kind.table.Update(tx, doc);
    }
    if (announce) announce(change, doc);
    if (auto& custom = change.response()) return std::move(*custom);
    if (ending == Ending::kDelete) return http::Response::Empty(204);
    later = true;
    return http::Response::Empty(200);
  });
  return later ? DocResponse(doc) : response;
}

}  // namespace

http::Response Modify(store::Store& store, const http::Request& request, const Kind& kind,
                      std::string_view id, const Rule& rule, const Announce& announce) {
  return LoadChangeStore(store, request, kind, id, true, Ending::kUpdate, rule, announce);
}

http::Response Amend(store::Store& store, const http::Request& request, const Kind& kind,
                     std::string_view id, const Rule& rule, const Announce& announce) {
  return LoadChangeStore(store, request, kind, id, false, Ending::kUpdate, rule, announce);
}

http::Response Remove(store::Store& store, const http::Request& request, const Kind& kind,
                      std::string_view id, const Rule& rule, const Announce& announce) {
  return LoadChangeStore(store, request, kind, id, true, Ending::kDelete, rule, announce);
}

TransitionInput ReadTransition(http::ObjectReader& in, std::size_t max_reason) {
  TransitionInput input;
  input.to = in.RequiredString("to", 1, 50);
  input.reason = in.OptionalString("reason", max_reason);
  for (const char* alias : {"note", "comment"}) {  // deprecated names of `reason`
    auto text = in.OptionalString(alias, max_reason);
    if (!text) continue;
    if (input.reason) {
      in.AddError(alias, "is a deprecated name of reason; send only reason");
    } else {
      input.reason = std::move(text);
    }
  }
  return input;
}

TransitionInput ReadTransition(http::ObjectReader& in, const domain::StateMachine& machine,
                               std::size_t max_reason) {
  auto input = ReadTransition(in, max_reason);
  in.Describe("to", {{"enum", machine.Targets()}}, true);
  return input;
}

void RecordTransition(nlohmann::json& doc, const std::string& field, const std::string& from,
                      const std::string& to, std::string_view by,
                      const std::optional<std::string>& reason) {
  nlohmann::json entry = {
      {"from", from}, {"to", to}, {"at", util::NowRfc3339()}, {"by", std::string(by)}};
  if (reason) entry["reason"] = *reason;
  if (!doc.contains(field) || !doc[field].is_array()) doc[field] = nlohmann::json::array();
  doc[field].push_back(std::move(entry));
}

http::Response Transition(store::Store& store, const http::Request& request, const Kind& kind,
                          const Lifecycle& lifecycle, std::string_view id,
                          const TransitionInput& input, const Rule& rule) {
  std::string from;
  return Modify(
      store, request, kind, id,
      [&](Change& change, nlohmann::json& doc) {
        from = doc.at("status").get<std::string>();
        lifecycle.machine.Check(from, input.to);
        if (rule) rule(change, doc);
        doc["status"] = input.to;
        RecordTransition(doc, lifecycle.history_field, from, input.to, request.principal.subject,
                         input.reason);
      },
      [&](Change& change, const nlohmann::json& doc) {
        change.Emit(lifecycle.event(change, doc, from));
      });
}

namespace {

// A parent as some committed version of it, read outside the writer.
struct ParentSnapshot {
  nlohmann::json doc;
  std::int64_t version = 0;
};

std::optional<ParentSnapshot> ReadParent(store::Store& store, const DocTable& parents,
                                         std::string_view parent_id) {
  if (!parents.spec().versioned) return std::nullopt;
  auto stored = store.Read([&](store::Db& db) { return parents.FindStored(db, parent_id); });
  if (!stored) return std::nullopt;
  return ParentSnapshot{nlohmann::json::parse(stored->json), stored->version};
}

// The parent as the transaction sees it: the snapshot when its version is still the stored one
// (every change of a versioned document bumps its version), else read again; 404 when gone.
nlohmann::json CurrentParent(store::Db& tx, const DocTable& parents, std::string_view parent_id,
                             std::optional<ParentSnapshot>& snapshot) {
  if (snapshot && parents.VersionOf(tx, parent_id) == snapshot->version) {
    return std::move(snapshot->doc);
  }
  return parents.Get(tx, parent_id);
}

}  // namespace

http::Response CreateChild(store::Store& store, const http::Request& request,
                           const DocTable& parents, std::string_view parent_id, const Kind& kind,
                           nlohmann::json doc, const ChildRule& rule, const Announce& announce,
                           const Prefetch& prefetch) {
  // Outside the writer's transaction: what does not depend on what it holds.
  auto snapshot = ReadParent(store, parents, parent_id);
  Stamp(doc, kind.records_creator ? request.principal.subject : std::string_view());
  auto created = store.Write([&](store::Db& tx) {
    Created out;
    out.response = http::RunIdempotent(tx, request, [&] {
      Change change(tx, request, kind.events);
      if (prefetch) prefetch(tx, doc);
      const auto parent = CurrentParent(tx, parents, parent_id, snapshot);
      if (rule) rule(change, parent, doc);
      kind.table.Insert(tx, doc, change.columns());
      if (announce) announce(change, doc);
      return AnswerCreated(change, doc, kind.table, out);
    });
    return out;
  });
  return Deliver(std::move(created), doc, kind.table);
}

http::Response Snapshots(store::Store& store, const http::Request& request, const Publisher& events,
                         const std::vector<SnapshotOf>& kinds) {
  const events::SnapshotOptions options{events.service(),
                                        events.source(),
                                        events.topic(),
                                        200,
                                        std::string(request.Header("traceparent")),
                                        events.versions()};
  std::vector<events::SnapshotSource> sources;
  for (const auto& kind : kinds) {
    sources.push_back({kind.aggregate, kind.table.ScanSql(), kind.describe});
  }
  const auto counts = events::PublishSnapshots(store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

nlohmann::json MergePatch(nlohmann::json editable, const nlohmann::json& patch) {
  if (!patch.is_object()) {
    throw http::ApiError::Validation({{"", "expected a JSON object (a merge patch)"}});
  }
  editable.merge_patch(patch);
  return editable;
}

nlohmann::json Pick(const nlohmann::json& doc, std::initializer_list<const char*> keys) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : keys) {
    if (doc.contains(key)) out[key] = doc[key];
  }
  return out;
}

}  // namespace jilaf::aggregate
