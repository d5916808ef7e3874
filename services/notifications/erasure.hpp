#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/store/store.hpp"

namespace jilaf::notifications {

/// Notes that an event about `person_id` was applied with their personal data, so erasure finds
/// the deliveries and inbox items it made.
void RecordPersonEvent(store::Db& tx, const std::string& person_id, const std::string& event_id);

/// On the person's tombstone: deletes the deliveries and inbox items of events about them, and
/// everything held under their e-mail address (deliveries, preferences, newsletter
/// subscription, stored idempotent replies naming it). `record` is their last record, or null.
void ErasePerson(store::Db& tx, const std::string& person_id, const nlohmann::json& record);

}  // namespace jilaf::notifications
