#include "common/events/snapshot.hpp"
#include "services/projects/handlers.hpp"
#include "services/projects/queries.hpp"
#include "services/projects/tables.hpp"

namespace jilaf::projects {
namespace {

events::SnapshotItem DescribeTranche(store::Db& db, const nlohmann::json& tranche) {
  const std::string project_id = tranche["project_id"];
  const auto project = Tables().projects.Find(db, project_id);
  return {project_id, Subject(Tables().tranches, tranche),
          TrancheData(tranche, project.value_or(nlohmann::json{{"id", project_id}}))};
}

}  // namespace

http::Response PublishSnapshots(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  const events::SnapshotOptions options{"projects", t.events.source(), t.events.topic(), 200,
                                        std::string(request.Header("traceparent"))};
  // Keyed like the change events: by project, so a tranche's snapshot follows its changes.
  const std::vector<events::SnapshotSource> sources = {
      {"project", queries::SnapshotPage("projects"),
       [](store::Db&, const nlohmann::json& project) {
         return events::SnapshotItem{project["id"], Subject(Tables().projects, project),
                                     ProjectData(project)};
       }},
      {"tranche", queries::SnapshotPage("tranches"), DescribeTranche}};
  const auto counts = events::PublishSnapshots(store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

}  // namespace jilaf::projects
