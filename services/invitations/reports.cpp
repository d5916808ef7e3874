#include "services/invitations/reports.hpp"

#include "common/http/problem.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"

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
    return http::Response::Json(
        200, BuildFiscalYearReport(fiscal_year, FiscalYearRows(db, fiscal_year)));
  });
}

}  // namespace jilaf::invitations
