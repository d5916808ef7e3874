#pragma once

#include <cstddef>
#include <string>

// Every random value and identifier of the project comes from here: one checked source of
// randomness, one UUID generator, one trace id generator.
namespace jilaf::util {

/// Fills `size` bytes from OpenSSL's CSPRNG; throws std::runtime_error if it fails (never
/// returns predictable bytes).
void RandomBytes(unsigned char* out, std::size_t size);
/// `bytes` random bytes as lower-case hex (2 * bytes characters).
[[nodiscard]] std::string RandomHex(std::size_t bytes);

/// A random (version 4) UUID in canonical text form.
[[nodiscard]] std::string NewUuid();
/// A version 7 UUID (RFC 9562): creation time in milliseconds, then random bits, so ids sort by
/// creation. Entity, event and request ids use it.
[[nodiscard]] std::string NewTimeOrderedUuid();
/// A new W3C traceparent (`00-<trace id>-<span id>-01`).
[[nodiscard]] std::string NewTraceparent();

}  // namespace jilaf::util
