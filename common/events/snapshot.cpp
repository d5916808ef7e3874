#include "common/events/snapshot.hpp"

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"

namespace jilaf::events {
namespace {

// The `personal` part of a snapshot's data, taken out and appended as the person's record on
// `jilaf.<service>.people` (as aggregate::Publisher does for change events).
void AppendPersonalRecord(store::Db& tx, const SnapshotOptions& options, nlohmann::json& data,
                          const std::string& trace) {
  if (!data.is_object() || !data.contains("personal")) return;
  auto personal = std::move(data["personal"]);
  data.erase("personal");
  const auto person = data.find("person_id");
  if (!personal.is_object() || person == data.end() || !person->is_string()) return;
  const std::string person_id = *person;
  personal["person_id"] = person_id;
  AppendToOutbox(
      tx, "jilaf." + options.service + ".people",
      MakeEvent(options.source, "jilaf." + options.service + ".person.updated", person_id,
                "people/" + person_id, "/schemas/" + options.service + "/person.updated/v1.json",
                std::move(personal), trace));
}

}  // namespace

std::map<std::string, std::int64_t> PublishSnapshots(store::Store& store,
                                                     const SnapshotOptions& options,
                                                     const std::vector<SnapshotSource>& sources) {
  std::map<std::string, std::int64_t> counts;
  const std::string trace = options.traceparent.empty() ? NewTraceparent() : options.traceparent;
  for (const auto& source : sources) {
    const std::string type = "jilaf." + options.service + "." + source.aggregate + ".snapshot";
    const auto version = options.versions.find(source.aggregate);
    const std::string schema =
        "/schemas/" + options.service + "/" + source.aggregate + ".snapshot/v" +
        std::to_string(version == options.versions.end() ? 1 : version->second) + ".json";
    std::int64_t after = 0;
    auto& count = counts[source.aggregate];
    for (;;) {
      const std::size_t appended = store.Write([&](store::Db& tx) {
        auto page = tx.Prepare(source.page_query);
        page.Bind(1, after).Bind(2, static_cast<std::int64_t>(options.page_size));
        std::size_t rows = 0;
        while (page.Step()) {
          after = page.Int(0);
          auto item = source.describe(tx, nlohmann::json::parse(page.Text(1)));
          // Personal data stays off the events topic: it goes, as the person's latest record,
          // to the compacted people topic (which records published before it had one need).
          AppendPersonalRecord(tx, options, item.data, trace);
          AppendToOutbox(tx, options.topic,
                         MakeEvent(options.source, type, std::move(item.key),
                                   std::move(item.subject), schema, std::move(item.data), trace));
          ++rows;
        }
        return rows;
      });
      count += static_cast<std::int64_t>(appended);
      if (appended < options.page_size) break;
    }
  }
  return counts;
}

nlohmann::json SnapshotSummary(const SnapshotOptions& options,
                               const std::map<std::string, std::int64_t>& counts) {
  std::int64_t total = 0;
  nlohmann::json by_aggregate = nlohmann::json::object();
  for (const auto& [aggregate, count] : counts) {
    by_aggregate[aggregate] = count;
    total += count;
  }
  return {{"published", total}, {"by_aggregate", by_aggregate}, {"topic", options.topic}};
}

}  // namespace jilaf::events
