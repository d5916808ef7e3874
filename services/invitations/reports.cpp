#include "services/invitations/reports.hpp"

#include "common/http/problem.hpp"
#include "services/invitations/domain.hpp"

namespace jilaf::invitations {

http::Response FiscalYearReport(const http::Request& request, Context& context) {
  const std::string& text = request.Param("fy");
  std::int64_t fiscal_year = 0;
  const bool digits = !text.empty() && text.size() <= 4 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) fiscal_year = std::stoll(text);
  if (!digits || fiscal_year < 1989 || fiscal_year > 2100) {
    throw http::ApiError::BadRequest("fiscal year must be an integer from 1989 to 2100");
  }
  return context.store.Read([&](store::Db& db) {
    std::vector<ReportRow> rows;
    auto stmt = db.Prepare(
        "SELECT n.programme_id, n.nationality, json_extract(p.doc, '$.region'), p.track,"
        " json_extract(n.doc, '$.candidate.gender'), n.status"
        " FROM nominations n JOIN programmes p ON p.id = n.programme_id"
        " WHERE n.fiscal_year = ?");
    stmt.Bind(1, fiscal_year);
    while (stmt.Step()) {
      rows.push_back({stmt.Text(0), stmt.Text(1), stmt.OptText(2), stmt.Text(3), stmt.OptText(4),
                      stmt.Text(5)});
    }
    return http::Response::Json(200, BuildFiscalYearReport(fiscal_year, rows));
  });
}

}  // namespace jilaf::invitations
