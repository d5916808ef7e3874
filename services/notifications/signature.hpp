#pragma once

#include <cstdint>
#include <string>

namespace jilaf::notifications {

/// Lower-case hex HMAC-SHA256 of `message` under `key`.
[[nodiscard]] std::string HmacSha256Hex(const std::string& key, const std::string& message);

/// The `X-Jilaf-Signature` header value for a webhook body sent at `unix_seconds`:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Signing the timestamp with the
/// body lets receivers reject replays of an old request.
[[nodiscard]] std::string WebhookSignature(const std::string& secret, std::int64_t unix_seconds,
                                           const std::string& body);

/// Checks a signature header against a body and secret (constant-time comparison), as a
/// receiver would; `tolerance_seconds` bounds the age of `t` relative to `now_seconds`.
[[nodiscard]] bool VerifyWebhookSignature(const std::string& secret, const std::string& header,
                                          const std::string& body, std::int64_t now_seconds,
                                          std::int64_t tolerance_seconds = 300);

}  // namespace jilaf::notifications
