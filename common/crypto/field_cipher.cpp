#include "common/crypto/field_cipher.hpp"

#include <sodium.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace jilaf::crypto {
namespace {

void InitSodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium could not be initialised");
}

constexpr std::string_view kLegacyPrefix = "v1:";
constexpr std::string_view kPrefix = "v2:";
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string Trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool HexKey(std::string_view hex, std::array<unsigned char, FieldCipher::kKeyBytes>& key) {
  std::size_t length = 0;
  return hex.size() == 2 * FieldCipher::kKeyBytes &&
         sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &length,
                        nullptr) == 0 &&
         length == FieldCipher::kKeyBytes;
}

// Each line of a ring file: "<id>:<hex>"; a file of one bare hex key is the ring {"1": key}.
FieldKey ParseKeyLine(const std::string& line, const std::string& where) {
  FieldKey key;
  const auto colon = line.find(':');
  std::string hex = colon == std::string::npos ? line : Trim(line.substr(colon + 1));
  key.id = colon == std::string::npos ? "1" : Trim(line.substr(0, colon));
  const bool ok = ValidKeyId(key.id) && HexKey(hex, key.bytes);
  sodium_memzero(hex.data(), hex.size());
  if (!ok) {
    throw std::runtime_error(
        where +
        " must hold 64 hexadecimal digits (32 bytes, e.g. from `openssl rand -hex 32`), or one "
        "<id>:<64 hex digits> per line with ids of letters, digits, '.', '_' or '-'");
  }
  return key;
}

}  // namespace

FieldCipher::FieldCipher(std::vector<FieldKey> ring) {
  InitSodium();
  if (ring.empty()) throw std::invalid_argument("the field key ring is empty");
  std::set<std::string> ids;
  for (auto& given : ring) {
    if (!ids.insert(given.id).second) {
      throw std::invalid_argument("the field key ring names the key id " + given.id + " twice");
    }
    Key key{given.id, given.bytes, {}};
    sodium_memzero(given.bytes.data(), given.bytes.size());
    // A separate subkey for blind indexes: the encryption key never keys a hash.
    crypto_kdf_derive_from_key(key.index.data(), key.index.size(), 1, "jilafidx", key.seal.data());
    keys_.push_back(std::move(key));
  }
}

FieldCipher::FieldCipher(const std::array<unsigned char, kKeyBytes>& key)
    : FieldCipher(std::vector<FieldKey>{{"1", key}}) {}

FieldCipher::~FieldCipher() {
  for (auto& key : keys_) {
    sodium_memzero(key.seal.data(), key.seal.size());
    sodium_memzero(key.index.data(), key.index.size());
  }
}

std::vector<FieldKey> FieldCipher::ReadKeyFile(const std::string& path) {
  InitSodium();
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the field key file " + path);
  std::vector<FieldKey> ring;
  std::set<std::string> ids;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string text = Trim(line);
    sodium_memzero(line.data(), line.size());
    if (text.empty() || text.front() == '#') continue;
    auto key =
        ParseKeyLine(text, "line " + std::to_string(number) + " of the field key file " + path);
    sodium_memzero(text.data(), text.size());
    if (!ids.insert(key.id).second) {
      throw std::runtime_error("the field key file " + path + " names the key id " + key.id +
                               " twice (line " + std::to_string(number) + ")");
    }
    ring.push_back(std::move(key));
  }
  if (ring.empty()) throw std::runtime_error("the field key file " + path + " holds no key");
  return ring;
}

std::array<unsigned char, FieldCipher::kKeyBytes> FieldCipher::RandomKey() {
  InitSodium();
  std::array<unsigned char, kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string FieldCipher::Encrypt(std::string_view plaintext, std::string_view context) const {
  const Key& key = keys_.back();
  std::vector<unsigned char> sealed(kNonce + plaintext.size() + kTag);
  unsigned char* nonce = sealed.data();
  randombytes_buf(nonce, kNonce);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonce, &length, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(),
      nullptr, nonce, key.seal.data());
  std::string out(sodium_base64_encoded_len(sealed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), sealed.data(), sealed.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return std::string(kPrefix) + key.id + ":" + out;
}

std::optional<std::string> FieldCipher::Open(const Key& key, std::string_view base64,
                                             std::string_view context) {
  std::vector<unsigned char> bytes(base64.size());
  std::size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), base64.data(), base64.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length < kNonce + kTag) {
    return std::nullopt;
  }
  const unsigned char* nonce = bytes.data();
  const std::size_t cipher_length = length - kNonce;
  std::string plain(cipher_length - kTag, '\0');
  unsigned long long plain_length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_length, nullptr, nonce + kNonce,
          cipher_length, reinterpret_cast<const unsigned char*>(context.data()), context.size(),
          nonce, key.seal.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(plain_length);
  return plain;
}

std::optional<std::string> FieldCipher::Decrypt(std::string_view sealed,
                                                std::string_view context) const {
  if (sealed.substr(0, kLegacyPrefix.size()) == kLegacyPrefix) {
    // Sealed before key ids: the AEAD tag tells which key of the ring (if any) sealed it.
    for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
      if (auto plain = Open(*it, sealed.substr(kLegacyPrefix.size()), context)) return plain;
    }
    return std::nullopt;
  }
  const auto id = KeyIdOf(sealed);
  if (!id) return std::nullopt;
  for (const auto& key : keys_) {
    if (key.id == *id) return Open(key, sealed.substr(kPrefix.size() + id->size() + 1), context);
  }
  return std::nullopt;
}

bool FieldCipher::IsCurrent(std::string_view sealed) const {
  const auto id = KeyIdOf(sealed);
  return id && *id == write_key_id();
}

std::optional<std::string> FieldCipher::KeyIdOf(std::string_view sealed) {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const auto colon = sealed.find(':', kPrefix.size());
  if (colon == std::string_view::npos) return std::nullopt;
  const auto id = sealed.substr(kPrefix.size(), colon - kPrefix.size());
  if (!ValidKeyId(id)) return std::nullopt;
  return std::string(id);
}

bool FieldCipher::LooksSealed(std::string_view text) {
  return text.substr(0, kLegacyPrefix.size()) == kLegacyPrefix || KeyIdOf(text).has_value();
}

std::vector<std::string> FieldCipher::key_ids() const {
  std::vector<std::string> ids;
  for (const auto& key : keys_) ids.push_back(key.id);
  return ids;
}

std::string FieldCipher::Index(const Key& key, std::string_view text) {
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     key.index.data(), key.index.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

std::string FieldCipher::BlindIndex(std::string_view text) const {
  return Index(keys_.back(), text);
}

std::vector<std::string> FieldCipher::BlindIndexes(std::string_view text) const {
  std::vector<std::string> out;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) out.push_back(Index(*it, text));
  return out;
}

}  // namespace jilaf::crypto
