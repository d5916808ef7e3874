// Least privilege and input hygiene (issue 19, part 4): the e-mail address syntax, mail headers
// that cannot be injected, the security headers of every response, integer query parameters
// that cannot overflow.
#include <gtest/gtest.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "common/aggregate/view.hpp"
#include "common/config/flags.hpp"
#include "common/events/consumer.hpp"
#include "common/events/kafka_config.hpp"
#include "common/http/json_input.hpp"
#include "common/http/pipeline.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/text.hpp"
#include "services/notifications/channels.hpp"

namespace jilaf {
namespace {

TEST(EmailAddressSyntax, AcceptsRfc5321Mailboxes) {
  for (const char* address :
       {"name@example.org", "first.last@mail.example.co.jp", "a+tag@example.org",
        "o'brien@example.ie", "x_y-z@sub-domain.example", "!#$%&'*+-/=?^_`{|}~@example.org",
        "lan@example.org", "e2e-1234abcd@partner.example", "山田@例え.jp"}) {
    EXPECT_TRUE(util::IsEmailAddress(address)) << address;
  }
}

TEST(EmailAddressSyntax, RefusesHeaderAndCommandInjection) {
  for (const char* address : {"a@example.org\r\nBcc: victim@example.org",
                              "a@example.org\nX: y",
                              "a\r@example.org",
                              "Name <a@example.org>",
                              "<a@example.org>",
                              "a@example.org>",
                              "a b@example.org",
                              "a@example.org ",
                              "\ta@example.org",
                              "a@exa\x01mple.org",
                              "\"quoted\"@example.org",
                              "a@[127.0.0.1]",
                              "a@@example.org",
                              "a@b@example.org",
                              "@example.org",
                              "a@",
                              "a",
                              "a@localhost",
                              ".a@example.org",
                              "a.@example.org",
                              "a..b@example.org",
                              "a@-example.org",
                              "a@example-.org",
                              "a@example..org",
                              "a@example.org.",
                              "a@.example.org",
                              "a,b@example.org",
                              "a;b@example.org",
                              "a(b)@example.org"}) {
    EXPECT_FALSE(util::IsEmailAddress(address)) << address;
  }
  EXPECT_FALSE(util::IsEmailAddress(std::string(65, 'a') + "@example.org"));
  EXPECT_TRUE(util::IsEmailAddress(std::string(64, 'a') + "@example.org"));
  EXPECT_FALSE(util::IsEmailAddress("a@" + std::string(64, 'b') + ".org"));
  EXPECT_FALSE(util::IsEmailAddress("a@" + std::string(250, 'b') + ".org"));
}

TEST(EmailAddressSyntax, ObjectReaderNamesTheField) {
  const nlohmann::json body = {{"email", "a@example.org\r\nBcc: victim@example.org"},
                               {"contact", "Boss <boss@example.org>"}};
  http::ObjectReader in(body);
  (void)in.RequiredEmail("email");
  (void)in.OptionalEmail("contact");
  try {
    in.Finish();
    FAIL() << "accepted";
  } catch (const http::ApiError& error) {
    const auto& problem = error.extensions();
    EXPECT_EQ(error.status(), 422);
    ASSERT_EQ(problem["errors"].size(), 2u) << problem.dump();
    EXPECT_EQ(problem["errors"][0]["field"], "/email");
    EXPECT_EQ(problem["errors"][1]["field"], "/contact");
  }
}

std::string DecodeWord(const std::string& word) {
  const std::string prefix = "=?UTF-8?B?";
  EXPECT_EQ(word.rfind(prefix, 0), 0u) << word;
  EXPECT_EQ(word.substr(word.size() - 2), "?=") << word;
  const std::string b64 = word.substr(prefix.size(), word.size() - prefix.size() - 2);
  std::string out(b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<std::size_t>(n));
  while (!b64.empty() && b64.back() == '=' && !out.empty() && out.back() == '\0') {
    out.pop_back();  // EVP_DecodeBlock keeps the padding's zero bytes
    if (b64.size() >= 2 && b64[b64.size() - 2] != '=') break;
  }
  return out;
}

// The header block of a formatted message, unfolded: name -> value (encoded-words decoded).
std::map<std::string, std::string> Headers(const std::string& message) {
  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= head.size()) {
    const auto end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
    if (!line.empty() && line[0] == ' ') {
      lines.back() += line;
    } else {
      lines.push_back(line);
    }
    if (end == std::string::npos) break;
    start = end + 2;
  }
  std::map<std::string, std::string> out;
  for (const auto& line : lines) {
    const auto colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    std::string value = line.substr(colon + 2);
    if (value.rfind("=?UTF-8?B?", 0) == 0) {
      std::string decoded;
      std::istringstream words(value);
      for (std::string word; words >> word;) {
        if (word.rfind("=?", 0) == 0) {
          decoded += DecodeWord(word);
        } else {
          decoded += " " + word;
        }
      }
      value = decoded;
    }
    out[line.substr(0, colon)] = value;
  }
  return out;
}

TEST(MailHeaders, EncodeJapaneseSubjectsAndNamesAsRfc2047Words) {
  notifications::SmtpOptions options;
  options.from = "国際労働財団 JILAF <noreply@jilaf.example>";
  notifications::Email email;
  email.to = "lan@example.org";
  email.to_name = "グエン・ラン";
  email.subject =
      "【JILAF】グエン ラン 様のご推薦を受け付けました。今後ともよろしくお願い申し上げます。"
      "国際労働財団";
  email.body = "本文";
  email.message_id = "d1@notifications.jilaf";
  const auto headers = Headers(notifications::FormatEmail(options, email));
  EXPECT_EQ(headers.at("Subject"), email.subject);
  EXPECT_EQ(headers.at("From"), "国際労働財団 JILAF <noreply@jilaf.example>");
  EXPECT_EQ(headers.at("To"), "グエン・ラン <lan@example.org>");
}

TEST(MailHeaders, LineBreaksInTextsCannotStartAHeader) {
  notifications::SmtpOptions options;
  options.from = "JILAF \"Office\" <noreply@jilaf.example>";
  notifications::Email email;
  email.to = "lan@example.org";
  email.to_name = "Lan\r\nBcc: victim@example.org";
  email.subject = "Hello\r\nBcc: victim@example.org";
  email.headers = {{"List-Unsubscribe", "<https://x/u>\r\nBcc: victim@example.org"},
                   {"Bad: Name", "x"},
                   {"X-Ok", "plain"}};
  email.message_id = "d2@notifications.jilaf";
  const std::string message = notifications::FormatEmail(options, email);
  EXPECT_EQ(message.find("\r\nBcc:"), std::string::npos) << message;
  EXPECT_EQ(message.find("\nBcc:"), std::string::npos) << message;
  const auto headers = Headers(message);
  EXPECT_EQ(headers.count("Bcc"), 0u);
  EXPECT_EQ(headers.count("Bad"), 0u);
  EXPECT_EQ(headers.at("X-Ok"), "plain");
  EXPECT_EQ(headers.at("Subject"), email.subject);  // encoded, and intact once decoded
  EXPECT_EQ(headers.at("From"), "\"JILAF \\\"Office\\\"\" <noreply@jilaf.example>");
}

TEST(MailHeaders, AnInvalidRecipientIsRefusedBeforeAnyConnection) {
  notifications::SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = 1;  // nothing listens: a connection attempt would fail as "smtp"
  notifications::Email email;
  email.to = "a@example.org>\r\nRCPT TO:<victim@example.org";
  const auto result = notifications::SendEmail(options, email);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.permanent);
  EXPECT_EQ(result.category, "invalid_address");
}

