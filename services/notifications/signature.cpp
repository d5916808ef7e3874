#include "services/notifications/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

#include "common/util/digest.hpp"

namespace jilaf::notifications {

std::string HmacSha256Hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return util::HexEncode(digest, length);
}

std::string WebhookSignature(const std::string& secret, std::int64_t unix_seconds,
                             const std::string& body) {
  const std::string t = std::to_string(unix_seconds);
  return "t=" + t + ",v1=" + HmacSha256Hex(secret, t + "." + body);
}

bool VerifyWebhookSignature(const std::string& secret, const std::string& header,
                            const std::string& body, std::int64_t now_seconds,
                            std::int64_t tolerance_seconds) {
  const auto t_pos = header.find("t=");
  const auto v_pos = header.find(",v1=");
  if (t_pos != 0 || v_pos == std::string::npos) return false;
  const std::string t = header.substr(2, v_pos - 2);
  const std::string given = header.substr(v_pos + 4);
  char* end = nullptr;
  const long long sent = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || end == nullptr || *end != '\0') return false;
  if (std::llabs(now_seconds - sent) > tolerance_seconds) return false;
  const std::string expected = HmacSha256Hex(secret, t + "." + body);
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace jilaf::notifications
