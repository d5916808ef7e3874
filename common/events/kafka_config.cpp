#include "common/events/kafka_config.hpp"

#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "common/config/flags.hpp"
#include "common/log/log.hpp"

namespace jilaf::events {
namespace {

std::mutex security_mutex;
std::map<std::string, std::string> process_security;  // guarded by security_mutex

// The file's first line (a password file may end in a newline).
std::string ReadSecretFile(const std::string& setting, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(setting + ": cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) throw std::invalid_argument(setting + ": " + path + " is empty");
  return line;
}

void RequireReadable(const std::string& setting, const std::string& path) {
  if (!std::ifstream(path)) throw std::invalid_argument(setting + ": cannot read " + path);
}

}  // namespace

const std::vector<SecurityFlag>& SecurityFlags() {
  static const std::vector<SecurityFlag> flags = {
      {"kafka-security-protocol", &KafkaSecurity::protocol,
       "plaintext, ssl (TLS; with --kafka-cert-file and --kafka-key-file, mTLS) or sasl_ssl (TLS "
       "and SASL SCRAM-SHA-512)."},
      {"kafka-ca-file", &KafkaSecurity::ca_file,
       "PEM file of the CA that signed the brokers' certificates (empty: the system's)."},
      {"kafka-cert-file", &KafkaSecurity::cert_file,
       "PEM client certificate for mTLS (with --kafka-key-file)."},
      {"kafka-key-file", &KafkaSecurity::key_file, "PEM private key of --kafka-cert-file."},
      {"kafka-sasl-mechanism", &KafkaSecurity::sasl_mechanism,
       "SASL mechanism with sasl_ssl; only SCRAM-SHA-512."},
      {"kafka-sasl-username", &KafkaSecurity::sasl_username,
       "SASL user (the client's KafkaUser) with sasl_ssl."},
      {"kafka-sasl-password-file", &KafkaSecurity::sasl_password_file,
       "File holding the SASL password (its first line), e.g. a mounted secret."},
  };
  return flags;
}

void RegisterSecurityFlags(config::Flags& flags, KafkaSecurity& security) {
  for (const auto& flag : SecurityFlags())
    flags.String(flag.name, &(security.*flag.field), flag.help);
}

std::map<std::string, std::string> SecurityProperties(const KafkaSecurity& security) {
  const auto& protocol = security.protocol;
  if (protocol != "plaintext" && protocol != "ssl" && protocol != "sasl_ssl") {
    throw std::invalid_argument("--kafka-security-protocol: '" + protocol +
                                "' is not plaintext, ssl or sasl_ssl");
  }
  const bool tls_settings =
      !security.ca_file.empty() || !security.cert_file.empty() || !security.key_file.empty();
  const bool sasl_settings =
      !security.sasl_username.empty() || !security.sasl_password_file.empty();
  if (protocol == "plaintext") {
    if (tls_settings || sasl_settings) {
      throw std::invalid_argument(
          "--kafka-security-protocol is plaintext, yet TLS or SASL settings are given");
    }
    return {};
  }
  std::map<std::string, std::string> out = {{"security.protocol", protocol}};
  if (!security.ca_file.empty()) {
    RequireReadable("--kafka-ca-file", security.ca_file);
    out["ssl.ca.location"] = security.ca_file;
  }
  if (security.cert_file.empty() != security.key_file.empty()) {
    throw std::invalid_argument("--kafka-cert-file and --kafka-key-file go together (mTLS)");
  }
  if (!security.cert_file.empty()) {
    RequireReadable("--kafka-cert-file", security.cert_file);
    RequireReadable("--kafka-key-file", security.key_file);
    out["ssl.certificate.location"] = security.cert_file;
    out["ssl.key.location"] = security.key_file;
  }
  if (protocol == "sasl_ssl") {
    if (security.sasl_mechanism != "SCRAM-SHA-512") {
      throw std::invalid_argument("--kafka-sasl-mechanism: only SCRAM-SHA-512 is supported");
    }
    if (security.sasl_username.empty() || security.sasl_password_file.empty()) {
      throw std::invalid_argument(
          "sasl_ssl needs --kafka-sasl-username and --kafka-sasl-password-file");
    }
    out["sasl.mechanisms"] = security.sasl_mechanism;
    out["sasl.username"] = security.sasl_username;
    out["sasl.password"] =
        ReadSecretFile("--kafka-sasl-password-file", security.sasl_password_file);
  } else if (sasl_settings) {
    throw std::invalid_argument("SASL settings are given, but --kafka-security-protocol is ssl");
  }
  return out;
}

void SetProcessKafkaSecurity(std::map<std::string, std::string> properties) {
  std::lock_guard lock(security_mutex);
  process_security = std::move(properties);
}

std::unique_ptr<RdKafka::Conf> MakeConf(const std::map<std::string, std::string>& properties) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  std::map<std::string, std::string> all;
  {
    std::lock_guard lock(security_mutex);
    all = process_security;
  }
  for (const auto& [name, value] : properties) all[name] = value;
  for (const auto& [name, value] : all) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      const bool secret = name == "sasl.password";
      throw std::invalid_argument("kafka setting " + name + "=" + (secret ? "(hidden)" : value) +
                                  ": " + error);
    }
  }
  return conf;
}

std::map<std::string, std::string> ProducerProperties(const std::string& brokers,
                                                      const std::string& client_id,
                                                      int message_timeout_ms) {
  return {
      {"bootstrap.servers", brokers},
      {"client.id", client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", std::to_string(message_timeout_ms)},
      // No lingering: the relay already hands over a commit's worth of events at once, and what
      // queues while a request is in flight is batched anyway. linger.ms=1 kept the broker
      // thread waking every millisecond (38 % of a core under the write benchmark) and added a
      // millisecond to every event (latency p50 4.0 -> 2.5 ms, docs/benchmarks.md).
      {"linger.ms", "0"},
      {"compression.type", "lz4"},
      {"socket.keepalive.enable", "true"},
      {"reconnect.backoff.max.ms", "2000"},
  };
}

void KafkaLogger::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR:
      // Broker-down and reconnect errors are routine during an outage; the relay and the
      // consumer retry on their own.
      log::Write(
          event.fatal() ? log::Level::kError : log::Level::kWarn, "kafka error",
          {{"client", client_}, {"error", event.str()}, {"code", RdKafka::err2str(event.err())}});
      break;
    case RdKafka::Event::EVENT_LOG: {
      const int severity = static_cast<int>(event.severity());
      const log::Level level = severity <= 3   ? log::Level::kError
                               : severity == 4 ? log::Level::kWarn
                               : severity <= 6 ? log::Level::kInfo
                                               : log::Level::kDebug;
      log::Write(level, "kafka log",
                 {{"client", client_}, {"facility", event.fac()}, {"text", event.str()}});
      break;
    }
    default:
      break;
  }
}

void SetLogger(RdKafka::Conf& conf, KafkaLogger* logger) {
  std::string error;
  if (conf.set("event_cb", static_cast<RdKafka::EventCb*>(logger), error) !=
      RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka event callback: " + error);
  }
}

std::vector<std::pair<std::string, std::string>> HeadersOf(RdKafka::Message& message) {
  std::vector<std::pair<std::string, std::string>> out;
  const RdKafka::Headers* headers = message.headers();
  if (headers == nullptr) return out;
  for (const auto& header : headers->get_all()) {
    out.emplace_back(header.key(), header.value() == nullptr
                                       ? std::string()
                                       : std::string(static_cast<const char*>(header.value()),
                                                     header.value_size()));
  }
  return out;
}

}  // namespace jilaf::events
