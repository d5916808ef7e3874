#include "services/invitations/field_cipher.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace jilaf::invitations {
namespace {

void InitSodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium could not be initialised");
}

constexpr std::string_view kPrefix = "v1:";

}  // namespace

FieldCipher::FieldCipher(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {
  InitSodium();
  // A separate subkey for blind indexes: the encryption key never keys a hash.
  crypto_kdf_derive_from_key(index_key_.data(), index_key_.size(), 1, "jilafidx", key_.data());
}

FieldCipher::~FieldCipher() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
}

std::array<unsigned char, FieldCipher::kKeyBytes> FieldCipher::ReadKeyFile(
    const std::string& path) {
  InitSodium();
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the field key file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  std::array<unsigned char, kKeyBytes> key{};
  std::size_t length = 0;
  const bool ok = text.size() == 2 * kKeyBytes &&
                  sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &length,
                                 nullptr) == 0 &&
                  length == kKeyBytes;
  sodium_memzero(text.data(), text.size());
  if (!ok) {
    throw std::runtime_error("the field key file " + path +
                             " must hold 64 hexadecimal digits (32 bytes), e.g. from "
                             "`openssl rand -hex 32`");
  }
  return key;
}

std::array<unsigned char, FieldCipher::kKeyBytes> FieldCipher::RandomKey() {
  InitSodium();
  std::array<unsigned char, kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string FieldCipher::Encrypt(std::string_view plaintext, std::string_view context) const {
  std::vector<unsigned char> sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                    plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned char* nonce = sealed.data();
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &length,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(context.data()), context.size(), nullptr, nonce,
      key_.data());
  std::string out(sodium_base64_encoded_len(sealed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), sealed.data(), sealed.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return std::string(kPrefix) + out;
}

std::optional<std::string> FieldCipher::Decrypt(std::string_view sealed,
                                                std::string_view context) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view text = sealed.substr(kPrefix.size());
  std::vector<unsigned char> bytes(text.size());
  std::size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                   crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return std::nullopt;
  }
  const unsigned char* nonce = bytes.data();
  const unsigned char* cipher = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  const std::size_t cipher_length = length - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string plain(cipher_length - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plain_length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_length, nullptr, cipher,
          cipher_length, reinterpret_cast<const unsigned char*>(context.data()), context.size(),
          nonce, key_.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(plain_length);
  return plain;
}

std::string FieldCipher::BlindIndex(std::string_view text) const {
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     index_key_.data(), index_key_.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

}  // namespace jilaf::invitations
