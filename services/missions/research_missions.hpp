#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// POST /v1/missions: a research mission (countries, dates, objectives, delegation, meetings).
http::Response CreateMission(const http::Request& request, store::Store& store);
/// GET /v1/missions: filters status, fiscal_year, country; cursor pagination.
http::Response ListMissions(const http::Request& request, store::Store& store);
/// GET /v1/missions/{id}, with its ETag.
http::Response GetMission(const http::Request& request, store::Store& store);
/// POST /v1/missions/{id}/meetings: adds a meeting to the itinerary (If-Match).
http::Response AddMeeting(const http::Request& request, store::Store& store);
/// POST /v1/missions/{id}/transitions: moves the mission (If-Match); `reported` needs a
/// published report.
http::Response TransitionMission(const http::Request& request, store::Store& store);
/// PUT /v1/missions/{id}/report: writes the bilingual findings report while it is a draft.
http::Response PutReport(const http::Request& request, store::Store& store);
/// POST /v1/missions/{id}/report/transitions: draft → in_review → published (If-Match).
http::Response TransitionReport(const http::Request& request, store::Store& store);

/// A research mission's facts as its events (and its snapshot) carry them.
[[nodiscard]] nlohmann::json MissionFacts(const nlohmann::json& doc);
/// The data of `mission.created`.
[[nodiscard]] nlohmann::json MissionCreated(const nlohmann::json& doc);
/// The data of the event of a move from `from` to the stored status.
[[nodiscard]] nlohmann::json MissionMoved(const nlohmann::json& doc, const std::string& from);

}  // namespace jilaf::missions
