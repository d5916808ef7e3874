#include "services/notifications/channels.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

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

bool IsAscii(const std::string& text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}

// RFC 2047 encoded-word for non-ASCII header text.
std::string HeaderText(const std::string& text) {
  return IsAscii(text) ? text : "=?UTF-8?B?" + Base64(text) + "?=";
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

// The bare address inside "Name <addr>", or the text itself.
std::string Mailbox(const std::string& text) {
  const auto open = text.find('<');
  const auto close = text.find('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return text.substr(open + 1, close - open - 1);
  }
  return text;
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

std::size_t DiscardCallback(char*, std::size_t size, std::size_t count, void*) {
  return size * count;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

}  // namespace

void InitCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }

std::string FormatEmail(const SmtpOptions& options, const Email& email) {
  std::string message;
  message += "From: " + options.from + "\r\n";
  message += "To: <" + email.to + ">\r\n";
  message += "Subject: " + HeaderText(email.subject) + "\r\n";
  message += "Date: " + RfcDate() + "\r\n";
  message += "Message-ID: <" + email.message_id + ">\r\n";
  for (const auto& [name, value] : email.headers) message += name + ": " + value + "\r\n";
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=UTF-8\r\n";
  message += "Content-Transfer-Encoding: base64\r\n\r\n";
  message += WrapLines(Base64(email.body), 76);
  return message;
}

SendResult SendEmail(const SmtpOptions& options, const Email& email) {
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return {false, false, "curl_easy_init failed"};
  const std::string scheme = options.tls == "implicit" ? "smtps://" : "smtp://";
  const std::string url =
      scheme + options.host + ":" + std::to_string(options.port) + "/jilaf.localhost";
  const std::string message = FormatEmail(options, email);
  Upload upload{&message};
  const std::string from = "<" + Mailbox(options.from) + ">";
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
  if (code == CURLE_OK) return {true, false, ""};
  // 5xx replies from the server are permanent refusals (bad mailbox, policy); the rest retry.
  const bool permanent = response >= 500 && response < 600;
  return {false, permanent,
          std::string("smtp: ") + curl_easy_strerror(code) +
              (response != 0 ? " (reply " + std::to_string(response) + ")" : "")};
}

SendResult PostWebhook(const std::string& url, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       std::int64_t timeout_ms) {
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return {false, false, "curl_easy_init failed"};
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, DiscardCallback);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  const CURLcode code = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  if (code != CURLE_OK) return {false, false, std::string("http: ") + curl_easy_strerror(code)};
  if (status >= 200 && status < 300) return {true, false, ""};
  const bool permanent = status >= 400 && status < 500 && status != 408 && status != 429;
  return {false, permanent, "http: endpoint answered " + std::to_string(status)};
}

}  // namespace jilaf::notifications
