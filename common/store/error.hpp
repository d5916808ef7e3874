#pragma once

#include <stdexcept>
#include <string>

namespace jilaf::store {

/// A failure of the store itself (I/O, disk full, corruption, busy), as opposed to a rule of the
/// domain. Consumers retry these instead of dead-lettering the event.
class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  StoreError(const StoreError&) = default;
  StoreError& operator=(const StoreError&) = default;
  ~StoreError() override = default;
  [[nodiscard]] int code() const { return code_; }
  /// True for a failure of the store that says nothing about the work (busy, I/O, a lost
  /// connection, the store stopping): worth retrying later, and a 503 to an HTTP client.
  [[nodiscard]] virtual bool Transient() const;

 private:
  int code_;
};

}  // namespace jilaf::store
