#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// GET /v1/reports/fiscal-years/{fy}: nominated, selected, completed, by country, region, track,
/// gender and programme, with completion rates.
http::Response FiscalYearReport(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
