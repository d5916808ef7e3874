// jilaf-invitations: the invitation programmes service (composition root).
#include "common/aggregate/search.hpp"
#include "common/crypto/rekey.hpp"
#include "common/service/field_keys.hpp"
#include "common/service/service.hpp"
#include "common/util/calendar.hpp"
#include "common/util/embedded.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/schema.hpp"
#include "services/invitations/tables.hpp"

JILAF_EMBEDDED(invitations_openapi)

int main(int argc, char** argv) {
  jilaf::service::FieldKeySettings field_keys;
  std::int64_t followup_scan_ms = 3600000;
  auto config = jilaf::service::LoadConfigOrExit(
      "invitations", "JILAF invitations service: programmes, nominations and their events.", 8081,
      9081, argc, argv, [&](jilaf::config::Flags& flags) {
        field_keys.Register(flags, "passport numbers and dates of birth");
        flags.Int("followup-scan-ms", &followup_scan_ms, 1000, 86400000,
                  "Period of the scan that emits followup.overdue events.");
      });
  const auto cipher = jilaf::service::LoadFieldCipherOrExit("invitations", field_keys);
  jilaf::service::Service service(std::move(config), {jilaf::invitations::Migrations(),
                                                      jilaf::crypto::FieldRekey::Migrations()});
  service.SetOpenApi(jilaf::embedded::invitations_openapi);
  jilaf::aggregate::IndexForSearch(service.store(), {&jilaf::invitations::Nominations()});
  (void)jilaf::invitations::FillMissingNameKeys(
      service.store(), [&cipher](const nlohmann::json& candidate) {
        return jilaf::invitations::MatchKeysOf(*cipher, candidate, std::nullopt).name_key;
      });
  jilaf::crypto::FieldRekey rekey(service.store(), *cipher,
                                  jilaf::invitations::RekeyTargets(*cipher));
  service.AddAdminRoutes(
      [&rekey](jilaf::http::Router& admin) { jilaf::service::AddFieldKeyRoutes(admin, rekey); });
  service.AddBackgroundTask([&rekey] { rekey.ResumeIfUnfinished(); }, [&rekey] { rekey.Stop(); });
  // The WAL checkpoint after an erasure is SQLite's (an empty path skips it).
  jilaf::invitations::Context context{
      service.store(), *cipher,
      service.config().store_engine == "sqlite" ? service.config().db_path : std::string()};
  service.scheduler().Every("followup-overdue-scan", std::chrono::milliseconds(followup_scan_ms),
                            [&context] {
                              const auto today = jilaf::util::BusinessToday();
                              context.store.Write([&](jilaf::store::Db& tx) {
                                return jilaf::invitations::ScanOverdueFollowUps(tx, today);
                              });
                            });
  return service.Run(jilaf::invitations::Routes(context));
}
