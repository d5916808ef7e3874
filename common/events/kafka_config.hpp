#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace jilaf::config {
class Flags;
}

namespace jilaf::events {

/// How the process's Kafka clients reach the brokers (docs/operations.md, "Kafka security"):
/// TLS with the brokers' CA, optionally a client certificate (mTLS), optionally SASL
/// SCRAM-SHA-512 with the password read from a file (a mounted secret, never a flag value).
struct KafkaSecurity {
  std::string protocol = "plaintext";  // plaintext, ssl or sasl_ssl
  std::string ca_file;                 // PEM bundle of the CA that signed the brokers
  std::string cert_file;               // client certificate (PEM) for mTLS; with key_file
  std::string key_file;                // its private key (PEM)
  std::string sasl_mechanism = "SCRAM-SHA-512";
  std::string sasl_username;
  std::string sasl_password_file;
};

/// One command-line setting of KafkaSecurity: `--<name>` (or JILAF_<NAME>) sets `field`.
struct SecurityFlag {
  const char* name;
  std::string KafkaSecurity::*field;
  const char* help;
};

/// The settings every Kafka client of the project takes: --kafka-security-protocol,
/// --kafka-ca-file, --kafka-cert-file, --kafka-key-file, --kafka-sasl-mechanism,
/// --kafka-sasl-username, --kafka-sasl-password-file.
[[nodiscard]] const std::vector<SecurityFlag>& SecurityFlags();

/// Registers SecurityFlags() on `flags`, writing into `security`.
void RegisterSecurityFlags(config::Flags& flags, KafkaSecurity& security);

/// The librdkafka properties of `security`. Throws std::invalid_argument naming the setting for
/// an unknown protocol or mechanism, a file that cannot be read, half an mTLS pair, SASL
/// without a user or password, or TLS settings given with plaintext.
[[nodiscard]] std::map<std::string, std::string> SecurityProperties(const KafkaSecurity& security);

/// Adds `properties` (SecurityProperties) to every configuration MakeConf builds from now on;
/// call once at start, before any Kafka client exists.
void SetProcessKafkaSecurity(std::map<std::string, std::string> properties);

/// Builds a librdkafka configuration from key/value pairs (after the process's security
/// properties); throws std::invalid_argument naming the property librdkafka refused.
std::unique_ptr<RdKafka::Conf> MakeConf(const std::map<std::string, std::string>& properties);

/// The producer settings every relay and dead-letter producer shares: idempotence, acks=all,
/// and the Java client's key hashing so keys land where Java producers would put them.
std::map<std::string, std::string> ProducerProperties(const std::string& brokers,
                                                      const std::string& client_id,
                                                      int message_timeout_ms);

/// Sends librdkafka's own log lines and errors to the JSON-lines log instead of raw stderr.
class KafkaLogger : public RdKafka::EventCb {
 public:
  explicit KafkaLogger(std::string client) : client_(std::move(client)) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  std::string client_;
};

/// Installs `logger` as the configuration's event callback.
void SetLogger(RdKafka::Conf& conf, KafkaLogger* logger);

/// Headers of a consumed message as plain pairs.
std::vector<std::pair<std::string, std::string>> HeadersOf(RdKafka::Message& message);

}  // namespace jilaf::events
