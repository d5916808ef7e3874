#include "services/notifications/channels.hpp"

#include "common/util/text.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

namespace jilaf::notifications {
namespace {

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool IsPlainHeaderText(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// RFC 2047 encoded-words (UTF-8, base64) for header text that is not plain printable ASCII:
// each word at most 75 characters and each line at most 78 (`used`: what the line already holds
// before the first word, e.g. "Subject: "), split between characters, further words folded
// onto lines of their own. CR and LF can never reach the header: they travel encoded.
std::string EncodedWords(std::string_view text, std::size_t used) {
  constexpr std::size_t kFraming = 12;  // "=?UTF-8?B?" and "?="
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t room = std::min<std::size_t>(75, 78 - std::min<std::size_t>(used, 60));
    const std::size_t max_bytes = (room - kFraming) / 4 * 3;
    std::size_t end = std::min(start + max_bytes, text.size());
    // Back off to the start of a UTF-8 character (never split a character's bytes).
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
      --end;
    }
    if (end == start) end = std::min(start + max_bytes, text.size());
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string(text.substr(start, end - start))) + "?=";
    used = 1;  // a continuation line starts with one space
    start = end;
  }
  return out;
}

// A header line: "Name: value", the value encoded when it is not plain printable ASCII.
std::string HeaderLine(const std::string& name, const std::string& value) {
  const std::size_t used = name.size() + 2;
  return name + ": " + (IsPlainHeaderText(value) ? value : EncodedWords(value, used)) + "\r\n";
}

// "Display Name <addr>" -> {display name, address}; a bare address has no name.
std::pair<std::string, std::string> SplitMailbox(const std::string& text) {
  const auto open = text.rfind('<');
  const auto close = text.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    std::string name = text.substr(0, open);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    return {name, text.substr(open + 1, close - open - 1)};
  }
  return {"", text};
}

// A mailbox header line: the display name as an RFC 5322 quoted-string, or encoded-words when it
// is not plain ASCII (the address then on a folded line of its own); the address, already
// validated, in angle brackets.
std::string MailboxLine(const std::string& header, const std::string& name,
                        const std::string& address) {
  std::string value;
  if (name.empty()) {
    value = "<" + address + ">";
  } else if (!IsPlainHeaderText(name)) {
    value = EncodedWords(name, header.size() + 2) + "\r\n <" + address + ">";
  } else {
    value = "\"";
    for (const char c : name) {
      if (c == '"' || c == '\\') value += '\\';
      value += c;
    }
    value += "\" <" + address + ">";
  }
  return header + ": " + value + "\r\n";
}

bool IsHeaderName(const std::string& name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return true;
}

std::string WrapLines(const std::string& text, std::size_t width) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += width) out += text.substr(i, width) + "\r\n";
  return out;
}

std::string RfcDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer;
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t ReadCallback(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t room = size * count;
  const std::size_t left = upload->data->size() - upload->offset;
  const std::size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

// A webhook answer is read only to end the exchange; past the bound the transfer stops.
struct BoundedSink {
  std::size_t limit;
  std::size_t received;
  bool overflow;
};

std::size_t BoundedWrite(char*, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<BoundedSink*>(user);
  sink->received += size * count;
  if (sink->received > sink->limit) {
    sink->overflow = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  return size * count;
}

// The last check before a socket exists: the address curl is about to connect to must be one
// that ResolveWebhookUrl checked, so nothing (a resolver cache, a proxy) can send it elsewhere.
struct PinnedAddresses {
  const EgressCheck* target;
  std::string refusal;
};

curl_socket_t OpenCheckedSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* pinned = static_cast<PinnedAddresses*>(user);
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = nullptr;
  if (address->family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr;
  } else if (address->family == AF_INET6) {
    raw = &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr;
  }
  const bool known = purpose == CURLSOCKTYPE_IPCXN && raw != nullptr &&
                     inet_ntop(address->family, raw, text, sizeof text) != nullptr;
  const auto& checked = pinned->target->addresses;
  if (!known || std::find(checked.begin(), checked.end(), std::string(text)) == checked.end()) {
    pinned->refusal =
        "connection to an address that was not checked (" + std::string(text) + ") refused";
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// The public kind of a transport failure: never the text, which can describe the network.
std::string TransportCategory(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "dns";
    case CURLE_COULDNT_CONNECT:
      return "connect";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return "tls";
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "refused_url";
    default:
      return "transport";
  }
}

}  // namespace

void InitCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }

