#include "common/service/field_keys.hpp"

#include <cstdio>
#include <cstdlib>

#include "common/http/problem.hpp"
#include "common/log/log.hpp"

namespace jilaf::service {

void FieldKeySettings::Register(config::Flags& flags, const std::string& what) {
  flags.String("field-key-file", &file,
               "File with the key ring that encrypts " + what +
                   ": 64 hex digits (one key), or one <id>:<64 hex digits> per line, oldest "
                   "first, the last sealing (docs/operations.md, \"Field-key rotation\"). "
                   "Required unless --dev-mode.");
  flags.Bool("dev-mode", &dev_mode,
             "Development: without --field-key-file, use a random key for this run only.");
}

std::unique_ptr<crypto::FieldCipher> LoadFieldCipherOrExit(const std::string& service,
                                                           const FieldKeySettings& settings) {
  try {
    if (!settings.file.empty()) {
      return std::make_unique<crypto::FieldCipher>(crypto::FieldCipher::ReadKeyFile(settings.file));
    }
    if (settings.dev_mode) {
      log::Warn(
          "--dev-mode without --field-key-file: encrypted fields use a random key and "
          "cannot be read after a restart");
      return std::make_unique<crypto::FieldCipher>(crypto::FieldCipher::RandomKey());
    }
    std::fprintf(stderr,
                 "jilaf-%s: --field-key-file (JILAF_FIELD_KEY_FILE) is required: fields are "
                 "encrypted at rest (or --dev-mode)\n",
                 service.c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "jilaf-%s: %s\n", service.c_str(), error.what());
  }
  std::exit(2);
}

void AddFieldKeyRoutes(http::Router& router, crypto::FieldRekey& rekey) {
  router.Add(http::Method::kGet, "/v1/admin/field-key", auth::Access::kAdmin,
             [&rekey](http::Request&) { return http::Response::Json(200, rekey.Status()); });
  router.Add(http::Method::kPost, "/v1/admin/field-key/rekey", auth::Access::kAdmin,
             [&rekey](http::Request& request) {
               if (!rekey.Start()) {
                 throw http::ApiError::Conflict("a field-key rotation is already running");
               }
               log::Info("field-key rotation started", {{"sub", request.principal.subject}});
               auto response = http::Response::Json(202, rekey.Status());
               response.SetHeader("Location", "/v1/admin/field-key");
               return response;
             });
}

}  // namespace jilaf::service
