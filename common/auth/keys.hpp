#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace jilaf::auth {

/// The signature algorithm a key verifies: RS256 for RSA keys, ES256 for EC P-256 keys. No other
/// kind of key is ever built.
enum class KeyKind { kRsa, kEcP256 };

/// A public key that verifies token signatures (an OpenSSL EVP_PKEY inside).
class VerificationKey {
 public:
  /// A PEM public key (RSA or EC P-256). Throws std::runtime_error naming what is wrong.
  static std::shared_ptr<const VerificationKey> FromPem(std::string_view pem);
  /// One JWK (RFC 7517) with kty RSA (n, e; at least 2048 bits) or EC (crv P-256, x, y). Throws
  /// std::runtime_error saying why the key is not usable (type, curve, size, encoding).
  static std::shared_ptr<const VerificationKey> FromJwk(const nlohmann::json& jwk);

  ~VerificationKey();
  VerificationKey(const VerificationKey&) = delete;
  VerificationKey& operator=(const VerificationKey&) = delete;

  [[nodiscard]] KeyKind kind() const { return kind_; }
  /// "RS256" or "ES256".
  [[nodiscard]] const char* algorithm() const;
  /// The RFC 7638 JWK thumbprint (base64url SHA-256).
  [[nodiscard]] const std::string& thumbprint() const { return thumbprint_; }
  /// The public key as a JWK (kty, n/e or crv/x/y, alg, use "sig") with `kid` (the thumbprint
  /// when empty): what a JWKS publishes.
  [[nodiscard]] nlohmann::json ToJwk(const std::string& kid = {}) const;
  /// Checks a JWS signature (raw R||S for ES256) over `signing_input`.
  [[nodiscard]] bool VerifySignature(std::string_view signing_input,
                                     std::string_view signature) const;

 private:
  struct Pkey;
  VerificationKey(std::unique_ptr<Pkey> pkey, KeyKind kind);
  std::unique_ptr<Pkey> pkey_;
  KeyKind kind_;
  std::string thumbprint_;
};

using KeyPtr = std::shared_ptr<const VerificationKey>;

/// The keys of one JWKS document, by `kid`, and the reason each refused key was refused.
struct KeySet {
  std::map<std::string, KeyPtr, std::less<>> keys;
  std::map<std::string, std::string, std::less<>> refused;  // kid -> why
};

/// Parses a JWKS document (RFC 7517 §5). Signing keys of the two supported kinds are kept;
/// encryption keys, other types, curves and algorithms go to `refused` with their reason.
/// Throws std::runtime_error when the document itself is not a JWKS.
KeySet ParseJwks(std::string_view text);

/// True for a `kid` that is a short plain identifier (letters, digits, '-', '_', '.').
[[nodiscard]] bool IsSafeKeyId(std::string_view kid);

}  // namespace jilaf::auth
