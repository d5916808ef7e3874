#include "common/auth/keys.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "common/auth/jwt.hpp"

namespace jilaf::auth {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Below this an RSA key is refused: NIST and every identity provider in use sign with 2048+.
constexpr int kMinRsaBits = 2048;

KeyKind KindOf(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      throw std::runtime_error("RSA keys must have at least 2048 bits");
    }
    return KeyKind::kRsa;
  }
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

// A base64url JWK member, decoded; throws naming the member.
std::string JwkBytes(const nlohmann::json& jwk, const char* member) {
  const auto it = jwk.find(member);
  std::string out;
  if (it == jwk.end() || !it->is_string() ||
      !Base64UrlDecode(it->get_ref<const std::string&>(), out) || out.empty()) {
    throw std::runtime_error(std::string("member '") + member + "' is missing or not base64url");
  }
  return out;
}

PkeyPtr BuildFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  const bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                  EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(pkey);
    throw std::runtime_error(std::string("OpenSSL refuses the ") + type + " key parameters");
  }
  return PkeyPtr(pkey, &EVP_PKEY_free);
}

PkeyPtr RsaFromJwk(const nlohmann::json& jwk) {
  const std::string n = JwkBytes(jwk, "n");
  const std::string e = JwkBytes(jwk, "e");
  if (n.size() > 2048) throw std::runtime_error("RSA modulus longer than 16384 bits");
  if (e.size() > 8) throw std::runtime_error("RSA exponent longer than 64 bits");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          &OSSL_PARAM_BLD_free);
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  const bool ok = builder && bn_n != nullptr && bn_e != nullptr &&
                  OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
                  OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e) == 1;
  PkeyPtr pkey(nullptr, &EVP_PKEY_free);
  if (ok) pkey = BuildFromParams("RSA", builder.get());
  BN_free(bn_n);
  BN_free(bn_e);
  if (!pkey) throw std::runtime_error("cannot build the RSA key");
  return pkey;
}

PkeyPtr EcFromJwk(const nlohmann::json& jwk) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string() || *crv != "P-256") {
    throw std::runtime_error("EC curve " + (crv != jwk.end() ? crv->dump() : std::string("none")) +
                             " is not supported (only P-256)");
  }
  const std::string x = JwkBytes(jwk, "x");
  const std::string y = JwkBytes(jwk, "y");
  if (x.size() != 32 || y.size() != 32) throw std::runtime_error("P-256 coordinates need 32 bytes");
  const std::string point = std::string(1, '\x04') + x + y;  // SEC 1 uncompressed point
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          &OSSL_PARAM_BLD_free);
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    throw std::runtime_error("cannot build the EC key");
  }
  return BuildFromParams("EC", builder.get());  // refuses a point that is not on the curve
}

}  // namespace

struct VerificationKey::Pkey {
  PkeyPtr pkey{nullptr, &EVP_PKEY_free};
};

VerificationKey::VerificationKey(std::unique_ptr<Pkey> pkey, KeyKind kind)
    : pkey_(std::move(pkey)), kind_(kind) {
  thumbprint_ = Thumbprint(pkey_->pkey.get(), kind_);
}

VerificationKey::~VerificationKey() = default;

const char* VerificationKey::algorithm() const {
  return kind_ == KeyKind::kRsa ? "RS256" : "ES256";
}

KeyPtr VerificationKey::FromPem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  auto pkey = std::make_unique<Pkey>();
  pkey->pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey->pkey) throw std::runtime_error("not a PEM public key");
  const KeyKind kind = KindOf(pkey->pkey.get());
  return KeyPtr(new VerificationKey(std::move(pkey), kind));
}

KeyPtr VerificationKey::FromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) throw std::runtime_error("a key is not a JSON object");
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) throw std::runtime_error("key has no kty");
  auto pkey = std::make_unique<Pkey>();
  if (*kty == "RSA") {
    pkey->pkey = RsaFromJwk(jwk);
  } else if (*kty == "EC") {
    pkey->pkey = EcFromJwk(jwk);
  } else {
    throw std::runtime_error("key type " + kty->get<std::string>() + " is not supported");
  }
  const KeyKind kind = KindOf(pkey->pkey.get());
  if (const auto alg = jwk.find("alg"); alg != jwk.end()) {
    const char* expected = kind == KeyKind::kRsa ? "RS256" : "ES256";
    if (!alg->is_string() || *alg != expected) {
      throw std::runtime_error("key algorithm " + alg->dump() + " is not supported (only " +
                               expected + " for this key type)");
    }
  }
  return KeyPtr(new VerificationKey(std::move(pkey), kind));
}

nlohmann::json VerificationKey::ToJwk(const std::string& kid) const {
  EVP_PKEY* key = pkey_->pkey.get();
  nlohmann::json jwk = {
      {"kid", kid.empty() ? thumbprint_ : kid}, {"use", "sig"}, {"alg", algorithm()}};
  if (kind_ == KeyKind::kRsa) {
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_N, 0));
    jwk["e"] = Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_E, 0));
  } else {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    jwk["y"] = Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  return jwk;
}

bool VerificationKey::VerifySignature(std::string_view signing_input,
                                      std::string_view signature) const {
  std::string der;
  std::string_view to_check = signature;
  if (kind_ == KeyKind::kEcP256) {
    if (!RawEcdsaToDer(signature, der)) return false;
    to_check = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_->pkey.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(to_check.data()),
                          to_check.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

bool IsSafeKeyId(std::string_view kid) {
  if (kid.empty() || kid.size() > 128 || kid.find("..") != std::string_view::npos) return false;
  for (const char c : kid) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

KeySet ParseJwks(std::string_view text) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    throw std::runtime_error("not a JWKS document (no \"keys\" array)");
  }
  // A real provider publishes a handful of keys; thousands would only cost memory and time.
  constexpr std::size_t kMaxKeys = 100;
  if (doc["keys"].size() > kMaxKeys) throw std::runtime_error("JWKS has more than 100 keys");
  KeySet set;
  std::size_t index = 0;
  for (const auto& jwk : doc["keys"]) {
    std::string kid = "#" + std::to_string(index++);  // how a key without a usable kid is named
    if (jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string()) {
      kid = jwk["kid"].get<std::string>();
    }
    if (!IsSafeKeyId(kid) && kid[0] != '#') {
      set.refused.emplace("#" + std::to_string(index - 1), "kid is not a plain key identifier");
      continue;
    }
    if (jwk.is_object() && jwk.contains("use") && jwk["use"] != "sig") {
      set.refused.emplace(kid, "an encryption key (use " + jwk["use"].dump() + ")");
      continue;
    }
    try {
      auto key = VerificationKey::FromJwk(jwk);
      if (kid[0] == '#') kid = key->thumbprint();
      set.keys.emplace(kid, std::move(key));
    } catch (const std::exception& error) {
      set.refused.emplace(kid, error.what());
    }
  }
  return set;
}

}  // namespace jilaf::auth
