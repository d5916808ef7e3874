#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Where webhooks may go: the checks that keep a webhook URL from reaching the internal network
// (server-side request forgery). Registration refuses what it can know; delivery checks again,
// resolves the name once and connects only to the addresses it checked.
namespace jilaf::notifications {

/// What kind of address an IP address is; everything but kPublic is refused for webhooks.
enum class AddressClass {
  kPublic,
  kUnspecified,  // 0.0.0.0/8, ::
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // RFC 1918, and IPv6 site-local fec0::/10
  kSharedCgnat,  // 100.64.0.0/10 (RFC 6598)
  kLinkLocal,    // 169.254.0.0/16, fe80::/10
  kMetadata,     // cloud metadata: 169.254.169.254, fd00:ec2::254
  kUniqueLocal,  // fc00::/7
  kMulticast,    // 224.0.0.0/4, ff00::/8
  kMappedIpv4,   // ::ffff:0:0/96 and ::/96 (IPv4 written as IPv6)
  kReserved,     // documentation, benchmarking, 240.0.0.0/4, broadcast, Teredo, discard
};

/// A short stable name of the class ("loopback", "private", ...).
[[nodiscard]] std::string_view AddressClassName(AddressClass kind);

/// The class of a numeric IPv4 or IPv6 address (brackets and a zone allowed around IPv6); nullopt
/// when `text` is not an address. NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses take the
/// class of the IPv4 address they carry.
[[nodiscard]] std::optional<AddressClass> ClassifyAddress(std::string_view text);

/// Which hosts may break the rules, for development and tests: a host listed here may be reached
/// over plain http and at any address. Nothing is listed by default.
struct EgressPolicy {
  std::vector<std::string> dev_hosts;  // host names or addresses, compared case-insensitively

  /// "a,b,c" (spaces ignored); empty text lists nothing.
  static EgressPolicy Parse(std::string_view list);
  [[nodiscard]] bool IsDevHost(std::string_view host) const;
};

/// Why a webhook URL is refused, or what delivery checked.
struct EgressCheck {
  bool ok = false;
  /// On refusal: "refused_url" (not an http(s) URL, or http for a host not listed) or
  /// "refused_address" (an internal address), or "dns" (the name does not resolve).
  std::string category;
  std::string reason;  // for admins and the log; names the host and the address
  std::string url;     // the URL as curl normalised it
  std::string host;    // without IPv6 brackets
  long port = 0;
  bool dev = false;                    // a listed development host
  std::vector<std::string> addresses;  // resolved and checked, numeric
};

/// Checks the URL's shape: https (http only for a listed host), a host, no internal address
/// literal. Does not resolve.
[[nodiscard]] EgressCheck CheckWebhookUrl(const std::string& url, const EgressPolicy& policy);

/// CheckWebhookUrl, then resolves the host once and checks every address it resolves to. A name
/// that does not resolve is category "dns".
[[nodiscard]] EgressCheck ResolveWebhookUrl(const std::string& url, const EgressPolicy& policy);

}  // namespace jilaf::notifications
