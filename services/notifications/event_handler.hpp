#pragma once

#include <memory>
#include <mutex>

#include "common/events/cloud_event.hpp"
#include "common/events/consumer.hpp"
#include "common/events/people.hpp"
#include "common/store/store.hpp"
#include "services/notifications/catalogue.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/erasure.hpp"
#include "services/notifications/feed.hpp"

namespace jilaf::notifications {

/// The consumer's handler, inside the inbox transaction that records the event as consumed: a
/// public event becomes a website feed item, and every enabled rule the event matches plans its
/// deliveries (inbox items written at once, email and webhook left to the Dispatcher). A replayed
/// event changes nothing: feed items and deliveries are unique per event.
class EventHandler {
 public:
  explicit EventHandler(DeliveryMetrics& metrics)
      : metrics_(metrics), catalogue_(std::make_shared<Catalogue>()) {}

  void operator()(store::Db& tx, const events::CloudEvent& event,
                  const events::MessageOrigin& origin) const {
    RecordFeedItem(tx, event);  // the public feed: the event as published, no personal data
    // Rules, recipient pointers and templates see the person's names and addresses, joined
    // from the copy of the people topic (waiting for it when the event is fresh).
    const auto person = events::PersonOfEvent(tx, event);
    if (!person) return Plan(tx, event, origin);
    auto joined = event;
    joined.data = events::WithPersonalData(event.data, *person);
    RecordPersonEvent(tx, event.data.at("person_id").get<std::string>(), event.id);
    Plan(tx, joined, origin);
  }

 private:
  void Plan(store::Db& tx, const events::CloudEvent& event,
            const events::MessageOrigin& origin) const {
    const std::lock_guard lock(catalogue_->mutex());
    PlanDeliveries(tx, event, origin, metrics_, *catalogue_);
  }

  DeliveryMetrics& metrics_;
  // Shared by the copies the consumer makes of its handler: rules and templates compiled once.
  std::shared_ptr<Catalogue> catalogue_;
};

}  // namespace jilaf::notifications
