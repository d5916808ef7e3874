#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// POST /v1/education-programmes: a programme in Japan or abroad, with courses and dated
/// sessions and the attendance threshold for completion.
http::Response CreateEducationProgramme(const http::Request& request, store::Store& store);
/// GET /v1/education-programmes: filters status, fiscal_year, country; cursor pagination.
http::Response ListEducationProgrammes(const http::Request& request, store::Store& store);
/// GET /v1/education-programmes/{id}, with its ETag.
http::Response GetEducationProgramme(const http::Request& request, store::Store& store);
/// POST /v1/education-programmes/{id}/participants: enrols a participant (linked to the alumni
/// directory when the person is an alumnus).
http::Response EnrolParticipant(const http::Request& request, store::Store& store);
/// PUT /v1/education-programmes/{id}/sessions/{session_id}/attendance: who was present (If-Match).
http::Response RecordAttendance(const http::Request& request, store::Store& store);
/// POST /v1/education-programmes/{id}/transitions: moving to `completed` completes every
/// participant whose attendance meets the threshold and issues their certificates.
http::Response TransitionEducationProgramme(const http::Request& request, store::Store& store);
/// GET /v1/certificates/{code}: public verification; only name, programme and date.
http::Response VerifyCertificate(const http::Request& request, store::Store& store);

/// An education programme's facts as its events (and its snapshot) carry them.
[[nodiscard]] nlohmann::json ProgrammeFacts(const nlohmann::json& doc);
/// The data of `programme.created`.
[[nodiscard]] nlohmann::json ProgrammeCreated(const nlohmann::json& doc);
/// The data of the event of a move from `from` to the stored status.
[[nodiscard]] nlohmann::json ProgrammeMoved(const nlohmann::json& doc, const std::string& from);

}  // namespace jilaf::missions
