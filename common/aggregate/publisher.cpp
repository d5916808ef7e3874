#include "common/aggregate/publisher.hpp"

#include "common/events/outbox.hpp"

namespace jilaf::aggregate {

Publisher::Publisher(std::string service, std::map<std::string, int> versions)
    : service_(std::move(service)),
      versions_(std::move(versions)),
      topic_("jilaf." + service_ + ".events"),
      people_topic_("jilaf." + service_ + ".people"),
      source_("/jilaf/" + service_) {}

events::CloudEvent Publisher::Make(EventFacts facts, std::string_view traceparent) const {
  const std::string name = facts.aggregate + "." + facts.what;
  const auto version = versions_.find(facts.aggregate);
  const int v = version == versions_.end() ? 1 : version->second;
  return events::MakeEvent(source_, "jilaf." + service_ + "." + name, std::move(facts.key),
                           std::move(facts.subject),
                           "/schemas/" + service_ + "/" + name + "/v" + std::to_string(v) + ".json",
                           std::move(facts.data), std::string(traceparent));
}

void Publisher::Publish(store::Db& tx, EventFacts facts, std::string_view traceparent) const {
  if (const auto it = facts.data.find("personal");
      it != facts.data.end() && facts.data.is_object()) {
    if (it->is_object() && facts.data.contains("person_id")) {
      const std::string person_id = facts.data.at("person_id");
      nlohmann::json person = std::move(*it);
      person["person_id"] = person_id;
      events::AppendToOutbox(
          tx, people_topic_,
          Make({"person", "updated", person_id, "people/" + person_id, std::move(person)},
               traceparent));
    }
    facts.data.erase("personal");
  }
  events::AppendToOutbox(tx, topic_, Make(std::move(facts), traceparent));
}

void Publisher::Erase(store::Db& tx, const std::string& person_id,
                      std::string_view traceparent) const {
  events::AppendToOutbox(
      tx, people_topic_,
      Make({"person", "erased", person_id, "people/" + person_id, nullptr}, traceparent));
}

}  // namespace jilaf::aggregate
