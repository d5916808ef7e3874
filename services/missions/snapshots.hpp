#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// POST /v1/admin/snapshots: a snapshot event for every mission, seminar, education programme and
/// alumnus through the outbox (registrations, participants and alumni engagements inside their
/// aggregate's snapshot); 202 with the counts.
http::Response PublishSnapshots(const http::Request& request, store::Store& store);

}  // namespace jilaf::missions
