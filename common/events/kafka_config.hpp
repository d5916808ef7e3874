#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

namespace jilaf::events {

/// Builds a librdkafka configuration from key/value pairs; throws std::invalid_argument naming
/// the property librdkafka refused.
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
