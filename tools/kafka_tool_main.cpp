// jilaf-kafka-tool: reads whole topics and produces raw messages, for scripts/faults' checker.
//
//   jilaf-kafka-tool dump --brokers B TOPIC...
//     every message of each TOPIC from the earliest offset up to the high watermark at start,
//     one JSON line each: {"topic","partition","offset","key","headers":{},"size","value"}
//     ("value" is left out above 64 KiB; invalid UTF-8 is replaced).
//   jilaf-kafka-tool produce --brokers B --topic T [--key K] [--value V | --value-size N]
//                            [--header NAME=VALUE]...
//     one message, waiting for the broker's acknowledgement; --value-size N sends N bytes of 'x'.
//
// Both take the services' Kafka security settings (docs/operations.md, "Kafka security"):
// --kafka-security-protocol, --kafka-ca-file, --kafka-cert-file, --kafka-key-file,
// --kafka-sasl-mechanism, --kafka-sasl-username, --kafka-sasl-password-file, or the same
// JILAF_KAFKA_* variables. Exit status: 0 done, 1 failed (a refusal by the broker included),
// 2 bad settings.
#include <librdkafka/rdkafkacpp.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config/flags.hpp"
#include "common/events/kafka_config.hpp"

namespace {

using jilaf::events::MakeConf;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "jilaf-kafka-tool: " << message << "\n";
  std::exit(1);
}

constexpr std::size_t kMaxPrintedValue = 64 * 1024;

int PartitionCount(RdKafka::Handle& handle, const std::string& topic) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle_topic(
      RdKafka::Topic::create(&handle, topic, nullptr, error));
  if (!handle_topic) Fail("topic handle: " + error);
  RdKafka::Metadata* raw = nullptr;
  const auto err = handle.metadata(false, handle_topic.get(), &raw, 30000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) Fail("metadata of " + topic + ": " + RdKafka::err2str(err));
  for (const auto* entry : *metadata->topics()) {
    if (entry->topic() == topic && entry->err() == RdKafka::ERR_NO_ERROR) {
      return static_cast<int>(entry->partitions()->size());
    }
  }
  Fail("no such topic: " + topic);
}

int Dump(const std::string& brokers, const std::vector<std::string>& topics) {
  auto conf = MakeConf({{"bootstrap.servers", brokers},
                        {"group.id", "jilaf-kafka-tool-dump"},
                        {"enable.auto.commit", "false"},
                        {"enable.partition.eof", "false"},
                        {"fetch.message.max.bytes", "2097152"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) Fail("consumer: " + error);
  std::vector<RdKafka::TopicPartition*> assignment;
  std::map<std::pair<std::string, int>, std::int64_t> remaining_end;  // partition -> high mark
  for (const auto& topic : topics) {
    const int partitions = PartitionCount(*consumer, topic);
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      const auto err = consumer->query_watermark_offsets(topic, p, &low, &high, 30000);
      if (err != RdKafka::ERR_NO_ERROR)
        Fail("watermarks of " + topic + ": " + RdKafka::err2str(err));
      if (high > low) {
        remaining_end[{topic, p}] = high;
        assignment.push_back(RdKafka::TopicPartition::create(topic, p, low));
      }
    }
  }
  if (!assignment.empty()) consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  while (!remaining_end.empty()) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(30000));
    if (message->err() == RdKafka::ERR__TIMED_OUT) Fail("timed out reading the topics");
    if (message->err() != RdKafka::ERR_NO_ERROR) Fail("consume: " + message->errstr());
    const std::pair<std::string, int> where{message->topic_name(), message->partition()};
    const auto end = remaining_end.find(where);
    if (end == remaining_end.end()) continue;
    nlohmann::json line = {{"topic", where.first},
                           {"partition", where.second},
                           {"offset", message->offset()},
                           {"size", message->len()}};
    if (const std::string* key = message->key()) line["key"] = *key;
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : jilaf::events::HeadersOf(*message)) headers[name] = value;
    line["headers"] = std::move(headers);
    if (message->payload() != nullptr && message->len() <= kMaxPrintedValue) {
      line["value"] = std::string(static_cast<const char*>(message->payload()), message->len());
    }
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (message->offset() + 1 >= end->second) remaining_end.erase(end);
  }
  consumer->close();
  return 0;
}

// Remembers the delivery outcome: flush() returns once the queue is empty, failed or not.
class DeliveryResult : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    error = message.err();
    text = message.errstr();
  }
  RdKafka::ErrorCode error = RdKafka::ERR__IN_PROGRESS;
  std::string text;
};

int Produce(const std::string& brokers, const std::map<std::string, std::string>& options,
            const std::vector<std::pair<std::string, std::string>>& headers) {
  const auto topic = options.find("topic");
  if (topic == options.end()) Fail("produce needs --topic");
  std::string value;
  if (auto it = options.find("value"); it != options.end()) value = it->second;
  if (auto it = options.find("value-size"); it != options.end()) {
    value.assign(static_cast<std::size_t>(std::stoll(it->second)), 'x');
  }
  const auto key_it = options.find("key");
  const std::string key = key_it == options.end() ? std::string() : key_it->second;
  auto conf = MakeConf({{"bootstrap.servers", brokers},
                        {"acks", "all"},
                        {"message.max.bytes", "2000000"},
                        {"message.timeout.ms", "30000"}});
  std::string error;
  DeliveryResult result;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&result), error) !=
      RdKafka::Conf::CONF_OK) {
    Fail("dr_cb: " + error);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) Fail("producer: " + error);
  RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
  for (const auto& [name, header] : headers) kafka_headers->add(name, header);
  const auto err = producer->produce(
      topic->second, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, value.data(),
      value.size(), key.empty() ? nullptr : key.data(), key.size(), 0, kafka_headers, nullptr);
  if (err != RdKafka::ERR_NO_ERROR) {
    delete kafka_headers;
    Fail("produce: " + RdKafka::err2str(err));
  }
  producer->flush(30000);
  if (result.error != RdKafka::ERR_NO_ERROR) {
    Fail("the broker did not acknowledge the message: " + result.text);
  }
  return 0;
}

// The security settings from the command line, else from the environment (JILAF_KAFKA_...).
void ApplySecurity(const std::map<std::string, std::string>& options) {
  jilaf::events::KafkaSecurity security;
  for (const auto& flag : jilaf::events::SecurityFlags()) {
    if (const auto it = options.find(flag.name); it != options.end()) {
      security.*flag.field = it->second;
    } else if (const char* value = std::getenv(jilaf::config::Flags::EnvName(flag.name).c_str())) {
      security.*flag.field = value;
    }
  }
  try {
    jilaf::events::SetProcessKafkaSecurity(jilaf::events::SecurityProperties(security));
  } catch (const std::exception& error) {
    std::cerr << "jilaf-kafka-tool: " << error.what() << "\n";
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Fail("usage: jilaf-kafka-tool dump|produce --brokers B ... (see the source)");
  const std::string command = argv[1];
  std::map<std::string, std::string> options;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) Fail(arg + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--header") {
        const auto eq = value.find('=');
        if (eq == std::string::npos) Fail("--header wants NAME=VALUE");
        headers.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      } else {
        options[arg.substr(2)] = value;
      }
    } else {
      positional.push_back(arg);
    }
  }
  const auto brokers = options.find("brokers");
  if (brokers == options.end()) Fail("--brokers is required");
  ApplySecurity(options);
  if (command == "dump") return Dump(brokers->second, positional);
  if (command == "produce") return Produce(brokers->second, options, headers);
  Fail("unknown command " + command);
}
