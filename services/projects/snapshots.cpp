#include "common/events/snapshot.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/store.hpp"

namespace jilaf::projects {

http::Response PublishSnapshots(const http::Request& request, store::Store& store) {
  const events::SnapshotOptions options{"projects", kEventSource, kEventsTopic, 200,
                                        std::string(request.Header("traceparent"))};
  // Keyed like the change events: by project, so a tranche's snapshot follows its changes.
  const std::vector<events::SnapshotSource> sources = {
      {"project", "SELECT seq, doc FROM projects WHERE seq > ?1 ORDER BY seq LIMIT ?2",
       [](store::Db&, const nlohmann::json& project) {
         const std::string id = project["id"];
         return events::SnapshotItem{id, "projects/" + id, ProjectData(project)};
       }},
      {"tranche", "SELECT seq, doc FROM tranches WHERE seq > ?1 ORDER BY seq LIMIT ?2",
       [](store::Db& db, const nlohmann::json& tranche) {
         const std::string project_id = tranche["project_id"];
         const auto project = Find(db, "projects", project_id);
         return events::SnapshotItem{
             project_id, "tranches/" + tranche["id"].get<std::string>(),
             TrancheData(tranche, project.value_or(nlohmann::json{{"id", project_id}}))};
       }}};
  const auto counts = events::PublishSnapshots(store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

}  // namespace jilaf::projects
