#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes/{id}/nominations: accepted only while the programme is open; emits
/// jilaf.invitations.nomination.submitted.
http::Response CreateNomination(const http::Request& request, store::Store& store);
/// GET /v1/nominations/{id}, with its ETag.
http::Response GetNomination(const http::Request& request, store::Store& store);

}  // namespace jilaf::invitations
