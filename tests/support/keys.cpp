#include "tests/support/keys.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace jilaf::testing {
namespace {

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

KeyPair ToPem(EVP_PKEY* key) {
  if (key == nullptr) throw std::runtime_error("key generation failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), key);
  KeyPair pair{BioText(priv.get()), BioText(pub.get())};
  EVP_PKEY_free(key);
  return pair;
}

}  // namespace

KeyPair GenerateRsaKeyPair() { return ToPem(EVP_RSA_gen(2048)); }

KeyPair GenerateEcKeyPair() { return ToPem(EVP_EC_gen("P-256")); }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json StaffClaims() {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "officer-1"},
          {"exp", Now() + 600},
          {"roles", {"staff"}}};
}

}  // namespace jilaf::testing
