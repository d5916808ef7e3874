#include "services/invitations/snapshots.hpp"

#include "common/events/snapshot.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/records.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {

http::Response PublishSnapshots(const http::Request& request, Context& context) {
  const events::SnapshotOptions options{"invitations", kEventSource, kEventsTopic, 200,
                                        std::string(request.Header("traceparent"))};
  // The same facts as the change events (no passport number, no date of birth).
  const std::vector<events::SnapshotSource> sources = {
      {"programme", "SELECT seq, doc FROM programmes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
       [](store::Db&, const nlohmann::json& programme) {
         const std::string id = programme["id"];
         return events::SnapshotItem{id, "programmes/" + id,
                                     ProgrammeEventData(programme, std::nullopt)};
       }},
      {"nomination", "SELECT seq, doc FROM nominations WHERE seq > ?1 ORDER BY seq LIMIT ?2",
       [](store::Db& db, const nlohmann::json& nomination) {
         const std::string id = nomination["id"];
         const auto programme = LoadProgramme(db, nomination["programme_id"]);
         return events::SnapshotItem{id, "nominations/" + id,
                                     NominationEventData(programme, nomination, std::nullopt)};
       }}};
  const auto counts = events::PublishSnapshots(context.store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

}  // namespace jilaf::invitations
