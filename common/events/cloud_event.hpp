#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/ids.hpp"

namespace jilaf::events {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A CloudEvents 1.0 event as the services exchange it on Kafka (binary content mode): the
/// attributes travel as `ce_*` headers, `data` as the JSON message value, and the aggregate id
/// as the message key so that one aggregate's events keep their order.
struct CloudEvent {
  std::string id;
  std::string source;      // e.g. /jilaf/invitations
  std::string type;        // e.g. jilaf.invitations.nomination.submitted
  std::string subject;     // e.g. nominations/<id>
  std::string time;        // RFC 3339, UTC
  std::string dataschema;  // versions the payload, e.g. /schemas/.../v1.json
  std::string datacontenttype = "application/json";
  std::string traceparent;  // W3C trace context
  std::string key;          // Kafka message key: the aggregate id
  nlohmann::json data = nlohmann::json::object();
  /// The payload exactly as it arrived (set by FromKafka; empty for events made here): an effect
  /// that stores the payload keeps these bytes instead of serialising `data` again.
  std::string data_text;
};

/// A new event with a fresh id, the current time and a new trace (or `traceparent`, if given).
CloudEvent MakeEvent(std::string source, std::string type, std::string key, std::string subject,
                     std::string dataschema, nlohmann::json data, std::string traceparent = {});

/// Headers and value for Kafka's binary content mode.
void ToKafka(const CloudEvent& event, Headers& headers, std::string& value);

struct ParseResult {
  bool ok = false;
  CloudEvent event;
  std::string error;
};

/// Reads a Kafka message back into an event; `error` names what is missing or malformed.
[[nodiscard]] ParseResult FromKafka(std::string_view key, std::string_view value,
                                    const Headers& headers);

// The id and clock helpers live in common/util (ids.hpp, clock.hpp); these names stay for the
// code that reads them as part of the event vocabulary.
using util::NewTimeOrderedUuid;
using util::NewTraceparent;
using util::NewUuid;
using util::NowRfc3339;

}  // namespace jilaf::events