std::string FormatEmail(const SmtpOptions& options, const Email& email) {
  const auto [from_name, from_address] = SplitMailbox(options.from);
  std::string message;
  message += MailboxLine("From", from_name, from_address);
  message += MailboxLine("To", email.to_name, email.to);
  message += HeaderLine("Subject", email.subject);
  message += "Date: " + RfcDate() + "\r\n";
  message += "Message-ID: <" + email.message_id + ">\r\n";
  for (const auto& [name, value] : email.headers) {
    if (IsHeaderName(name)) message += HeaderLine(name, value);
  }
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=UTF-8\r\n";
  message += "Content-Transfer-Encoding: base64\r\n\r\n";
  message += WrapLines(Base64(email.body), 76);
  return message;
}

SendResult SendEmail(const SmtpOptions& options, const Email& email) {
  const auto [from_name, from_address] = SplitMailbox(options.from);
  if (!util::IsEmailAddress(email.to)) {
    return {false, true, "smtp: recipient is not a valid email address", "invalid_address"};
  }
  if (!util::IsEmailAddress(from_address)) {
    return {false, true, "smtp: --smtp-from has no valid address", "invalid_address"};
  }
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return {false, false, "curl_easy_init failed", "other"};
  const std::string scheme = options.tls == "implicit" ? "smtps://" : "smtp://";
  const std::string url =
      scheme + options.host + ":" + std::to_string(options.port) + "/jilaf.localhost";
  const std::string message = FormatEmail(options, email);
  Upload upload{&message};
  const std::string from = "<" + from_address + ">";
  const std::string to = "<" + email.to + ">";
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  if (options.tls == "starttls") curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, CURLUSESSL_ALL);
  if (!options.ca_file.empty())
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.user.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, options.user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, options.password.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, ReadCallback);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  const CURLcode code = curl_easy_perform(curl.get());
  long response = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response);
  curl_slist_free_all(recipients);
  if (code == CURLE_OK) return {true, false, "", ""};
  // 5xx replies from the server are permanent refusals (bad mailbox, policy); the rest retry.
  const bool permanent = response >= 500 && response < 600;
  return {false, permanent,
          std::string("smtp: ") + curl_easy_strerror(code) +
              (response != 0 ? " (reply " + std::to_string(response) + ")" : ""),
          "smtp"};
}

SendResult PostWebhook(const std::string& url, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const WebhookOptions& options) {
  const EgressCheck target = ResolveWebhookUrl(url, options.egress);
  if (!target.ok) {
    // A refused URL or address stays refused; a name that does not resolve may yet.
    return {false, target.category != "dns", "webhook: " + target.reason, target.category};
  }
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return {false, false, "curl_easy_init failed", "other"};
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  // Pin the checked addresses: curl connects to them and never asks the resolver again.
  std::string pinned;
  for (const auto& address : target.addresses) {
    pinned += (pinned.empty() ? "" : ",") +
              (address.find(':') != std::string::npos ? "[" + address + "]" : address);
  }
  const std::string host =
      target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
  curl_slist* resolve =
      curl_slist_append(nullptr, (host + ":" + std::to_string(target.port) + ":" + pinned).c_str());
  PinnedAddresses allowed{&target, ""};
  const char* protocols = target.dev ? "http,https" : "https";
  curl_easy_setopt(curl.get(), CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl.get(), CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
  curl_easy_setopt(curl.get(), CURLOPT_OPENSOCKETDATA, &allowed);
  curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");  // no proxy from the environment
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  BoundedSink sink{static_cast<std::size_t>(options.max_response_bytes), 0, false};
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, BoundedWrite);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_response_bytes));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  const CURLcode code = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_slist_free_all(resolve);
  if (!allowed.refusal.empty()) {
    return {false, true, "webhook: " + allowed.refusal, "refused_address"};
  }
  if (sink.overflow || code == CURLE_FILESIZE_EXCEEDED) {
    return {false, false,
            "http: the answer exceeds " + std::to_string(options.max_response_bytes) + " bytes",
            "response_too_large"};
  }
  if (code != CURLE_OK) {
    return {false, false, std::string("http: ") + curl_easy_strerror(code),
            TransportCategory(code)};
  }
  if (status >= 200 && status < 300) return {true, false, "", ""};
  if (status >= 300 && status < 400) {
    return {false, true,
            "http: endpoint answered " + std::to_string(status) +
                " (a redirect, which webhooks do not follow)",
            "redirect"};
  }
  const bool permanent = status >= 400 && status < 500 && status != 408 && status != 429;
  return {false, permanent, "http: endpoint answered " + std::to_string(status), "http_status"};
}

}  // namespace jilaf::notifications
