#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace jilaf::invitations {

/// Per-field encryption of personal data at rest (passport numbers, dates of birth) with
/// libsodium's XChaCha20-Poly1305 AEAD. Each value gets a random 192-bit nonce, and the record id
/// and field name are bound in as associated data, so a ciphertext copied into another row or
/// field does not decrypt. Also computes keyed blind indexes (BLAKE2b under a derived subkey) so
/// that equal identities can be found without storing them in clear.
class FieldCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  explicit FieldCipher(const std::array<unsigned char, kKeyBytes>& key);
  FieldCipher(const FieldCipher&) = delete;
  FieldCipher& operator=(const FieldCipher&) = delete;
  ~FieldCipher();

  /// Reads a key file holding 64 hex digits (32 bytes; surrounding whitespace ignored). Throws
  /// std::runtime_error with a message naming the file, never the key.
  static std::array<unsigned char, kKeyBytes> ReadKeyFile(const std::string& path);
  /// A random key (development mode without a key file: data is unreadable after a restart).
  static std::array<unsigned char, kKeyBytes> RandomKey();

  /// "v1:<base64(nonce || ciphertext || tag)>".
  [[nodiscard]] std::string Encrypt(std::string_view plaintext, std::string_view context) const;
  /// nullopt when the value was not sealed by this key for this context.
  [[nodiscard]] std::optional<std::string> Decrypt(std::string_view sealed,
                                                   std::string_view context) const;
  /// Hex of a keyed 256-bit BLAKE2b hash of `text`.
  [[nodiscard]] std::string BlindIndex(std::string_view text) const;

 private:
  std::array<unsigned char, kKeyBytes> key_{};
  std::array<unsigned char, kKeyBytes> index_key_{};
};

}  // namespace jilaf::invitations
