#include "services/invitations/routes.hpp"

#include "common/aggregate/sequences.hpp"
#include "common/http/problem.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

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

http::Response PublishSnapshots(const http::Request& request, Context& context) {
  // The same facts as the change events (no passport number, no date of birth).
  auto item = [](aggregate::EventFacts facts) {
    return events::SnapshotItem{facts.key, facts.subject, std::move(facts.data)};
  };
  return aggregate::Snapshots(
      context.store, request, Events(),
      {{Programmes(), "programme",
        [&](store::Db&, const nlohmann::json& programme) {
          return item(ProgrammeFacts(programme, "snapshot", std::nullopt));
        }},
       {Nominations(), "nomination", [&](store::Db& db, const nlohmann::json& nomination) {
          const std::string programme_id = nomination.at("programme_id");
          return item(
              NominationFacts(Programmes().Get(db, programme_id), nomination, std::nullopt));
        }}});
}

}  // namespace jilaf::invitations
