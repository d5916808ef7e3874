#include "common/auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace jilaf::auth {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Allowed clock skew between the token issuer and this service.
constexpr std::chrono::seconds kLeeway{5};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DerEcdsaToRaw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) throw std::runtime_error("cannot decode ECDSA signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

// A time claim in seconds. Values beyond ±2^53 (or not finite) are refused rather than cast: a
// double outside int64's range would be undefined behaviour, an unsigned one would wrap.
bool NumericClaim(const nlohmann::json& claims, const char* name, std::int64_t& out) {
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return false;
  if (it->is_number_float()) {
    const double value = it->get<double>();
    if (!std::isfinite(value) || std::fabs(value) > kLimit) return false;
    out = static_cast<std::int64_t>(value);
  } else if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(kLimit)) return false;
    out = static_cast<std::int64_t>(value);
  } else {
    out = it->get<std::int64_t>();
    if (out > static_cast<std::int64_t>(kLimit) || out < -static_cast<std::int64_t>(kLimit)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  std::size_t i = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    const unsigned v = bytes[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '-') {
      value = 62;
    } else if (c == '_') {
      value = 63;
    } else {
      return false;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return true;
}

namespace {

// The value at a dotted path ("realm_access.roles"), or null.
const nlohmann::json* ClaimAt(const nlohmann::json& claims, std::string_view path) {
  const nlohmann::json* node = &claims;
  while (true) {
    const auto dot = path.find('.');
    const auto name = path.substr(0, dot);
    if (!node->is_object()) return nullptr;
    const auto it = node->find(name);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    path.remove_prefix(dot + 1);
  }
}

void AddRole(const ClaimPolicy& policy, const std::string& value, std::vector<Role>& roles) {
  Role role;
  if (policy.role_map.empty()) {
    if (!ParseRole(value, role)) return;
  } else {
    const auto it = policy.role_map.find(value);
    if (it == policy.role_map.end()) return;
    role = it->second;
  }
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
}

std::vector<Role> MapRoles(const ClaimPolicy& policy, const nlohmann::json& claims) {
  std::vector<Role> roles;
  for (const auto& path : policy.role_claims) {
    const auto* claim = ClaimAt(claims, path);
    if (claim == nullptr) continue;
    if (claim->is_string()) AddRole(policy, claim->get<std::string>(), roles);
    if (!claim->is_array()) continue;
    for (const auto& item : *claim) {
      if (item.is_string()) AddRole(policy, item.get<std::string>(), roles);
    }
  }
  return roles;
}

bool HasAudience(const nlohmann::json& claims, const std::string& audience) {
  const auto aud = claims.find("aud");
  if (aud == claims.end()) return false;
  if (aud->is_string()) return *aud == audience;
  if (!aud->is_array()) return false;
  return std::any_of(aud->begin(), aud->end(), [&](const auto& item) { return item == audience; });
}

}  // namespace

std::string ParseRoleMap(std::string_view text, std::map<std::string, Role, std::less<>>& out) {
  out.clear();
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    const auto equals = entry.rfind('=');
    Role role;
    if (equals == std::string_view::npos || equals == 0 ||
        !ParseRole(entry.substr(equals + 1), role)) {
      return "'" + std::string(entry) +
             "' is not claim-value=role (role: viewer, staff, admin or service)";
    }
    out.insert_or_assign(std::string(entry.substr(0, equals)), role);
  }
  return {};
}

JwtVerifier::JwtVerifier() = default;
JwtVerifier::JwtVerifier(JwtVerifier&&) noexcept = default;
JwtVerifier& JwtVerifier::operator=(JwtVerifier&&) noexcept = default;
JwtVerifier::~JwtVerifier() = default;

JwtVerifier JwtVerifier::FromPem(std::string_view pem, std::string issuer, std::string audience) {
  JwtVerifier verifier;
  ClaimPolicy policy;
  policy.audience = std::move(audience);
  verifier.AddIssuer(std::move(issuer), std::move(policy),
                     std::make_shared<StaticKeySource>(VerificationKey::FromPem(pem)));
  return verifier;
}

JwtVerifier JwtVerifier::FromPemFile(const std::string& path, std::string issuer,
                                     std::string audience) {
  try {
    return FromPem(ReadFile(path), std::move(issuer), std::move(audience));
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
}

void JwtVerifier::AddIssuer(std::string issuer, ClaimPolicy policy,
                            std::shared_ptr<const KeySource> keys) {
  for (const auto& existing : issuers_) {
    if (existing.name == issuer)
      throw std::invalid_argument("issuer " + issuer + " is listed twice");
  }
  issuers_.push_back(Issuer{std::move(issuer), std::move(policy), std::move(keys)});
}

std::string JwtVerifier::key_id() const {
  if (issuers_.empty()) return {};
  const auto found = issuers_.front().keys->Find({});
  return found.key ? found.key->thumbprint() : std::string();
}

KeyState JwtVerifier::IdentityState() const {
  KeyState worst = KeyState::kOk;
  for (const auto& issuer : issuers_) {
    const auto state = issuer.keys->State();
    if (static_cast<int>(state) > static_cast<int>(worst)) worst = state;
  }
  return worst;
}

nlohmann::json JwtVerifier::DescribeIssuers() const {
  auto list = nlohmann::json::array();
  for (const auto& issuer : issuers_) {
    auto item = issuer.keys->Describe();
    item["issuer"] = issuer.name;
    item["state"] = KeyStateName(issuer.keys->State());
    list.push_back(std::move(item));
  }
  return list;
}

VerifyResult JwtVerifier::Verify(std::string_view token,
                                 std::chrono::system_clock::time_point now) const {
  VerifyResult result;
  if (token.size() > kMaxTokenBytes) {
    result.error = "token longer than " + std::to_string(kMaxTokenBytes) + " bytes";
    return result;
  }
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    result.error = "token is not a compact JWS (header.payload.signature)";
    return result;
  }
  std::string header_text, payload_text, signature;
  if (!Base64UrlDecode(token.substr(0, dot1), header_text) ||
      !Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload_text) ||
      !Base64UrlDecode(token.substr(dot2 + 1), signature)) {
    result.error = "token is not valid base64url";
    return result;
  }
  const auto header = nlohmann::json::parse(header_text, nullptr, false);
  if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string()) {
    result.error = "token header has no alg";
    return result;
  }
  // RFC 7515 §4.1.11: a recipient must refuse critical extensions it does not understand.
  if (header.contains("crit")) {
    result.error = "token header has crit extensions";
    return result;
  }
  std::string kid;
  if (const auto it = header.find("kid"); it != header.end()) {
    if (!it->is_string() || !IsSafeKeyId(it->get_ref<const std::string&>())) {
      result.error = "token kid is not a plain key identifier";
      return result;
    }
    kid = it->get<std::string>();
  }
  const auto alg = header["alg"].get<std::string>();
  if (alg != "RS256" && alg != "ES256") {
    result.error = "token algorithm " + alg + " is not accepted (only RS256 and ES256)";
    return result;
  }
  // The issuer picks the key source. It is read before the signature is checked, but only to
  // choose whose keys to try: nothing else of the payload is trusted until the signature holds.
  const auto claims = nlohmann::json::parse(payload_text, nullptr, false);
  if (!claims.is_object()) {
    result.error = "token payload is not a JSON object";
    return result;
  }
  const auto iss = claims.find("iss");
  const Issuer* issuer = nullptr;
  for (const auto& candidate : issuers_) {
    if (iss != claims.end() && *iss == candidate.name) issuer = &candidate;
  }
  if (issuer == nullptr) {
    std::string expected;
    for (const auto& candidate : issuers_)
      expected += (expected.empty() ? "" : ", ") + candidate.name;
    result.error = "token issuer " + (iss == claims.end() ? std::string("(none)") : iss->dump()) +
                   " is not " + expected;
    return result;
  }
  const auto found = issuer->keys->Find(kid);
  if (!found.key) {
    result.error = found.error;
    return result;
  }
  if (alg != found.key->algorithm()) {
    result.error =
        "token algorithm " + alg + " is not accepted (expected " + found.key->algorithm() + ")";
    return result;
  }
  if (!found.key->VerifySignature(token.substr(0, dot2), signature)) {
    result.error = "token signature does not verify";
    return result;
  }
  const ClaimPolicy& policy = issuer->policy;
  if (!HasAudience(claims, policy.audience)) {
    result.error = "token audience does not include " + policy.audience;
    return result;
  }
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::int64_t exp = 0;
  if (!NumericClaim(claims, "exp", exp)) {
    result.error = "token has no usable exp";
    return result;
  }
  if (exp + kLeeway.count() <= now_s) {
    result.error = "token expired";
    return result;
  }
  std::int64_t nbf = 0;
  if (claims.contains("nbf") && !NumericClaim(claims, "nbf", nbf)) {
    result.error = "token nbf is not a usable time";
    return result;
  }
  if (claims.contains("nbf") && nbf - kLeeway.count() > now_s) {
    result.error = "token not valid yet";
    return result;
  }
  if (policy.max_lifetime.count() > 0) {
    // A token valid for days defeats revocation by the provider: refuse long-lived ones.
    std::int64_t iat = 0;
    if (!NumericClaim(claims, "iat", iat)) {
      result.error = "token has no usable iat (a maximum lifetime is configured)";
      return result;
    }
    if (exp - iat > policy.max_lifetime.count()) {
      result.error = "token lifetime " + std::to_string(exp - iat) + " s exceeds the maximum " +
                     std::to_string(policy.max_lifetime.count()) + " s";
      return result;
    }
    if (iat - kLeeway.count() > now_s) {
      result.error = "token issued in the future";
      return result;
    }
  }
  const auto* user = ClaimAt(claims, policy.user_id_claim);
  if (user != nullptr && user->is_string() && !user->get_ref<const std::string&>().empty()) {
    result.principal.subject = user->get<std::string>();
  } else if (user != nullptr || policy.require_user_id) {
    result.error = "token has no usable " + policy.user_id_claim + " claim (the user id)";
    return result;
  }
  result.principal.roles = MapRoles(policy, claims);
  if (result.principal.roles.empty()) {
    result.error = "token carries no known role";
    return result;
  }
  result.principal.authenticated = true;
  result.ok = true;
  return result;
}

std::string SignJwt(std::string_view private_key_pem, const nlohmann::json& claims,
                    std::string_view kid) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), &BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("not a PEM private key");
  const bool ec = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC;
  nlohmann::json header = {{"alg", ec ? "ES256" : "RS256"}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  const std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw std::runtime_error("signing failed");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw std::runtime_error("signing failed");
  }
  signature.resize(len);
  if (ec) signature = DerEcdsaToRaw(signature);
  return signing_input + "." + Base64UrlEncode(signature);
}

}  // namespace jilaf::auth
