#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes/{id}/nominations: accepted only while the programme is open; rejects the
/// same person in the same fiscal year (409), flags one from an earlier year; encrypts the
/// passport number and birth date; emits jilaf.invitations.nomination.submitted.
http::Response CreateNomination(const http::Request& request, Context& context);
/// GET /v1/nominations/{id}, with its ETag, as the caller's role may see it.
http::Response GetNomination(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}/nominations: filters status, nationality; cursor pagination.
http::Response ListNominations(const http::Request& request, Context& context);
/// POST /v1/nominations/{id}/transitions {"to", "reason"}: If-Match; the rules of
/// TransitionNomination; answers the nomination and the ids promoted from the waitlist.
http::Response TransitionNominationHandler(const http::Request& request, Context& context);
/// DELETE /v1/nominations/{id} (admin): erases the nomination and its personal data from the
/// database file (secure_delete, then a WAL checkpoint); 409 while it holds a seat.
http::Response DeleteNomination(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
