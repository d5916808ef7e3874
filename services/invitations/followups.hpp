#pragma once

#include <cstdint>
#include <string>

#include "common/http/message.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// GET /v1/nominations/{id}/followups: the 3-, 6- and 12-month follow-ups of a completed
/// participant.
http::Response ListFollowUps(const http::Request& request, Context& context);
/// POST /v1/followups/{id}/report {"summary", "activities"}: submits the report (409 if already
/// submitted); emits jilaf.invitations.followup.submitted.
http::Response SubmitFollowUpReport(const http::Request& request, Context& context);
/// POST /v1/admin/followup-scans {"as_of": "YYYY-MM-DD"} (admin): runs the overdue scan as of
/// a date, for operators and deterministic tests.
http::Response RunFollowUpScan(const http::Request& request, Context& context);

/// Marks every follow-up due before `today` (YYYY-MM-DD) and not yet reported as overdue and
/// emits one jilaf.invitations.followup.overdue per follow-up, once ever. Returns how many.
std::int64_t ScanOverdueFollowUps(store::Db& tx, const std::string& today);

/// Today's UTC date, YYYY-MM-DD.
std::string TodayUtc();

}  // namespace jilaf::invitations
