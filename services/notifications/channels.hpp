#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace jilaf::notifications {

/// Outcome of one send attempt. `permanent` marks a refusal that no retry can fix.
struct SendResult {
  bool ok = false;
  bool permanent = false;
  std::string error;
};

struct SmtpOptions {
  std::string host = "127.0.0.1";
  std::int64_t port = 25;
  std::string tls = "none";  // none, starttls (required), implicit (smtps)
  std::string user;
  std::string password;
  std::string from = "JILAF <noreply@jilaf.localhost>";
  std::int64_t timeout_ms = 10000;
  std::string ca_file;  // PEM bundle the server's certificate is checked against; empty: system's
};

struct Email {
  std::string to;
  std::string subject;
  std::string body;
  std::string message_id;  // without angle brackets; stable per delivery
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. List-Unsubscribe
};

/// The RFC 5322 message (UTF-8 subject as RFC 2047, body base64) that SendEmail transmits.
[[nodiscard]] std::string FormatEmail(const SmtpOptions& options, const Email& email);

/// Sends one message over SMTP with libcurl. Blocking: call only from the dispatcher thread.
[[nodiscard]] SendResult SendEmail(const SmtpOptions& options, const Email& email);

/// POSTs `body` (JSON) with `headers`; 2xx is success, 4xx other than 408/429 is permanent.
/// Blocking: call only from the dispatcher thread.
[[nodiscard]] SendResult PostWebhook(
    const std::string& url, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, std::int64_t timeout_ms);

/// Initialises libcurl once per process (call from main before threads start).
void InitCurl();

}  // namespace jilaf::notifications
