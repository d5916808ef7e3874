#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
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

/// The issuer and audience the tests' token verifiers are configured with.
inline constexpr const char* kIssuer = "jilaf-test";
inline constexpr const char* kAudience = "jilaf-backoffice";

/// Seconds since the Unix epoch, for `exp`, `nbf` and `iat` claims.
std::int64_t Now();

/// The claims of a valid staff token: kIssuer, kAudience, sub officer-1, expiring in 10 minutes.
nlohmann::json StaffClaims();

/// Writes text to a file, creating or truncating it; throws on failure.
void WriteFile(const std::string& path, const std::string& text);

}  // namespace jilaf::testing
