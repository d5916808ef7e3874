#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jilaf::crypto {

/// One key of a field-encryption key ring: an operator-chosen id and 32 secret bytes.
struct FieldKey {
  std::string id;
  std::array<unsigned char, 32> bytes{};
};

/// Per-field encryption of personal data and secrets at rest (passport numbers, dates of birth,
/// webhook secrets) with libsodium's XChaCha20-Poly1305 AEAD, under a key ring: the newest key
/// seals, every key of the ring opens, so a key can be rotated while the service keeps serving
/// (FieldRekey re-seals the stored values; docs/operations.md, "Field-key rotation"). Each value
/// gets a random 192-bit nonce and carries the id of the key that sealed it; the record id and
/// field name are bound in as associated data, so a ciphertext copied into another row or field
/// does not decrypt. Also computes keyed blind indexes (BLAKE2b under a subkey of each key) so
/// that equal identities can be found without storing them in clear.
class FieldCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  /// `ring` oldest first; the last key seals. Throws std::invalid_argument if it is empty or
  /// names an id twice.
  explicit FieldCipher(std::vector<FieldKey> ring);
  /// A ring of one key with id "1".
  explicit FieldCipher(const std::array<unsigned char, kKeyBytes>& key);
  FieldCipher(const FieldCipher&) = delete;
  FieldCipher& operator=(const FieldCipher&) = delete;
  ~FieldCipher();

  /// Reads a key file: either 64 hex digits (one key, id "1"), or one `<id>:<64 hex digits>`
  /// per line, oldest first, the last one sealing (ids of 1 to 32 letters, digits, '.', '_' or
  /// '-'; blank lines and lines starting with '#' ignored). Throws std::runtime_error with a
  /// message naming the file and line, never a key.
  static std::vector<FieldKey> ReadKeyFile(const std::string& path);
  /// A random key (development mode without a key file: data is unreadable after a restart).
  static std::array<unsigned char, kKeyBytes> RandomKey();

  /// "v2:<key id>:<base64(nonce || ciphertext || tag)>", sealed with the newest key.
  [[nodiscard]] std::string Encrypt(std::string_view plaintext, std::string_view context) const;
  /// nullopt when the value was not sealed by a key of the ring for this context. Values of the
  /// first format ("v1:<base64>", before key ids) are tried with every key.
  [[nodiscard]] std::optional<std::string> Decrypt(std::string_view sealed,
                                                   std::string_view context) const;
  /// Whether `sealed` is sealed with the newest key (nothing left for a rekey to do).
  [[nodiscard]] bool IsCurrent(std::string_view sealed) const;
  /// The key id a value names ("v1:" values name none: nullopt), whatever the ring holds.
  [[nodiscard]] static std::optional<std::string> KeyIdOf(std::string_view sealed);
  /// Whether `text` has the shape of a sealed value (either format); a clear value does not.
  [[nodiscard]] static bool LooksSealed(std::string_view text);

  /// The id of the key that seals.
  [[nodiscard]] const std::string& write_key_id() const { return keys_.back().id; }
  /// Every key id, oldest first.
  [[nodiscard]] std::vector<std::string> key_ids() const;

  /// Hex of a keyed 256-bit BLAKE2b hash of `text` under the newest key.
  [[nodiscard]] std::string BlindIndex(std::string_view text) const;
  /// The blind index of `text` under every key of the ring, newest first: lookups during a
  /// rotation match rows indexed under an older key.
  [[nodiscard]] std::vector<std::string> BlindIndexes(std::string_view text) const;

 private:
  struct Key {
    std::string id;
    std::array<unsigned char, kKeyBytes> seal{};
    std::array<unsigned char, kKeyBytes> index{};
  };
  static std::optional<std::string> Open(const Key& key, std::string_view base64,
                                         std::string_view context);
  static std::string Index(const Key& key, std::string_view text);

  std::vector<Key> keys_;
};

}  // namespace jilaf::crypto
