#pragma once

#include "common/http/message.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// GET /v1/reports/fiscal-years/{fy}: missions by country, seminars and courses held,
/// participants, completions and certificates, and alumni participation in that fiscal year.
http::Response FiscalYearReport(const http::Request& request, store::Store& store);

}  // namespace jilaf::missions
