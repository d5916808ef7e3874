#include "common/util/ids.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/util/clock.hpp"
#include "common/util/digest.hpp"

namespace jilaf::util {

void RandomBytes(unsigned char* out, std::size_t size) {
  while (size > 0) {
    const int chunk = size > INT_MAX ? INT_MAX : static_cast<int>(size);
    if (RAND_bytes(out, chunk) != 1) throw std::runtime_error("RAND_bytes failed");
    out += chunk;
    size -= static_cast<std::size_t>(chunk);
  }
}

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return HexEncode(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

namespace {

// RAND_bytes costs ~15k instructions per call (locking, DRBG); ids and trace ids drawn from a
// per-thread pool of 1 KiB keep the same generator and the same randomness at a fraction of it.
void DrawPooled(unsigned char* out, std::size_t size) {
  thread_local unsigned char pool[16 * 64];
  thread_local std::size_t used = sizeof pool;
  if (used + size > sizeof pool) {
    RandomBytes(pool, sizeof pool);
    used = 0;
  }
  std::memcpy(out, pool + used, size);
  used += size;
}

}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  DrawPooled(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string NewTimeOrderedUuid() {
  // RFC 9562 version 7: 48 bits of Unix milliseconds, then random bits. Ids made later sort
  // later, so the inbox's primary key (consumer, event_id) grows at its right edge instead of
  // touching a random B-tree page per event: far fewer pages written to the WAL per commit.
  std::string id = NewUuid();  // random bits, version 4 shape
  const auto ms = static_cast<std::uint64_t>(NowUnixMs());
  static constexpr char kHex[] = "0123456789abcdef";
  // xxxxxxxx-xxxx-7xxx-...: 12 hex digits of time around the first dash, then the version.
  int shift = 44;
  for (std::size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;  // the dash
    id[i] = kHex[(ms >> shift) & 0xF];
    shift -= 4;
  }
  id[14] = '7';
  return id;
}

std::string NewTraceparent() {
  unsigned char ids[24];  // a 16-byte trace id, then an 8-byte span id
  DrawPooled(ids, sizeof ids);
  return "00-" + HexEncode(ids, 16) + "-" + HexEncode(ids + 16, 8) + "-01";
}

}  // namespace jilaf::util
