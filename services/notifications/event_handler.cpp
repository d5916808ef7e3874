#include "services/notifications/event_handler.hpp"

#include "services/notifications/feed.hpp"

namespace jilaf::notifications {

void EventHandler::operator()(store::Db& tx, const events::CloudEvent& event,
                              const events::MessageOrigin& origin) const {
  RecordFeedItem(tx, event);
  PlanDeliveries(tx, event, origin, metrics_);
}

}  // namespace jilaf::notifications
