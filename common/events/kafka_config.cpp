#include "common/events/kafka_config.hpp"

#include <stdexcept>

#include "common/log/log.hpp"

namespace jilaf::events {

std::unique_ptr<RdKafka::Conf> MakeConf(const std::map<std::string, std::string>& properties) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [name, value] : properties) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      throw std::invalid_argument("kafka setting " + name + "=" + value + ": " + error);
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
