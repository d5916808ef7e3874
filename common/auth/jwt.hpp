#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/key_source.hpp"
#include "common/auth/principal.hpp"

namespace jilaf::auth {

/// Outcome of checking a bearer token. On failure `error` says why (for the log and the 401).
struct VerifyResult {
  bool ok = false;
  Principal principal;
  std::string error;
};

/// What an issuer's tokens must say, and how their claims become a Principal.
struct ClaimPolicy {
  /// Required in `aud` (a string or an array).
  std::string audience;
  /// Claims holding role names, as dotted paths into the payload (`roles`,
  /// `realm_access.roles`, `resource_access.jilaf-backoffice.roles`, `groups`). A claim may be
  /// a string or an array of strings; missing ones are skipped.
  std::vector<std::string> role_claims = {"roles"};
  /// Claim value -> role. Empty: the values "viewer", "staff", "admin" and "service" name
  /// themselves. Not empty: only the values listed count.
  std::map<std::string, Role, std::less<>> role_map;
  /// The claim that names the caller (`sub`, `preferred_username`, `oid`).
  std::string user_id_claim = "sub";
  /// Refuse a token without that claim (the development tokens may omit `sub`).
  bool require_user_id = false;
  /// Longest accepted span from `iat` to `exp` (0: no limit, and `iat` is not required).
  std::chrono::seconds max_lifetime{0};
};

/// Parses "claim=role,claim=role" (roles: viewer, staff, admin, service). Empty text, empty
/// map. Returns an error message naming the bad entry, or an empty string.
std::string ParseRoleMap(std::string_view text, std::map<std::string, Role, std::less<>>& out);

/// Verifies RS256/ES256 JWTs from one or more issuers, each with its own keys (a static PEM key,
/// or a JWKS kept fresh in the background) and its own ClaimPolicy: signature by the key the
/// `kid` names, `alg` matching that key, `iss`, `aud`, `exp`, `nbf`, the token's lifetime, and a
/// known role. Every other algorithm, `none` and HS* included, is refused, as are tokens longer
/// than kMaxTokenBytes and headers with `crit`. Verify never waits for the network.
class JwtVerifier {
 public:
  /// Longest token accepted: a real one is well under 2 KiB; bigger ones only cost parsing.
  static constexpr std::size_t kMaxTokenBytes = 8192;

  /// One issuer with one PEM public key (RSA, or EC P-256), roles from `roles`, user id from
  /// `sub`: the development setup. Throws std::runtime_error naming the file.
  static JwtVerifier FromPemFile(const std::string& path, std::string issuer, std::string audience);
  static JwtVerifier FromPem(std::string_view pem, std::string issuer, std::string audience);

  /// A verifier that accepts nothing until AddIssuer.
  JwtVerifier();
  JwtVerifier(JwtVerifier&&) noexcept;
  JwtVerifier& operator=(JwtVerifier&&) noexcept;
  ~JwtVerifier();

  /// Trusts tokens whose `iss` is exactly `issuer`, signed by a key of `keys`. Throws
  /// std::invalid_argument if that issuer is already configured.
  void AddIssuer(std::string issuer, ClaimPolicy policy, std::shared_ptr<const KeySource> keys);

  [[nodiscard]] VerifyResult Verify(
      std::string_view token,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  /// The first issuer's static key's RFC 7638 thumbprint: the `kid` its tokens may name (empty
  /// when that issuer has no single key).
  [[nodiscard]] std::string key_id() const;

  /// The worst state of any issuer's keys (/readyz `identity`).
  [[nodiscard]] KeyState IdentityState() const;
  /// Per issuer: its state and what its key source says (/readyz).
  [[nodiscard]] nlohmann::json DescribeIssuers() const;

 private:
  struct Issuer {
    std::string name;
    ClaimPolicy policy;
    std::shared_ptr<const KeySource> keys;
  };
  std::vector<Issuer> issuers_;
};

/// Signs `claims` with a PEM private key (RS256 for RSA, ES256 for EC P-256). Used by the
/// development token tool and by tests; `kid`, when given, goes into the header. Throws
/// std::runtime_error on a bad key.
std::string SignJwt(std::string_view private_key_pem, const nlohmann::json& claims,
                    std::string_view kid = {});

/// base64url without padding.
std::string Base64UrlEncode(std::string_view data);
/// Decodes base64url without padding; false on any character outside the alphabet.
[[nodiscard]] bool Base64UrlDecode(std::string_view text, std::string& out);

}  // namespace jilaf::auth
