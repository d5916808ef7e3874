// jilaf-invitations: the invitation programmes service (composition root).
#include <cstdio>
#include <cstdlib>

#include "common/aggregate/search.hpp"
#include "common/log/log.hpp"
#include "common/service/service.hpp"
#include "common/util/calendar.hpp"
#include "common/util/embedded.hpp"
#include "common/util/text.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/field_cipher.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/schema.hpp"
#include "services/invitations/tables.hpp"

JILAF_EMBEDDED(invitations_openapi)

int main(int argc, char** argv) {
  std::string field_key_file;
  bool dev_mode = false;
  std::int64_t followup_scan_ms = 3600000;
  auto config = jilaf::service::LoadConfigOrExit(
      "invitations", "JILAF invitations service: programmes, nominations and their events.", 8081,
      9081, argc, argv, [&](jilaf::config::Flags& flags) {
        flags.String("field-key-file", &field_key_file,
                     "File with the 32-byte key (64 hex digits) that encrypts passport numbers "
                     "and dates of birth. Required unless --dev-mode.");
        flags.Bool("dev-mode", &dev_mode,
                   "Development: without --field-key-file, use a random key for this run only.");
        flags.Int("followup-scan-ms", &followup_scan_ms, 1000, 86400000,
                  "Period of the scan that emits followup.overdue events.");
      });
  std::array<unsigned char, jilaf::invitations::FieldCipher::kKeyBytes> key{};
  try {
    if (!field_key_file.empty()) {
      key = jilaf::invitations::FieldCipher::ReadKeyFile(field_key_file);
    } else if (dev_mode) {
      key = jilaf::invitations::FieldCipher::RandomKey();
      jilaf::log::Warn(
          "--dev-mode without --field-key-file: personal data is encrypted with a "
          "random key and cannot be read after a restart");
    } else {
      std::fprintf(stderr,
                   "jilaf-invitations: --field-key-file (JILAF_FIELD_KEY_FILE) is required: "
                   "passport numbers and dates of birth are encrypted at rest (or --dev-mode)\n");
      return 2;
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "jilaf-invitations: %s\n", error.what());
    return 2;
  }
  const jilaf::invitations::FieldCipher cipher(key);
  jilaf::service::Service service(std::move(config), {jilaf::invitations::Migrations()});
  service.SetOpenApi(jilaf::embedded::invitations_openapi);
  jilaf::aggregate::IndexForSearch(service.store(), {&jilaf::invitations::Nominations()});
  (void)jilaf::invitations::FillMissingNameKeys(
      service.store(), [&cipher](const nlohmann::json& candidate) {
        return jilaf::invitations::MatchKeysOf(cipher, candidate, std::nullopt).name_key;
      });
  // The WAL checkpoint after an erasure is SQLite's (an empty path skips it).
  jilaf::invitations::Context context{
      service.store(), cipher,
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
