#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/store/store.hpp"

namespace jilaf::events {

/// What one row becomes on the topic: the event's key (the aggregate id, so the snapshot lands
/// on the partition of the aggregate's other events), subject and data.
struct SnapshotItem {
  std::string key;
  std::string subject;
  nlohmann::json data;
};

/// One aggregate kind a service can snapshot.
struct SnapshotSource {
  std::string aggregate;  // e.g. "nomination": type jilaf.<service>.nomination.snapshot
  /// SQL selecting `(seq, doc)` with `seq > ?1` in seq order, at most `?2` rows.
  std::string page_query;
  /// The event for one row's document; may read related rows through `db`.
  std::function<SnapshotItem(store::Db& db, const nlohmann::json& doc)> describe;
};

struct SnapshotOptions {
  std::string service;  // "invitations": types jilaf.invitations.<aggregate>.snapshot
  std::string source;   // CloudEvents source, e.g. /jilaf/invitations
  std::string topic;    // the service's events topic
  std::size_t page_size = 200;
  std::string traceparent;  // the request's, so the snapshot run is one trace
  /// Schema version per aggregate (`<aggregate>.snapshot/v<N>.json`), 1 when not listed.
  std::map<std::string, int> versions = {};
};

/// Appends a `jilaf.<service>.<aggregate>.snapshot` event (dataschema
/// /schemas/<service>/<aggregate>.snapshot/v1.json) for every current row of every source to the
/// outbox. Each page is read and appended in its own write transaction: a large store never
/// holds the writer for long, and each snapshot is ordered after every change of its aggregate
/// committed before it. Returns the number of events per aggregate.
std::map<std::string, std::int64_t> PublishSnapshots(store::Store& store,
                                                     const SnapshotOptions& options,
                                                     const std::vector<SnapshotSource>& sources);

/// The 202 body of a snapshot request: `{"published": n, "by_aggregate": {...}, "topic": ...}`.
nlohmann::json SnapshotSummary(const SnapshotOptions& options,
                               const std::map<std::string, std::int64_t>& counts);

}  // namespace jilaf::events