TEST(SecurityHeaders, EveryResponseGetsThemUnlessTheHandlerChose) {
  auto json = http::Response::Json(200, {{"email", "a@example.org"}});
  http::ApplySecurityHeaders(json);
  EXPECT_EQ(json.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(json.Header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(json.Header("Cache-Control"), "no-store");
  EXPECT_EQ(json.Header("Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'");

  http::Response letter;
  letter.SetHeader("Content-Type", "text/html; charset=utf-8");
  http::ApplySecurityHeaders(letter);
  EXPECT_NE(letter.Header("Content-Security-Policy").find("style-src 'unsafe-inline'"),
            std::string::npos);
  EXPECT_NE(letter.Header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(letter.Header("Cache-Control"), "no-store");

  auto docs = http::Response::Empty(200);
  docs.SetHeader("Cache-Control", "public, max-age=86400");
  http::ApplySecurityHeaders(docs);
  EXPECT_EQ(docs.Header("Cache-Control"), "public, max-age=86400");
}

TEST(ViewerMasking, MasksTheNamedPathsForViewersOnly) {
  const nlohmann::json doc = {
      {"id", "p1"},
      {"name", "VGCL"},
      {"contact", {{"name", "Lan"}, {"email", "lan@example.org"}, {"phone", "+84 1"}}},
      {"registrations",
       {{{"name", "A"}, {"email", "a@example.org"}, {"seats", 1}}, {{"name", "B"}}}},
      {"version", 3}};
  const std::vector<std::string> paths = {"contact", "registrations[].email", "absent.path"};
  const auto masked = aggregate::Masked(doc, paths);
  EXPECT_EQ(masked["contact"],
            nlohmann::json({{"name", "***"}, {"email", "***"}, {"phone", "***"}}));
  EXPECT_EQ(masked["registrations"][0]["email"], "***");
  EXPECT_EQ(masked["registrations"][0]["name"], "A");
  EXPECT_EQ(masked["registrations"][0]["seats"], 1);
  EXPECT_FALSE(masked["registrations"][1].contains("email"));
  EXPECT_EQ(masked["name"], "VGCL");
  EXPECT_EQ(masked["version"], 3);
  EXPECT_EQ(masked.dump().find("example.org"), std::string::npos);

  const auth::Principal viewer{"v", {auth::Role::kViewer}, true};
  EXPECT_EQ(aggregate::ForReader(doc, viewer, paths), masked);
  for (const auto role : {auth::Role::kStaff, auth::Role::kAdmin, auth::Role::kService}) {
    EXPECT_EQ(aggregate::ForReader(doc, {"s", {role}, true}, paths), doc);
  }
  // Several roles: the widest one decides.
  EXPECT_EQ(
      aggregate::ForReader(doc, {"s", {auth::Role::kViewer, auth::Role::kStaff}, true}, paths),
      doc);
}

TEST(ViewerMasking, ViewerViewKeepsAllowedMembersHidesAndMasks) {
  const nlohmann::json doc = {
      {"id", "n1"},
      {"candidate", {{"family_name", "Tran"}, {"email", "t@example.org"}, {"union", "VGCL"}}},
      {"letters", {{{"to", "a@example.org"}, {"kind", "invitation"}}, {{"kind", "guarantor"}}}},
      {"history", {1, 2}},
      {"note", "call +84 1"}};
  const aggregate::ViewerView view{
      {{"candidate", {"family_name", "nationality"}}, {"letters[]", {"kind"}}, {"absent", {"x"}}},
      {"history", "absent.member"},
      {"note"}};
  const nlohmann::json expected = {{"id", "n1"},
                                   {"candidate", {{"family_name", "Tran"}}},
                                   {"letters", {{{"kind", "invitation"}}, {{"kind", "guarantor"}}}},
                                   {"note", "***"}};
  EXPECT_EQ(aggregate::ForViewer(doc, view), expected);
  EXPECT_EQ(aggregate::MaskedExceptLast("C1234567", 3), "*****567");
  EXPECT_EQ(aggregate::MaskedExceptLast("AB1", 3), "***");
  EXPECT_EQ(aggregate::MaskedExceptLast("", 3), "");
}

TEST(EventSources, OnlyTheTopicsOwnerMayPublishOnIt) {
  EXPECT_FALSE(events::SourceRefusal("jilaf.invitations.events", "/jilaf/invitations"));
  EXPECT_FALSE(events::SourceRefusal("jilaf.projects.events", "/jilaf/projects"));
  const auto forged = events::SourceRefusal("jilaf.invitations.events", "/jilaf/projects");
  ASSERT_TRUE(forged);
  EXPECT_NE(forged->find("source /jilaf/projects does not own topic jilaf.invitations.events"),
            std::string::npos)
      << *forged;
  EXPECT_TRUE(events::SourceRefusal("jilaf.invitations.events", "/jilaf/invitations/x"));
  EXPECT_TRUE(events::SourceRefusal("jilaf.invitations.events", ""));
  EXPECT_TRUE(events::SourceRefusal("jilaf.missions.events", "/e2e"));
  // Topics that are no service's event topic are not checked.
  EXPECT_FALSE(events::SourceRefusal("test.inbox-retention.1", "/jilaf/test"));
  EXPECT_FALSE(events::SourceRefusal("jilaf.notifications.dlq", "/anything"));
  EXPECT_FALSE(events::SourceRefusal("jilaf.events", "/jilaf/"));
}

class KafkaSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jilaf-kafka-security-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    for (const char* name : {"ca.pem", "client.pem", "client.key"})
      Write(name, "-----BEGIN-----\n");
    Write("password", "s3cret-from-a-secret\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  [[nodiscard]] std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(KafkaSecurityTest, MapsTlsMtlsAndScramOntoLibrdkafkaProperties) {
  EXPECT_TRUE(events::SecurityProperties({}).empty());  // plaintext by default

  events::KafkaSecurity mtls;
  mtls.protocol = "ssl";
  mtls.ca_file = Path("ca.pem");
  mtls.cert_file = Path("client.pem");
  mtls.key_file = Path("client.key");
  const auto tls = events::SecurityProperties(mtls);
  EXPECT_EQ(tls.at("security.protocol"), "ssl");
  EXPECT_EQ(tls.at("ssl.ca.location"), Path("ca.pem"));
  EXPECT_EQ(tls.at("ssl.certificate.location"), Path("client.pem"));
  EXPECT_EQ(tls.at("ssl.key.location"), Path("client.key"));
  EXPECT_EQ(tls.count("sasl.mechanisms"), 0u);

  events::KafkaSecurity scram;
  scram.protocol = "sasl_ssl";
  scram.ca_file = Path("ca.pem");
  scram.sasl_username = "notifications";
  scram.sasl_password_file = Path("password");
  const auto sasl = events::SecurityProperties(scram);
  EXPECT_EQ(sasl.at("security.protocol"), "sasl_ssl");
  EXPECT_EQ(sasl.at("sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(sasl.at("sasl.username"), "notifications");
  EXPECT_EQ(sasl.at("sasl.password"), "s3cret-from-a-secret");  // first line, no newline
  // librdkafka (Debian's build) accepts every one of them.
  auto props = sasl;
  props.erase("ssl.ca.location");  // the placeholder file is no CA; the names are what counts
  EXPECT_NO_THROW((void)events::MakeConf(props));
}

TEST_F(KafkaSecurityTest, RefusesIncompleteOrContradictorySettingsNamingThem) {
  const auto refusal = [](const events::KafkaSecurity& security) {
    try {
      (void)events::SecurityProperties(security);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  events::KafkaSecurity s;
  s.protocol = "sasl_plaintext";
  EXPECT_NE(refusal(s).find("--kafka-security-protocol"), std::string::npos);
  s = {};
  s.ca_file = Path("ca.pem");  // TLS settings with plaintext
  EXPECT_NE(refusal(s).find("plaintext"), std::string::npos);
  s = {};
  s.protocol = "ssl";
  s.ca_file = Path("missing.pem");
  EXPECT_NE(refusal(s).find("--kafka-ca-file"), std::string::npos);
  s = {};
  s.protocol = "ssl";
  s.cert_file = Path("client.pem");  // no key
  EXPECT_NE(refusal(s).find("--kafka-key-file"), std::string::npos);
  s = {};
  s.protocol = "sasl_ssl";
  s.sasl_username = "notifications";  // no password file
  EXPECT_NE(refusal(s).find("--kafka-sasl-password-file"), std::string::npos);
  s.sasl_password_file = Path("password");
  s.sasl_mechanism = "PLAIN";
  EXPECT_NE(refusal(s).find("--kafka-sasl-mechanism"), std::string::npos);
  s = {};
  s.protocol = "ssl";
  s.sasl_username = "x";
  EXPECT_NE(refusal(s).find("SASL"), std::string::npos);
}

TEST_F(KafkaSecurityTest, ServicesAnalyticsAndToolsReadTheSameSettings) {
  // One table serves the services, analytics and jilaf-kafka-tool: flags win over JILAF_*.
  events::KafkaSecurity security;
  config::Flags flags("jilaf-test", "test");
  events::RegisterSecurityFlags(flags, security);
  bool help = false;
  const auto error = flags.Parse(
      {"--kafka-security-protocol=sasl_ssl", "--kafka-sasl-username=analytics"},
      [this](const char* name) -> const char* {
        static std::string value;
        if (std::string(name) == "JILAF_KAFKA_SASL_USERNAME") return "ignored";
        if (std::string(name) != "JILAF_KAFKA_SASL_PASSWORD_FILE") return nullptr;
        value = Path("password");
        return value.c_str();
      },
      help);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(security.protocol, "sasl_ssl");
  EXPECT_EQ(security.sasl_username, "analytics");
  EXPECT_EQ(security.sasl_password_file, Path("password"));
  EXPECT_EQ(events::SecurityProperties(security).at("sasl.password"), "s3cret-from-a-secret");
  EXPECT_EQ(events::SecurityFlags().size(), 7u);
  for (const auto& flag : events::SecurityFlags()) {
    EXPECT_NE(flags.Usage().find(std::string("--") + flag.name), std::string::npos) << flag.name;
  }
}

TEST(QueryIntegers, RefuseWhatWouldOverflowInsteadOfWrapping) {
  const auto max = std::numeric_limits<std::int64_t>::max();
  http::Request request;
  request.query["n"] = "9223372036854775807";
  EXPECT_EQ(http::QueryInt(request, "n", 0, max), max);
  for (const char* text : {"9223372036854775808", "9999999999999999999", "18446744073709551617"}) {
    request.query["n"] = text;
    EXPECT_THROW((void)http::QueryInt(request, "n", 0, max), http::ApiError) << text;
    EXPECT_THROW((void)http::QueryInt(request, "n", std::numeric_limits<std::int64_t>::min(), max),
                 http::ApiError)
        << text;
  }
}

}  // namespace
}  // namespace jilaf
