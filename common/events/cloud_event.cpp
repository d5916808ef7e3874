#include "common/events/cloud_event.hpp"

#include "common/util/clock.hpp"
#include "common/util/ids.hpp"

namespace jilaf::events {

CloudEvent MakeEvent(std::string source, std::string type, std::string key, std::string subject,
                     std::string dataschema, nlohmann::json data, std::string traceparent) {
  CloudEvent event;
  event.id = util::NewTimeOrderedUuid();
  event.source = std::move(source);
  event.type = std::move(type);
  event.key = std::move(key);
  event.subject = std::move(subject);
  event.time = util::NowRfc3339();
  event.dataschema = std::move(dataschema);
  event.traceparent = traceparent.empty() ? util::NewTraceparent() : std::move(traceparent);
  event.data = std::move(data);
  return event;
}

void ToKafka(const CloudEvent& event, Headers& headers, std::string& value) {
  headers.clear();
  headers.emplace_back("ce_specversion", "1.0");
  headers.emplace_back("ce_id", event.id);
  headers.emplace_back("ce_source", event.source);
  headers.emplace_back("ce_type", event.type);
  if (!event.subject.empty()) headers.emplace_back("ce_subject", event.subject);
  if (!event.time.empty()) headers.emplace_back("ce_time", event.time);
  if (!event.dataschema.empty()) headers.emplace_back("ce_dataschema", event.dataschema);
  headers.emplace_back("content-type", event.datacontenttype);
  if (!event.traceparent.empty()) headers.emplace_back("traceparent", event.traceparent);
  // A null payload is a tombstone: an empty (null) Kafka value, which compaction removes along
  // with every earlier record of the key.
  value = event.data.is_null() ? std::string() : event.data.dump();
}

namespace {

// Copying, comparing or serialising nlohmann::json recurses once per level: a message value
// nested a million levels deep (a poison message of 2 MB) would crash a consumer on every
// redelivery instead of being dead-lettered. Events are a few levels deep.
constexpr int kMaxDataDepth = 64;

bool NestsDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

ParseResult FromKafka(std::string_view key, std::string_view value, const Headers& headers) {
  ParseResult result;
  CloudEvent& event = result.event;
  std::string specversion;
  for (const auto& [name, header_value] : headers) {
    if (name == "ce_specversion") {
      specversion = header_value;
    } else if (name == "ce_id") {
      event.id = header_value;
    } else if (name == "ce_source") {
      event.source = header_value;
    } else if (name == "ce_type") {
      event.type = header_value;
    } else if (name == "ce_subject") {
      event.subject = header_value;
    } else if (name == "ce_time") {
      event.time = header_value;
    } else if (name == "ce_dataschema") {
      event.dataschema = header_value;
    } else if (name == "content-type") {
      event.datacontenttype = header_value;
    } else if (name == "traceparent") {
      event.traceparent = header_value;
    }
  }
  if (specversion != "1.0") {
    result.error = specversion.empty() ? "missing ce_specversion header"
                                       : "unsupported ce_specversion " + specversion;
    return result;
  }
  for (const auto& [attribute, text] :
       {std::pair{"ce_id", &event.id}, {"ce_source", &event.source}, {"ce_type", &event.type}}) {
    if (text->empty()) {
      result.error = std::string("missing ") + attribute + " header";
      return result;
    }
  }
  if (event.datacontenttype.rfind("application/json", 0) != 0) {
    result.error = "unsupported content-type " + event.datacontenttype;
    return result;
  }
  event.key = std::string(key);
  if (value.empty()) {  // a tombstone (null value)
    event.data = nullptr;
    result.ok = true;
    return result;
  }
  if (NestsDeeperThan(value, kMaxDataDepth)) {
    result.error = "message value nests deeper than " + std::to_string(kMaxDataDepth) + " levels";
    return result;
  }
  event.data = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (event.data.is_discarded()) {
    result.error = "message value is not valid JSON";
    return result;
  }
  event.data_text.assign(value);
  result.ok = true;
  return result;
}

}  // namespace jilaf::events
