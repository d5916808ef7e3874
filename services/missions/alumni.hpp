#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/events/consumer.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"
#include "services/missions/queries.hpp"

namespace jilaf::missions {

/// The alumni projection: applies one jilaf.invitations.events event. A
/// `jilaf.invitations.nomination.completed` event adds the participant to the directory (once
/// per nomination, so a replay changes nothing); other types are ignored. Throws
/// std::invalid_argument when a completed event lacks what the directory needs, so the consumer
/// retries and then dead-letters it.
void ApplyInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                          const events::MessageOrigin& origin);

/// GET /v1/alumni: filters country, fiscal_year, programme_id; cursor pagination.
http::Response ListAlumni(const http::Request& request, store::Store& store);
/// GET /v1/alumni/{id}: the alumnus with their history (invitations and registrations).
http::Response GetAlumnus(const http::Request& request, store::Store& store);
/// POST /v1/alumni/invitations: invites every alumnus matching a filter (or listed by id) to a
/// seminar or an education programme, in one call; emits jilaf.missions.alumnus.invited each.
http::Response InviteAlumni(const http::Request& request, store::Store& store);

}  // namespace jilaf::missions
