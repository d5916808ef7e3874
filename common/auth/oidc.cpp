#include "common/auth/oidc.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "common/log/log.hpp"

namespace jilaf::auth {
namespace {

struct Transfer {
  HttpFetch* out;
  std::size_t max_body;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->out->body.size() + bytes > transfer->max_body) {
    transfer->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  transfer->out->body.append(data, bytes);
  return bytes;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<Transfer*>(user)->out;
  const std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    const std::string name = Lower(std::string(line.substr(0, colon)));
    const std::string value = Trim(line.substr(colon + 1));
    if (name == "cache-control") out->cache_control = value;
    if (name == "expires") out->expires = value;
    if (name == "date") out->date = value;
    if (name == "etag") out->etag = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    *out = HttpFetch{};  // a new response (after a 100 Continue): forget the previous headers
  }
  return size * count;
}

bool IsHttpUrl(std::string_view url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

std::string Clip(std::string_view text) {
  constexpr std::size_t kMax = 120;
  return std::string(text.substr(0, kMax)) + (text.size() > kMax ? "…" : "");
}

}  // namespace

HttpFetch HttpGet(const std::string& url, std::chrono::milliseconds timeout, std::size_t max_body,
                  const std::string& if_none_match) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  HttpFetch result;
  if (!initialised) {
    result.error = "libcurl did not initialise";
    return result;
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    result.error = "libcurl could not create a handle";
    return result;
  }
  Transfer transfer{&result, max_body};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (!if_none_match.empty()) {
    headers = curl_slist_append(headers, ("If-None-Match: " + if_none_match).c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body));
  const CURLcode code = curl_easy_perform(curl.get());
  curl_slist_free_all(headers);
  if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    result.body.clear();
    result.error = "response body larger than " + std::to_string(max_body) + " bytes";
    return result;
  }
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    return result;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

std::optional<std::chrono::seconds> Freshness(const HttpFetch& response) {
  const std::string cache_control = Lower(response.cache_control);
  if (cache_control.find("no-cache") != std::string::npos ||
      cache_control.find("no-store") != std::string::npos) {
    return std::chrono::seconds(0);
  }
  if (const auto at = cache_control.find("max-age="); at != std::string::npos) {
    long long seconds = 0;
    std::size_t i = at + 8;
    bool digits = false;
    while (i < cache_control.size() && std::isdigit(static_cast<unsigned char>(cache_control[i]))) {
      seconds = std::min<long long>(seconds * 10 + (cache_control[i++] - '0'), 1LL << 31);
      digits = true;
    }
    if (digits) return std::chrono::seconds(seconds);
  }
  if (!response.expires.empty() && !response.date.empty()) {
    std::tm expires{}, date{};
    constexpr const char* kFormat = "%a, %d %b %Y %H:%M:%S GMT";  // RFC 9110 IMF-fixdate
    if (strptime(response.expires.c_str(), kFormat, &expires) != nullptr &&
        strptime(response.date.c_str(), kFormat, &date) != nullptr) {
      const auto span = timegm(&expires) - timegm(&date);
      return std::chrono::seconds(std::max<std::time_t>(0, span));
    }
    return std::chrono::seconds(0);  // an unparseable Expires means already expired (RFC 9111)
  }
  return std::nullopt;
}

OidcKeySource::OidcKeySource(OidcOptions options) : options_(std::move(options)) {
  if (!IsHttpUrl(options_.issuer)) {
    throw std::invalid_argument("issuer '" + options_.issuer + "' is not an http(s) URL");
  }
  thread_ = std::thread([this] { Run(); });
}

OidcKeySource::~OidcKeySource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

KeySource::Lookup OidcKeySource::Find(std::string_view kid) const {
  std::shared_ptr<const KeySet> keys;
  bool expired = false;
  std::string last_error;
  {
    std::lock_guard lock(mutex_);
    keys = keys_;
    expired = last_success_ && Clock::now() - *last_success_ > options_.key_max_age;
    last_error = last_error_;
  }
  if (!keys) {
    return {nullptr, "no keys of issuer " + options_.issuer + " yet" +
                         (last_error.empty() ? std::string() : " (" + last_error + ")")};
  }
  if (expired) {
    return {nullptr, "keys of issuer " + options_.issuer + " expired: no successful refresh for " +
                         std::to_string(options_.key_max_age.count()) + " s"};
  }
  if (kid.empty()) {
    if (keys->keys.size() == 1) return {keys->keys.begin()->second, {}};
    return {nullptr, "token has no kid and issuer " + options_.issuer + " has " +
                         std::to_string(keys->keys.size()) + " keys"};
  }
  if (const auto it = keys->keys.find(kid); it != keys->keys.end()) return {it->second, {}};
  if (const auto it = keys->refused.find(kid); it != keys->refused.end()) {
    return {nullptr,
            "token kid " + std::string(kid) + " names a key this service refuses: " + it->second};
  }
  {
    std::lock_guard lock(mutex_);
    refresh_requested_ = true;  // the refresher honours min_refresh, so this cannot storm
  }
  wake_.notify_all();
  return {nullptr, "token kid " + std::string(kid) + " names an unknown key of " + options_.issuer +
                       " (a refresh is requested)"};
}

KeyState OidcKeySource::State() const {
  std::lock_guard lock(mutex_);
  if (!keys_ || !last_success_ || Clock::now() - *last_success_ > options_.key_max_age) {
    return KeyState::kUnavailable;
  }
  return last_error_.empty() ? KeyState::kOk : KeyState::kStale;
}

