// Webhook egress: the address classifier and the URL checks that keep webhooks off the internal
// network (issue 19, "no SSRF"). Delivery against real servers is in component/egress_test.cpp.
#include "services/notifications/egress.hpp"

#include <gtest/gtest.h>

#include "services/notifications/deliveries.hpp"

namespace jilaf::notifications {
namespace {

AddressClass Class(std::string_view text) {
  const auto kind = ClassifyAddress(text);
  EXPECT_TRUE(kind.has_value()) << text;
  return kind.value_or(AddressClass::kPublic);
}

TEST(AddressClassifier, NamesEveryInternalIpv4Range) {
  EXPECT_EQ(Class("127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(Class("127.255.255.254"), AddressClass::kLoopback);
  EXPECT_EQ(Class("10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("172.16.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("172.31.255.255"), AddressClass::kPrivate);
  EXPECT_EQ(Class("192.168.1.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("100.64.0.1"), AddressClass::kSharedCgnat);
  EXPECT_EQ(Class("100.127.255.255"), AddressClass::kSharedCgnat);
  EXPECT_EQ(Class("169.254.169.254"), AddressClass::kMetadata);
  EXPECT_EQ(Class("169.254.1.1"), AddressClass::kLinkLocal);
  EXPECT_EQ(Class("0.0.0.0"), AddressClass::kUnspecified);
  EXPECT_EQ(Class("224.0.0.251"), AddressClass::kMulticast);
  EXPECT_EQ(Class("255.255.255.255"), AddressClass::kReserved);
  EXPECT_EQ(Class("192.0.2.10"), AddressClass::kReserved);
}

TEST(AddressClassifier, KeepsThePublicInternetPublic) {
  for (const char* address :
       {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0",
        "11.0.0.1", "193.0.14.129", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e"}) {
    EXPECT_EQ(Class(address), AddressClass::kPublic) << address;
  }
}

TEST(AddressClassifier, NamesEveryInternalIpv6Range) {
  EXPECT_EQ(Class("::1"), AddressClass::kLoopback);
  EXPECT_EQ(Class("[::1]"), AddressClass::kLoopback);
  EXPECT_EQ(Class("::"), AddressClass::kUnspecified);
  EXPECT_EQ(Class("fe80::1"), AddressClass::kLinkLocal);
  EXPECT_EQ(Class("fe80::1%eth0"), AddressClass::kLinkLocal);
  EXPECT_EQ(Class("fc00::1"), AddressClass::kUniqueLocal);
  EXPECT_EQ(Class("fd12:3456::1"), AddressClass::kUniqueLocal);
  EXPECT_EQ(Class("fd00:ec2::254"), AddressClass::kMetadata);
  EXPECT_EQ(Class("ff02::1"), AddressClass::kMulticast);
  EXPECT_EQ(Class("fec0::1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("2001:db8::1"), AddressClass::kReserved);
}

TEST(AddressClassifier, SeesIpv4InsideIpv6) {
  // Mapped addresses are refused whatever they carry: resolvers do not hand them out.
  EXPECT_EQ(Class("::ffff:127.0.0.1"), AddressClass::kMappedIpv4);
  EXPECT_EQ(Class("::ffff:8.8.8.8"), AddressClass::kMappedIpv4);
  EXPECT_EQ(Class("::10.0.0.1"), AddressClass::kMappedIpv4);
  // NAT64 and 6to4 take the class of the IPv4 address they carry.
  EXPECT_EQ(Class("64:ff9b::a9fe:a9fe"), AddressClass::kMetadata);
  EXPECT_EQ(Class("64:ff9b::808:808"), AddressClass::kPublic);
  EXPECT_EQ(Class("2002:0a00:0001::1"), AddressClass::kPrivate);
}

TEST(AddressClassifier, RefusesToClassifyNames) {
  EXPECT_FALSE(ClassifyAddress("localhost"));
  EXPECT_FALSE(ClassifyAddress("example.org"));
  EXPECT_FALSE(ClassifyAddress(""));
}

struct Refusal {
  const char* url;
  const char* category;
};

TEST(WebhookUrlCheck, RefusesEveryKnowableBadUrl) {
  const EgressPolicy policy;
  for (const auto& [url, category] : {
           Refusal{"https://127.0.0.1/hook", "refused_address"},
           Refusal{"https://[::1]:8443/hook", "refused_address"},
           Refusal{"https://169.254.169.254/latest/meta-data/", "refused_address"},
           Refusal{"https://10.0.0.1/hook", "refused_address"},
           Refusal{"https://[fd00:ec2::254]/", "refused_address"},
           Refusal{"https://[::ffff:127.0.0.1]/", "refused_address"},
           Refusal{"https://0x7f000001/", "refused_address"},  // 127.0.0.1 in another spelling
           Refusal{"https://2130706433/", "refused_address"},
           Refusal{"file:///etc/passwd", "refused_url"},
           Refusal{"gopher://example.org/_x", "refused_url"},
           Refusal{"ftp://example.org/", "refused_url"},
           Refusal{"http://example.org/hook", "refused_url"},  // plain http, host not listed
           Refusal{"not a url", "refused_url"},
       }) {
    const auto check = ResolveWebhookUrl(url, policy);
    EXPECT_FALSE(check.ok) << url;
    EXPECT_EQ(check.category, category) << url << ": " << check.reason;
    EXPECT_FALSE(check.reason.empty()) << url;
  }
}

TEST(WebhookUrlCheck, RefusesANameThatResolvesToLoopback) {
  const auto check = ResolveWebhookUrl("https://localhost:9443/hook", EgressPolicy{});
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.category, "refused_address") << check.reason;
  EXPECT_NE(check.reason.find("loopback"), std::string::npos) << check.reason;
}

TEST(WebhookUrlCheck, ListedDevelopmentHostsMayUseHttpAndInternalAddresses) {
  const auto policy = EgressPolicy::Parse(" 127.0.0.1, LocalHost ,[::1]");
  ASSERT_EQ(policy.dev_hosts.size(), 3u);
  auto check = ResolveWebhookUrl("http://127.0.0.1:8080/hook", policy);
  EXPECT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(check.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(check.port, 8080);
  check = ResolveWebhookUrl("http://localhost:8080/hook", policy);
  EXPECT_TRUE(check.ok) << check.reason;
  EXPECT_FALSE(check.addresses.empty());
  EXPECT_TRUE(ResolveWebhookUrl("http://[::1]:8080/", policy).ok);
  // Listing one host opens nothing else.
  check = ResolveWebhookUrl("http://10.0.0.1/hook", policy);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.category, "refused_url");
  EXPECT_EQ(ResolveWebhookUrl("https://10.0.0.1/hook", policy).category, "refused_address");
  EXPECT_EQ(ResolveWebhookUrl("file:///etc/passwd", policy).category, "refused_url");
}

TEST(WebhookUrlCheck, AcceptsHttpsToAPublicAddress) {
  const auto check = ResolveWebhookUrl("https://93.184.216.34/hooks/jilaf", EgressPolicy{});
  EXPECT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(check.port, 443);
  EXPECT_EQ(check.addresses, std::vector<std::string>{"93.184.216.34"});
}

TEST(WebhookUrlCheck, ANameThatDoesNotResolveIsLeftForDelivery) {
  const auto check = ResolveWebhookUrl("https://no-such-host.invalid/hook", EgressPolicy{});
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.category, "dns");
}

TEST(DeliveryForReader, ShowsTransportErrorsOnlyToAdmins) {
  const nlohmann::json doc = {
      {"id", "d1"},
      {"status", "dead"},
      {"last_error", "webhook: host hooks.example is 10.0.0.7, a private address"},
      {"last_error_category", "refused_address"},
      {"recipient", {{"kind", "address"}, {"address", "crm@example.org"}}},
      {"content", {{"payload", "{\"id\":\"e1\"}"}}},
      {"history",
       {{{"attempt", 1},
         {"outcome", "failed"},
         {"error", "http: Couldn't connect to server"},
         {"category", "connect"}},
        {{"attempt", 2}, {"outcome", "failed"}, {"error", "written before categories"}}}}};
  auth::Principal admin{"a", {auth::Role::kAdmin}, true};
  EXPECT_EQ(DeliveryForReader(doc, admin), doc);
  for (const auto role : {auth::Role::kViewer, auth::Role::kStaff, auth::Role::kService}) {
    const auto seen = DeliveryForReader(doc, {"v", {role}, true});
    EXPECT_EQ(seen["recipient"]["address"],
              role == auth::Role::kViewer ? "***" : "crm@example.org");
    EXPECT_EQ(seen["content"]["payload"], role == auth::Role::kViewer ? "***" : "{\"id\":\"e1\"}");
    EXPECT_FALSE(seen.contains("last_error"));
    EXPECT_EQ(seen["last_error_category"], "refused_address");
    EXPECT_EQ(seen["history"][0]["outcome"], "failed");
    EXPECT_EQ(seen["history"][0]["category"], "connect");
    EXPECT_FALSE(seen["history"][0].contains("error"));
    EXPECT_EQ(seen["history"][1]["category"], "other");
    EXPECT_FALSE(seen["history"][1].contains("error"));
    EXPECT_EQ(seen.dump().find("10.0.0.7"), std::string::npos);
  }
}

}  // namespace
}  // namespace jilaf::notifications
