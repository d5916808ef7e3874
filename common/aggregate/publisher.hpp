#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

#include "common/events/cloud_event.hpp"

namespace jilaf::store {
class Db;
}

namespace jilaf::aggregate {

/// What a change says about itself; the publisher adds everything else of the envelope.
struct EventFacts {
  std::string aggregate;  // "tranche", "nomination"
  std::string what;       // "approved", "created"
  std::string key;        // Kafka key: the aggregate whose events must stay in order
  std::string subject;    // "tranches/<id>"
  nlohmann::json data;    // the payload, valid against its schema
};

/// The one place a service's events are made: topic `jilaf.<service>.events`, source
/// `/jilaf/<service>`, type `jilaf.<service>.<aggregate>.<what>`, dataschema
/// `/schemas/<service>/<aggregate>.<what>/v<N>.json` (N from `versions`, 1 by default), the
/// caller's `traceparent` (a new trace when it has none), and the outbox row in the caller's
/// transaction.
///
/// Personal data never goes on the permanent events topic: a payload member `personal` (an
/// object) is taken out and published first, in the same transaction, as
/// `jilaf.<service>.person.updated` on the compacted topic `jilaf.<service>.people`, keyed by the
/// payload's `person_id`. Erase() writes that key's tombstone.
class Publisher {
 public:
  explicit Publisher(std::string service, std::map<std::string, int> versions = {});

  [[nodiscard]] const std::string& service() const { return service_; }
  [[nodiscard]] const std::string& topic() const { return topic_; }
  [[nodiscard]] const std::string& source() const { return source_; }
  [[nodiscard]] const std::string& people_topic() const { return people_topic_; }
  [[nodiscard]] const std::map<std::string, int>& versions() const { return versions_; }

  /// The event, fully enveloped, without storing it.
  [[nodiscard]] events::CloudEvent Make(EventFacts facts, std::string_view traceparent) const;
  /// Make, then append it to the outbox inside `tx`: the event exists if and only if the change
  /// it describes commits.
  void Publish(store::Db& tx, EventFacts facts, std::string_view traceparent) const;
  /// Appends the tombstone of `person_id` on the people topic (`person.erased`, null value):
  /// consumers delete their copy, and compaction removes the person's records from the topic.
  void Erase(store::Db& tx, const std::string& person_id, std::string_view traceparent) const;

 private:
  std::string service_;
  std::map<std::string, int> versions_;
  std::string topic_;
  std::string people_topic_;
  std::string source_;
};

}  // namespace jilaf::aggregate
