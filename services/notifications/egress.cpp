#include "services/notifications/egress.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

namespace jilaf::notifications {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool InBlock(std::uint32_t address, std::uint32_t block, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (address & mask) == (block & mask);
}

constexpr std::uint32_t V4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}

AddressClass ClassifyV4(std::uint32_t a) {
  if (a == V4(169, 254, 169, 254)) return AddressClass::kMetadata;
  if (InBlock(a, V4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (InBlock(a, V4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (InBlock(a, V4(10, 0, 0, 0), 8) || InBlock(a, V4(172, 16, 0, 0), 12) ||
      InBlock(a, V4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (InBlock(a, V4(100, 64, 0, 0), 10)) return AddressClass::kSharedCgnat;
  if (InBlock(a, V4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (InBlock(a, V4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (InBlock(a, V4(240, 0, 0, 0), 4) || InBlock(a, V4(192, 0, 0, 0), 24) ||
      InBlock(a, V4(192, 0, 2, 0), 24) || InBlock(a, V4(198, 18, 0, 0), 15) ||
      InBlock(a, V4(198, 51, 100, 0), 24) || InBlock(a, V4(203, 0, 113, 0), 24)) {
    return AddressClass::kReserved;  // 240/4 includes 255.255.255.255
  }
  return AddressClass::kPublic;
}

std::uint32_t V4At(const std::array<std::uint8_t, 16>& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | std::uint32_t{b[at + 3]};
}

bool Prefix(const std::array<std::uint8_t, 16>& b, std::initializer_list<std::uint8_t> head) {
  return std::equal(head.begin(), head.end(), b.begin());
}

AddressClass ClassifyV6(const std::array<std::uint8_t, 16>& b) {
  static constexpr std::array<std::uint8_t, 16> kMetadataV6 = {
      0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x54};
  if (b == kMetadataV6) return AddressClass::kMetadata;
  const bool first_80_zero = std::all_of(b.begin(), b.begin() + 10, [](auto x) { return x == 0; });
  if (first_80_zero && b[10] == 0xff && b[11] == 0xff) return AddressClass::kMappedIpv4;
  if (first_80_zero && b[10] == 0 && b[11] == 0) {
    if (V4At(b, 12) == 0) return AddressClass::kUnspecified;
    if (V4At(b, 12) == 1) return AddressClass::kLoopback;
    return AddressClass::kMappedIpv4;  // IPv4-compatible ::a.b.c.d
  }
  if (Prefix(b, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return ClassifyV4(V4At(b, 12));
  if (Prefix(b, {0x20, 0x02})) return ClassifyV4(V4At(b, 2));  // 6to4
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kUniqueLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;  // site-local
  if (Prefix(b, {0x20, 0x01, 0x0d, 0xb8}) || Prefix(b, {0x20, 0x01, 0x00, 0x00}) ||
      Prefix(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) {
    return AddressClass::kReserved;  // documentation, Teredo, discard-only
  }
  return AddressClass::kPublic;
}

std::string StripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::string UrlPart(CURLU* handle, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(handle, part, &text, flags) != CURLUE_OK || text == nullptr) return {};
  std::string out(text);
  curl_free(text);
  return out;
}

EgressCheck Refuse(EgressCheck check, std::string category, std::string reason) {
  check.ok = false;
  check.category = std::move(category);
  check.reason = std::move(reason);
  return check;
}

// Refuses `address` unless the host is a listed development host or the address is public.
std::optional<std::string> AddressRefusal(const EgressCheck& check, const std::string& address) {
  const auto kind = ClassifyAddress(address);
  if (!kind) return "host " + check.host + " gave " + address + ", which is not an IP address";
  if (check.dev || *kind == AddressClass::kPublic) return std::nullopt;
  return "host " + check.host + " is " + address + ", a " + std::string(AddressClassName(*kind)) +
         " address that webhooks may not reach";
}

}  // namespace

std::string_view AddressClassName(AddressClass kind) {
  switch (kind) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kSharedCgnat:
      return "shared (CGNAT)";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMetadata:
      return "cloud metadata";
    case AddressClass::kUniqueLocal:
      return "unique-local";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kMappedIpv4:
      return "IPv4-mapped IPv6";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

std::optional<AddressClass> ClassifyAddress(std::string_view text) {
  std::string host = StripBrackets(text);
  if (const auto zone = host.find('%'); zone != std::string::npos) host.resize(zone);
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return ClassifyV4(ntohl(v4.s_addr));
  std::array<std::uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1) return ClassifyV6(v6);
  return std::nullopt;
}

EgressPolicy EgressPolicy::Parse(std::string_view list) {
  EgressPolicy policy;
  std::string item;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ',') {
      if (!item.empty()) policy.dev_hosts.push_back(Lower(StripBrackets(item)));
      item.clear();
    } else if (list[i] != ' ') {
      item += list[i];
    }
  }
  return policy;
}

bool EgressPolicy::IsDevHost(std::string_view host) const {
  const std::string wanted = Lower(StripBrackets(host));
  return std::find(dev_hosts.begin(), dev_hosts.end(), wanted) != dev_hosts.end();
}

EgressCheck CheckWebhookUrl(const std::string& url, const EgressPolicy& policy) {
  EgressCheck check;
  std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Refuse(std::move(check), "refused_url", "not a URL");
  }
  const std::string scheme = Lower(UrlPart(handle.get(), CURLUPART_SCHEME));
  check.host = StripBrackets(UrlPart(handle.get(), CURLUPART_HOST));
  check.url = UrlPart(handle.get(), CURLUPART_URL);
  const std::string port = UrlPart(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  check.port = port.empty() ? 0 : std::strtol(port.c_str(), nullptr, 10);
  check.dev = !check.host.empty() && policy.IsDevHost(check.host);
  if (scheme != "https" && scheme != "http") {
    return Refuse(std::move(check), "refused_url", "scheme " + scheme + " is not https");
  }
  if (check.host.empty()) return Refuse(std::move(check), "refused_url", "the URL has no host");
  if (scheme == "http" && !check.dev) {
    return Refuse(std::move(check), "refused_url",
                  "plain http is allowed only for the hosts listed in --webhook-dev-hosts");
  }
  if (ClassifyAddress(check.host)) {
    if (auto refusal = AddressRefusal(check, check.host)) {
      return Refuse(std::move(check), "refused_address", std::move(*refusal));
    }
    check.addresses = {check.host};
  }
  check.ok = true;
  return check;
}

EgressCheck ResolveWebhookUrl(const std::string& url, const EgressPolicy& policy) {
  EgressCheck check = CheckWebhookUrl(url, policy);
  if (!check.ok || !check.addresses.empty()) return check;  // refused, or an address literal
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int status = getaddrinfo(check.host.c_str(), nullptr, &hints, &found);
  if (status != 0) {
    return Refuse(std::move(check), "dns",
                  "host " + check.host + " does not resolve: " + gai_strerror(status));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  for (const addrinfo* item = found; item != nullptr; item = item->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = item->ai_family == AF_INET
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(item->ai_addr)->sin_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(item->ai_addr)->sin6_addr);
    if (inet_ntop(item->ai_family, raw, text, sizeof text) == nullptr) continue;
    const std::string address = text;
    if (auto refusal = AddressRefusal(check, address)) {
      return Refuse(std::move(check), "refused_address", std::move(*refusal));
    }
    if (std::find(check.addresses.begin(), check.addresses.end(), address) ==
        check.addresses.end()) {
      check.addresses.push_back(address);
    }
  }
  if (check.addresses.empty()) {
    return Refuse(std::move(check), "dns", "host " + check.host + " has no IP address");
  }
  return check;
}

}  // namespace jilaf::notifications
