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

/// Headers of a consumed message as plain pairs.
std::vector<std::pair<std::string, std::string>> HeadersOf(RdKafka::Message& message);

}  // namespace jilaf::events
