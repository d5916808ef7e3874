#pragma once

#include <string>

namespace jilaf::testing {

/// A freshly generated key pair in PEM form.
struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

/// RSA 2048 (for RS256).
KeyPair GenerateRsaKeyPair();
/// EC P-256 (for ES256).
KeyPair GenerateEcKeyPair();

/// Writes text to a file, creating or truncating it; throws on failure.
void WriteFile(const std::string& path, const std::string& text);

}  // namespace jilaf::testing
