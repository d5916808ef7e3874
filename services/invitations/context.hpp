#pragma once

#include <string>

#include "common/crypto/field_cipher.hpp"
#include "common/store/store.hpp"

namespace jilaf::invitations {

/// What the handlers of this service depend on.
struct Context {
  store::Store& store;
  const crypto::FieldCipher& cipher;
  /// The database file, for the WAL checkpoint that makes erased personal data leave the disk.
  std::string db_path;
};

}  // namespace jilaf::invitations
