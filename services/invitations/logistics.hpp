#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// POST /v1/programmes/{id}/itinerary: one visit (starts_at, ends_at, organisation, city, topic,
/// interpreter_needed); emits jilaf.invitations.itinerary_item.created.
http::Response CreateItineraryItem(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}/itinerary: the programme's visits in time order.
http::Response ListItinerary(const http::Request& request, Context& context);
/// PUT /v1/nominations/{id}/logistics: arrival and departure flights, hotel and dates of one
/// participant holding a seat; If-Match once it exists; emits
/// jilaf.invitations.nomination.logistics_updated.
http::Response PutLogistics(const http::Request& request, Context& context);
/// GET /v1/nominations/{id}/logistics (staff and admin: travel details are personal).
http::Response GetLogistics(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
