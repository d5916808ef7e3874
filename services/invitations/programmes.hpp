#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes: creates a programme (status draft, or open if asked) and emits
/// jilaf.invitations.programme.created.
http::Response CreateProgramme(const http::Request& request, Context& context);
/// GET /v1/programmes: filters fiscal_year, track, status; cursor pagination.
http::Response ListProgrammes(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}, with its ETag.
http::Response GetProgramme(const http::Request& request, Context& context);
/// PATCH /v1/programmes/{id} with If-Match: title, region, theme, dates, seats, quotas, hosts;
/// never below the seats already taken (409); emits jilaf.invitations.programme.updated.
http::Response UpdateProgramme(const http::Request& request, Context& context);
/// POST /v1/programmes/{id}/transitions {"to", "reason"} with If-Match; emits
/// jilaf.invitations.programme.<to>.
http::Response TransitionProgramme(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
