#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/auth/principal.hpp"

namespace jilaf::auth {

/// Outcome of checking a bearer token. On failure `error` says why (for the log and the 401).
struct VerifyResult {
  bool ok = false;
  Principal principal;
  std::string error;
};

/// Verifies RS256/ES256 JWTs against one public key: signature, `alg` matching the key type,
/// `iss`, `aud`, `exp` and `nbf`. Every other algorithm, `none` and HS* included, is refused, as
/// are tokens longer than kMaxTokenBytes, headers with `crit`, and a `kid` other than key_id().
class JwtVerifier {
 public:
  /// Longest token accepted: a real one is well under 2 KiB; bigger ones only cost parsing.
  static constexpr std::size_t kMaxTokenBytes = 8192;

  /// Loads a PEM public key (RSA, or EC P-256). Throws std::runtime_error naming the file.
  static JwtVerifier FromPemFile(const std::string& path, std::string issuer, std::string audience);
  static JwtVerifier FromPem(std::string_view pem, std::string issuer, std::string audience);

  JwtVerifier(JwtVerifier&&) noexcept;
  JwtVerifier& operator=(JwtVerifier&&) noexcept;
  ~JwtVerifier();

  [[nodiscard]] VerifyResult Verify(
      std::string_view token,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  /// The key's RFC 7638 JWK thumbprint (base64url SHA-256): the only `kid` a token may name.
  [[nodiscard]] const std::string& key_id() const;

 private:
  struct Key;
  JwtVerifier(std::unique_ptr<Key> key, std::string issuer, std::string audience);
  std::unique_ptr<Key> key_;
  std::string issuer_;
  std::string audience_;
};

/// Signs `claims` with a PEM private key (RS256 for RSA, ES256 for EC P-256). Used by the
/// development token tool and by tests. Throws std::runtime_error on a bad key.
std::string SignJwt(std::string_view private_key_pem, const nlohmann::json& claims);

/// base64url without padding.
std::string Base64UrlEncode(std::string_view data);
/// Decodes base64url without padding; false on any character outside the alphabet.
[[nodiscard]] bool Base64UrlDecode(std::string_view text, std::string& out);

}  // namespace jilaf::auth
