#include "common/auth/key_source.hpp"

namespace jilaf::auth {

std::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kOk:
      return "ok";
    case KeyState::kStale:
      return "stale";
    case KeyState::kUnavailable:
      return "unavailable";
  }
  return "unavailable";
}

KeySource::Lookup StaticKeySource::Find(std::string_view kid) const {
  if (!kid.empty() && kid != key_->thumbprint()) return {nullptr, "token kid names an unknown key"};
  return {key_, {}};
}

nlohmann::json StaticKeySource::Describe() const {
  return {{"source", "static key"}, {"keys", {key_->thumbprint()}}};
}

}  // namespace jilaf::auth
