#pragma once

#include <string>

#include "common/store/store.hpp"
#include "services/invitations/field_cipher.hpp"

namespace jilaf::invitations {

/// What the handlers of this service depend on.
struct Context {
  store::Store& store;
  const FieldCipher& cipher;
  /// The database file, for the WAL checkpoint that makes erased personal data leave the disk.
  std::string db_path;
};

}  // namespace jilaf::invitations
