// jilaf-topic-dump: the contract check's view of the test broker. Reads every topic (internal
// "__" topics aside, and the "test." topics tests create for their own use, outside the
// contract) and writes each record as one JSON line; or notes where each partition
// ends now, so that a later dump reads only what came after (a broker reused across runs).
//
//   jilaf-topic-dump --bootstrap HOST:PORT --offsets-out FILE
//   jilaf-topic-dump --bootstrap HOST:PORT [--from FILE] --out FILE
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

struct Partition {
  std::string topic;
  int32_t id = 0;
  int64_t low = 0;
  int64_t high = 0;
  [[nodiscard]] std::string Name() const { return topic + "/" + std::to_string(id); }
};

int Fail(const std::string& message) {
  std::cerr << "jilaf-topic-dump: " << message << '\n';
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (args.count("--bootstrap") == 0 ||
      (args.count("--out") == 0 && args.count("--offsets-out") == 0)) {
    return Fail("usage: --bootstrap HOST:PORT (--offsets-out FILE | [--from FILE] --out FILE)");
  }
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", args["--bootstrap"], error);
  conf->set("group.id", "jilaf-topic-dump", error);  // never committed: offsets are assigned
  conf->set("enable.auto.commit", "false", error);
  conf->set("enable.partition.eof", "true", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) return Fail(error);

  RdKafka::Metadata* raw_metadata = nullptr;
  if (consumer->metadata(true, nullptr, &raw_metadata, 30000) != RdKafka::ERR_NO_ERROR) {
    return Fail("cannot read the broker's metadata");
  }
  const std::unique_ptr<RdKafka::Metadata> metadata(raw_metadata);
  std::vector<Partition> partitions;
  for (const auto* topic : *metadata->topics()) {
    if (topic->topic().rfind("__", 0) == 0 || topic->topic().rfind("test.", 0) == 0) continue;
    for (const auto* partition : *topic->partitions()) {
      Partition p{topic->topic(), partition->id()};
      if (consumer->query_watermark_offsets(p.topic, p.id, &p.low, &p.high, 30000) !=
          RdKafka::ERR_NO_ERROR) {
        return Fail("cannot read the offsets of " + p.Name());
      }
      partitions.push_back(p);
    }
  }

  if (args.count("--offsets-out") != 0) {
    nlohmann::json ends = nlohmann::json::object();
    for (const auto& p : partitions) ends[p.Name()] = p.high;
    std::ofstream(args["--offsets-out"]) << ends.dump(2) << '\n';
    return 0;
  }

  nlohmann::json from = nlohmann::json::object();
  if (args.count("--from") != 0) {
    std::ifstream in(args["--from"]);
    from = nlohmann::json::parse(in, nullptr, false);
    if (!from.is_object()) return Fail("cannot read " + args["--from"]);
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  std::map<std::string, int64_t> remaining_until;  // partition → offset still to reach
  for (const auto& p : partitions) {
    const int64_t start = std::max(p.low, from.value(p.Name(), int64_t{0}));
    if (start >= p.high) continue;
    assignment.push_back(RdKafka::TopicPartition::create(p.topic, p.id, start));
    remaining_until[p.Name()] = p.high;
  }
  std::ofstream out(args["--out"]);
  if (!assignment.empty()) consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::size_t records = 0;
  while (!remaining_until.empty()) {
    if (std::chrono::steady_clock::now() > deadline) return Fail("timed out reading the topics");
    const std::unique_ptr<RdKafka::Message> message(consumer->consume(500));
    if (message->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (message->err() == RdKafka::ERR__PARTITION_EOF) {  // read to the end (gaps included)
      remaining_until.erase(message->topic_name() + "/" + std::to_string(message->partition()));
      continue;
    }
    if (message->err() != RdKafka::ERR_NO_ERROR) return Fail(message->errstr());
    const std::string name = message->topic_name() + "/" + std::to_string(message->partition());
    const auto it = remaining_until.find(name);
    if (it == remaining_until.end() || message->offset() >= it->second) continue;
    nlohmann::json headers = nlohmann::json::object();
    if (message->headers() != nullptr) {
      for (const auto& header : message->headers()->get_all()) {
        headers[header.key()] =
            std::string(static_cast<const char*>(header.value()), header.value_size());
      }
    }
    const nlohmann::json line = {
        {"topic", message->topic_name()},
        {"partition", message->partition()},
        {"offset", message->offset()},
        {"key", message->key() == nullptr ? nlohmann::json() : nlohmann::json(*message->key())},
        {"headers", headers},
        {"value", std::string(static_cast<const char*>(message->payload()), message->len())}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    ++records;
    if (message->offset() + 1 >= it->second) remaining_until.erase(it);
  }
  consumer->close();
  std::cerr << "jilaf-topic-dump: " << records << " records\n";
  return 0;
}
