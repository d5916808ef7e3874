#include "services/invitations/snapshots.hpp"

#include "common/events/snapshot.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {

http::Response PublishSnapshots(const http::Request& request, Context& context) {
  const events::SnapshotOptions options{"invitations", Events().source(), Events().topic(), 200,
                                        std::string(request.Header("traceparent"))};
  // The same facts as the change events (no passport number, no date of birth).
  const std::vector<events::SnapshotSource> sources = {
      {"programme", SnapshotScan(Programmes()),
       [](store::Db&, const nlohmann::json& programme) {
         const std::string id = programme["id"];
         return events::SnapshotItem{id, "programmes/" + id,
                                     ProgrammeEventData(programme, std::nullopt)};
       }},
      {"nomination", SnapshotScan(Nominations()),
       [](store::Db& db, const nlohmann::json& nomination) {
         const std::string id = nomination["id"];
         const auto programme =
             Programmes().Get(db, nomination.at("programme_id").get<std::string>());
         return events::SnapshotItem{id, "nominations/" + id,
                                     NominationEventData(programme, nomination, std::nullopt)};
       }}};
  const auto counts = events::PublishSnapshots(context.store, options, sources);
  return http::Response::Json(202, events::SnapshotSummary(options, counts));
}

}  // namespace jilaf::invitations
