#include "common/auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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

enum class KeyKind { kRsa, kEcP256 };

KeyKind KindOf(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return KeyKind::kRsa;
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
        std::string_view(group) == "prime256v1") {
      return KeyKind::kEcP256;
    }
    throw std::runtime_error("EC keys must use the P-256 curve (ES256)");
  }
  throw std::runtime_error("only RSA (RS256) and EC P-256 (ES256) keys are supported");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// JWS carries ECDSA signatures as R||S (32 bytes each); OpenSSL wants DER.
bool RawEcdsaToDer(std::string_view raw, std::string& der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* buffer = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &buffer);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der.assign(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(len));
  OPENSSL_free(buffer);
  return true;
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

std::string BignumBytes(EVP_PKEY* key, const char* param, int pad_to) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &number) != 1) {
    throw std::runtime_error(std::string("cannot read key parameter ") + param);
  }
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(number);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(number, reinterpret_cast<unsigned char*>(bytes.data()), size);
  BN_free(number);
  return bytes;
}

// RFC 7638: SHA-256 over the required JWK members in lexicographic order, no whitespace.
std::string Thumbprint(EVP_PKEY* key, KeyKind kind);

// A `kid` is echoed into logs and, in key stores, often into file names or URLs: anything but a
// short identifier is refused before it is compared.
bool IsSafeKeyId(std::string_view kid) {
  if (kid.empty() || kid.size() > 128 || kid.find("..") != std::string_view::npos) return false;
  for (const char c : kid) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct JwtVerifier::Key {
  PkeyPtr pkey{nullptr, &EVP_PKEY_free};
  KeyKind kind = KeyKind::kRsa;
  std::string id;
};

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

std::string Thumbprint(EVP_PKEY* key, KeyKind kind) {
  std::string jwk;
  if (kind == KeyKind::kRsa) {
    jwk = R"({"e":")" + Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_E, 0)) +
          R"(","kty":"RSA","n":")" + Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_N, 0)) +
          R"("})";
  } else {
    jwk = R"({"crv":"P-256","kty":"EC","x":")" +
          Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)) + R"(","y":")" +
          Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + R"("})";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(jwk.data(), jwk.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("cannot hash the key");
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), len));
}

}  // namespace

const std::string& JwtVerifier::key_id() const { return key_->id; }

JwtVerifier::JwtVerifier(std::unique_ptr<Key> key, std::string issuer, std::string audience)
    : key_(std::move(key)), issuer_(std::move(issuer)), audience_(std::move(audience)) {}
JwtVerifier::JwtVerifier(JwtVerifier&&) noexcept = default;
JwtVerifier& JwtVerifier::operator=(JwtVerifier&&) noexcept = default;
JwtVerifier::~JwtVerifier() = default;

JwtVerifier JwtVerifier::FromPem(std::string_view pem, std::string issuer, std::string audience) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  auto key = std::make_unique<Key>();
  key->pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key->pkey) throw std::runtime_error("not a PEM public key");
  key->kind = KindOf(key->pkey.get());
  key->id = Thumbprint(key->pkey.get(), key->kind);
  return JwtVerifier(std::move(key), std::move(issuer), std::move(audience));
}

JwtVerifier JwtVerifier::FromPemFile(const std::string& path, std::string issuer,
                                     std::string audience) {
  try {
    return FromPem(ReadFile(path), std::move(issuer), std::move(audience));
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
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
  if (const auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string() || !IsSafeKeyId(kid->get_ref<const std::string&>())) {
      result.error = "token kid is not a plain key identifier";
      return result;
    }
    if (kid->get_ref<const std::string&>() != key_->id) {
      result.error = "token kid names an unknown key";
      return result;
    }
  }
  const auto alg = header["alg"].get<std::string>();
  const char* expected_alg = key_->kind == KeyKind::kRsa ? "RS256" : "ES256";
  if (alg != expected_alg) {
    result.error = "token algorithm " + alg + " is not accepted (expected " + expected_alg + ")";
    return result;
  }
  std::string der;
  std::string_view to_check = signature;
  if (key_->kind == KeyKind::kEcP256) {
    if (!RawEcdsaToDer(signature, der)) {
      result.error = "malformed ES256 signature";
      return result;
    }
    to_check = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const std::string_view signing_input = token.substr(0, dot2);
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(to_check.data()),
                       to_check.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    result.error = "token signature does not verify";
    return result;
  }
  const auto claims = nlohmann::json::parse(payload_text, nullptr, false);
  if (!claims.is_object()) {
    result.error = "token payload is not a JSON object";
    return result;
  }
  if (!claims.contains("iss") || claims["iss"] != issuer_) {
    result.error = "token issuer is not " + issuer_;
    return result;
  }
  bool audience_ok = false;
  if (const auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      audience_ok = *aud == audience_;
    } else if (aud->is_array()) {
      for (const auto& item : *aud) audience_ok = audience_ok || item == audience_;
    }
  }
  if (!audience_ok) {
    result.error = "token audience does not include " + audience_;
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
  if (const auto sub = claims.find("sub"); sub != claims.end() && sub->is_string()) {
    result.principal.subject = sub->get<std::string>();
  }
  if (const auto roles = claims.find("roles"); roles != claims.end() && roles->is_array()) {
    for (const auto& item : *roles) {
      Role role;
      if (item.is_string() && ParseRole(item.get<std::string>(), role)) {
        result.principal.roles.push_back(role);
      }
    }
  }
  if (result.principal.roles.empty()) {
    result.error = "token carries no known role";
    return result;
  }
  result.principal.authenticated = true;
  result.ok = true;
  return result;
}

std::string SignJwt(std::string_view private_key_pem, const nlohmann::json& claims) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), &BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("not a PEM private key");
  const KeyKind kind = KindOf(key.get());
  const nlohmann::json header = {{"alg", kind == KeyKind::kRsa ? "RS256" : "ES256"},
                                 {"typ", "JWT"}};
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
  if (kind == KeyKind::kEcP256) signature = DerEcdsaToRaw(signature);
  return signing_input + "." + Base64UrlEncode(signature);
}

}  // namespace jilaf::auth
