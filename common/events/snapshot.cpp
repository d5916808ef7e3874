#include "common/events/snapshot.hpp"

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"

namespace jilaf::events {

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
          // Personal data stays off the events topic: the compacted people topic is already
          // the snapshot of it (the latest record per person).
          if (item.data.is_object()) item.data.erase("personal");
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
