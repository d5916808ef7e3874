#include "common/util/digest.hpp"

#include <openssl/evp.h>

#include <memory>

namespace jilaf::util {

std::string HexEncode(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0F];
  }
  return out;
}

namespace {

// OpenSSL 3 looks the algorithm up in its provider table on every EVP_Digest with EVP_sha256()
// (a locked fetch) and allocates a context each time: for the short texts hashed on the write
// path (an audit row, a request body) that cost more than the hash. The algorithm is fetched
// once; each thread keeps one context.
const EVP_MD* Sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const EVP_MD* md = Sha256();
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  }
  return HexEncode(digest, length);
}

}  // namespace jilaf::util
