#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "services/notifications/egress.hpp"

namespace jilaf::notifications {

/// Outcome of one send attempt. `permanent` marks a refusal that no retry can fix. `error` is
/// for admins and the log; `category` is the short public kind of failure ("connect", "timeout",
/// "refused_address", ...) that every reader of a delivery may see.
struct SendResult {
  bool ok = false;
  bool permanent = false;
  std::string error;
  std::string category;
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
  std::string to;  // a bare address (util::IsEmailAddress), never "Name <addr>"
  std::string subject;
  std::string body;
  std::string message_id;  // without angle brackets; stable per delivery
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. List-Unsubscribe
  std::string to_name;  // display name of `to`, may be empty or Japanese
};

/// The RFC 5322 message that SendEmail transmits: header texts that are not plain ASCII (subject,
/// display names, extra header values) as RFC 2047 encoded-words, so that no CR or LF of a
/// text can start a header of its own; extra headers with invalid names are left out; body base64.
[[nodiscard]] std::string FormatEmail(const SmtpOptions& options, const Email& email);

/// Sends one message over SMTP with libcurl; an invalid recipient or sender address is a
/// permanent failure (category "invalid_address") before any connection. Blocking, one connection
/// per call: call only from the dispatcher's workers.
[[nodiscard]] SendResult SendEmail(const SmtpOptions& options, const Email& email);

struct WebhookOptions {
  EgressPolicy egress;
  std::int64_t timeout_ms = 10000;          // the whole exchange, connection included
  std::int64_t max_response_bytes = 65536;  // a longer answer fails the attempt
};

/// POSTs `body` (JSON) with `headers`; 2xx is success, 4xx other than 408/429 is permanent.
/// The URL is checked and its host resolved once (ResolveWebhookUrl); the connection goes only to
/// the checked addresses, over http(s) only, without proxies; a redirect is not followed and is a
/// permanent failure. Blocking, one connection per call: call only from the dispatcher's workers.
[[nodiscard]] SendResult PostWebhook(
    const std::string& url, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, const WebhookOptions& options);

/// Initialises libcurl once per process (call from main before threads start).
void InitCurl();

}  // namespace jilaf::notifications
