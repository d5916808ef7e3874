#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/auth/keys.hpp"

namespace jilaf::auth {

/// How fresh an issuer's keys are, for /readyz: kOk (static, or fetched on schedule), kStale (the
/// last refresh failed; cached keys still serve), kUnavailable (no usable key: never fetched, or
/// expired by policy).
enum class KeyState { kOk, kStale, kUnavailable };
std::string_view KeyStateName(KeyState state);

/// Where a verifier finds the key a token names. Find never blocks on the network: it reads what
/// the source holds now (and may ask a background refresher to look again).
class KeySource {
 public:
  virtual ~KeySource() = default;

  struct Lookup {
    KeyPtr key;         // null when not found
    std::string error;  // why not, for the log
  };
  /// The key named `kid` (empty when the token names none: then only a source with exactly one
  /// key answers).
  [[nodiscard]] virtual Lookup Find(std::string_view kid) const = 0;
  [[nodiscard]] virtual KeyState State() const = 0;
  /// Details for /readyz (key ids, last refresh, last error).
  [[nodiscard]] virtual nlohmann::json Describe() const = 0;
};

/// One fixed key (the development PEM key, or a key mounted from a secret). Its `kid` is the
/// key's RFC 7638 thumbprint; a token without `kid` uses it too.
class StaticKeySource final : public KeySource {
 public:
  explicit StaticKeySource(KeyPtr key) : key_(std::move(key)) {}
  [[nodiscard]] Lookup Find(std::string_view kid) const override;
  [[nodiscard]] KeyState State() const override { return KeyState::kOk; }
  [[nodiscard]] nlohmann::json Describe() const override;

 private:
  KeyPtr key_;
};

}  // namespace jilaf::auth
