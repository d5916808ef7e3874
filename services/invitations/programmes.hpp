#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes: creates a programme (status draft, or open if asked) and emits
/// jilaf.invitations.programme.created.
http::Response CreateProgramme(const http::Request& request, store::Store& store);
/// GET /v1/programmes: filters fiscal_year, track, status; cursor pagination.
http::Response ListProgrammes(const http::Request& request, store::Store& store);
/// GET /v1/programmes/{id}, with its ETag.
http::Response GetProgramme(const http::Request& request, store::Store& store);

}  // namespace jilaf::invitations
