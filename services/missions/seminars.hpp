#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// POST /v1/seminars: an international seminar (co-organised with ITUC-AP unless told
/// otherwise), venue, dates, agenda and capacity.
http::Response CreateSeminar(const http::Request& request, store::Store& store);
/// GET /v1/seminars: filters status, fiscal_year, country; cursor pagination.
http::Response ListSeminars(const http::Request& request, store::Store& store);
/// GET /v1/seminars/{id}, with its ETag.
http::Response GetSeminar(const http::Request& request, store::Store& store);
/// POST /v1/seminars/{id}/transitions (If-Match).
http::Response TransitionSeminar(const http::Request& request, store::Store& store);
/// POST /v1/seminars/{id}/registrations: registered while seats remain, else waitlisted; an
/// alumnus's registration is linked to their invitation history.
http::Response RegisterForSeminar(const http::Request& request, store::Store& store);
/// POST /v1/seminars/{id}/registrations/{registration_id}/cancel: frees the seat, which the
/// earliest waitlisted registration takes at once.
http::Response CancelSeminarRegistration(const http::Request& request, store::Store& store);

/// A seminar's facts as its events (and its snapshot) carry them.
[[nodiscard]] nlohmann::json SeminarFacts(const nlohmann::json& doc);
/// The data of `seminar.created`.
[[nodiscard]] nlohmann::json SeminarCreated(const nlohmann::json& doc);
/// The data of the event of a move from `from` to the stored status.
[[nodiscard]] nlohmann::json SeminarMoved(const nlohmann::json& doc, const std::string& from);

}  // namespace jilaf::missions
