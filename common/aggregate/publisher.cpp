#include "common/aggregate/publisher.hpp"

#include "common/events/outbox.hpp"

namespace jilaf::aggregate {

Publisher::Publisher(std::string service)
    : service_(std::move(service)),
      topic_("jilaf." + service_ + ".events"),
      source_("/jilaf/" + service_) {}

events::CloudEvent Publisher::Make(EventFacts facts, std::string_view traceparent) const {
  const std::string name = facts.aggregate + "." + facts.what;
  return events::MakeEvent(source_, "jilaf." + service_ + "." + name, std::move(facts.key),
                           std::move(facts.subject),
                           "/schemas/" + service_ + "/" + name + "/v1.json", std::move(facts.data),
                           std::string(traceparent));
}

void Publisher::Publish(store::Db& tx, EventFacts facts, std::string_view traceparent) const {
  events::AppendToOutbox(tx, topic_, Make(std::move(facts), traceparent));
}

}  // namespace jilaf::aggregate