nlohmann::json OidcKeySource::Describe() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = {{"source", "openid-connect"}, {"jwks_uri", jwks_uri_}};
  auto ids = nlohmann::json::array();
  if (keys_) {
    for (const auto& [kid, key] : keys_->keys) ids.push_back(kid);
  }
  out["keys"] = std::move(ids);
  const auto now = Clock::now();
  if (last_success_) {
    out["last_refresh_age_s"] =
        std::chrono::duration_cast<std::chrono::seconds>(now - *last_success_).count();
  }
  if (!last_error_.empty()) out["last_error"] = last_error_;
  return out;
}

bool OidcKeySource::WaitForFirstFetch(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  fetched_.wait_for(lock, timeout, [this] { return fetches_ > 0; });
  return keys_ != nullptr;
}

std::size_t OidcKeySource::FetchCount() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

void OidcKeySource::Run() {
  std::unique_lock lock(mutex_);
  auto next = Clock::now();
  while (true) {
    wake_.wait_until(lock, next, [&] { return stopping_ || refresh_requested_; });
    if (stopping_) break;
    // Scheduled or requested, a fetch never follows the previous one within min_refresh.
    if (last_attempt_ &&
        wake_.wait_until(lock, *last_attempt_ + options_.min_refresh, [&] { return stopping_; })) {
      break;
    }
    refresh_requested_ = false;
    last_attempt_ = Clock::now();
    lock.unlock();
    next = Refresh();
    lock.lock();
  }
}

OidcKeySource::Clock::time_point OidcKeySource::Refresh() {
  std::string jwks_uri, etag;
  {
    std::lock_guard lock(mutex_);
    jwks_uri = jwks_uri_;
    etag = etag_;
  }
  std::string error;
  std::shared_ptr<const KeySet> fresh;
  std::chrono::seconds keep = options_.max_refresh;
  bool not_modified = false;
  std::string new_etag;
  [&] {
    if (jwks_uri.empty()) {
      const std::string url = options_.issuer + (options_.issuer.back() == '/' ? "" : "/") +
                              ".well-known/openid-configuration";
      const auto discovery = HttpGet(url, options_.fetch_timeout, options_.max_body_bytes);
      if (!discovery.error.empty() || discovery.status != 200) {
        error = "discovery " + url + ": " +
                (discovery.error.empty() ? "HTTP " + std::to_string(discovery.status)
                                         : discovery.error);
        return;
      }
      const auto doc = nlohmann::json::parse(discovery.body, nullptr, false);
      if (!doc.is_object()) {
        error = "discovery " + url + ": not a JSON object: " + Clip(discovery.body);
        return;
      }
      // OpenID Connect Discovery §4.3: the document must name the issuer that was asked for.
      if (!doc.contains("issuer") || doc["issuer"] != options_.issuer) {
        error = "discovery " + url + ": issuer " +
                (doc.contains("issuer") ? doc["issuer"].dump() : std::string("(none)")) +
                " is not " + options_.issuer;
        return;
      }
      if (!doc.contains("jwks_uri") || !doc["jwks_uri"].is_string() ||
          !IsHttpUrl(doc["jwks_uri"].get<std::string>())) {
        error = "discovery " + url + ": no http(s) jwks_uri";
        return;
      }
      jwks_uri = doc["jwks_uri"].get<std::string>();
      if (options_.issuer.rfind("https://", 0) == 0 && jwks_uri.rfind("https://", 0) != 0) {
        error = "discovery " + url + ": jwks_uri " + jwks_uri + " is not https like the issuer";
        jwks_uri.clear();
        return;
      }
      std::lock_guard lock(mutex_);
      jwks_uri_ = jwks_uri;
    }
    const auto response = HttpGet(jwks_uri, options_.fetch_timeout, options_.max_body_bytes, etag);
    if (!response.error.empty()) {
      error = "jwks " + jwks_uri + ": " + response.error;
      return;
    }
    if (const auto fresh_for = Freshness(response)) keep = *fresh_for;
    if (response.status == 304 && !etag.empty()) {
      not_modified = true;
      return;
    }
    if (response.status != 200) {
      error = "jwks " + jwks_uri + ": HTTP " + std::to_string(response.status);
      return;
    }
    try {
      auto set = std::make_shared<KeySet>(ParseJwks(response.body));
      if (set->keys.empty()) {
        error = "jwks " + jwks_uri + ": no usable signing key";
        for (const auto& [kid, why] : set->refused) error += "; " + kid + ": " + why;
        return;
      }
      fresh = std::move(set);
      new_etag = response.etag;
    } catch (const std::exception& parse_error) {
      error = "jwks " + jwks_uri + ": " + parse_error.what() + ": " + Clip(response.body);
    }
  }();

  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  ++fetches_;
  fetched_.notify_all();
  if (!error.empty()) {
    // Rediscover next time: the provider may have moved its jwks_uri.
    jwks_uri_.clear();
    etag_.clear();
    const bool first = last_error_.empty();
    last_error_ = error;
    if (first) {
      log::Warn("identity provider refresh failed; cached keys keep serving",
                {{"issuer", options_.issuer},
                 {"error", error},
                 {"keys", keys_ ? keys_->keys.size() : 0}});
    }
    return now + options_.min_refresh;
  }
  if (!last_error_.empty() || !keys_) {
    log::Info("identity provider keys loaded",
              {{"issuer", options_.issuer}, {"jwks_uri", jwks_uri}});
  }
  last_error_.clear();
  last_success_ = now;
  if (!not_modified && fresh) {
    if (!keys_ || keys_->refused != fresh->refused) {
      for (const auto& [kid, why] : fresh->refused) {
        log::Info("identity provider key not used",
                  {{"issuer", options_.issuer}, {"kid", kid}, {"reason", why}});
      }
    }
    keys_ = std::move(fresh);
    etag_ = new_etag;
  }
  return now + std::clamp(keep, options_.min_refresh, options_.max_refresh);
}

}  // namespace jilaf::auth
