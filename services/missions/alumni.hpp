#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/events/consumer.hpp"
#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// The alumni projection: applies one jilaf.invitations.events event. A
/// `jilaf.invitations.nomination.completed` event adds the participant to the directory (once
/// per nomination, so a replay changes nothing); other types are ignored. Throws
/// std::invalid_argument when a completed event lacks what the directory needs, so the consumer
/// retries and then dead-letters it.
void ApplyInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                          const events::MessageOrigin& origin);

/// The alumnus a registration belongs to: by nomination id if given, else by email
/// (case-insensitive). nullopt when the person is not an alumnus.
std::optional<std::string> FindAlumnus(store::Db& db, const std::string& email,
                                       const std::optional<std::string>& nomination_id);
/// Records in the alumnus's history that they registered for `target` (a seminar or an
/// education programme), completing an invitation if one was sent.
void LinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, int fiscal_year,
                      const std::string& registration_id);

/// Undoes LinkRegistration when the registration is cancelled (an invitation stays recorded).
void UnlinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                        const std::string& target_id);

/// GET /v1/alumni: filters country, fiscal_year, programme_id; cursor pagination.
http::Response ListAlumni(const http::Request& request, store::Store& store);
/// GET /v1/alumni/{id}: the alumnus with their history (invitations and registrations).
http::Response GetAlumnus(const http::Request& request, store::Store& store);
/// POST /v1/alumni/invitations: invites every alumnus matching a filter (or listed by id) to a
/// seminar or an education programme, in one call; emits jilaf.missions.alumnus.invited each.
http::Response InviteAlumni(const http::Request& request, store::Store& store);

}  // namespace jilaf::missions
