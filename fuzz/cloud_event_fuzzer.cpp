// Event parsing as a consumer meets it: a Kafka message's key, value and headers (split from
// the input by FuzzedDataProvider) through events::FromKafka, the envelope check every consumer
// runs before its handler (an unreadable event is dead-lettered, never applied). An accepted
// event must survive ToKafka → FromKafka unchanged.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>

#include "common/events/cloud_event.hpp"

namespace {

using namespace jilaf;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

constexpr const char* kHeaderNames[] = {
    "ce_specversion", "ce_id",         "ce_source",    "ce_type",     "ce_subject",
    "ce_time",        "ce_dataschema", "content-type", "traceparent", "ce_datacontenttype"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string key = in.ConsumeRandomLengthString(64);
  events::Headers headers;
  const int count = in.ConsumeIntegralInRange<int>(0, 14);
  for (int i = 0; i < count; ++i) {
    const auto choice = in.ConsumeIntegralInRange<std::size_t>(0, std::size(kHeaderNames));
    std::string name =
        choice < std::size(kHeaderNames) ? kHeaderNames[choice] : in.ConsumeRandomLengthString(24);
    headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(128));
  }
  const std::string value = in.ConsumeRemainingBytesAsString();
  const auto parsed = events::FromKafka(key, value, headers);
  if (!parsed.ok) {
    Require(!parsed.error.empty(), "a rejected event says why");
    return 0;
  }
  Require(!parsed.event.id.empty() && !parsed.event.type.empty(), "accepted events have id, type");
  events::Headers out_headers;
  std::string out_value;
  events::ToKafka(parsed.event, out_headers, out_value);
  const auto again = events::FromKafka(parsed.event.key, out_value, out_headers);
  Require(again.ok, "an accepted event round-trips");
  Require(again.event.id == parsed.event.id && again.event.type == parsed.event.type &&
              again.event.source == parsed.event.source &&
              again.event.subject == parsed.event.subject &&
              again.event.dataschema == parsed.event.dataschema &&
              again.event.data == parsed.event.data,
          "a round-trip keeps every attribute");
  return 0;
}
