#pragma once

#include <memory>
#include <string>

#include "common/config/flags.hpp"
#include "common/crypto/field_cipher.hpp"
#include "common/crypto/rekey.hpp"
#include "common/http/router.hpp"

namespace jilaf::service {

/// --field-key-file and --dev-mode of a service that encrypts fields at rest.
struct FieldKeySettings {
  std::string file;
  bool dev_mode = false;
  /// Registers both flags; `what` names what the key protects, for the help text.
  void Register(config::Flags& flags, const std::string& what);
};

/// The key ring `settings` names (a random one-key ring in dev mode without a file); prints the
/// problem and exits 2 when the file is missing, unreadable or malformed.
std::unique_ptr<crypto::FieldCipher> LoadFieldCipherOrExit(const std::string& service,
                                                           const FieldKeySettings& settings);

/// `GET /v1/admin/field-key` (the ring's ids, the sealing key, the rotation's progress and what
/// remains under older keys) and `POST /v1/admin/field-key/rekey` (starts or resumes the
/// rotation: 202, or 409 while one runs) on the admin port, admin role.
void AddFieldKeyRoutes(http::Router& router, crypto::FieldRekey& rekey);

}  // namespace jilaf::service
