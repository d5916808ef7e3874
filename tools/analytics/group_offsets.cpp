#include "tools/analytics/group_offsets.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <stdexcept>

#include "common/events/kafka_config.hpp"

namespace jilaf::analytics {
namespace {

void DestroyAll(std::vector<RdKafka::TopicPartition*>& list) {
  RdKafka::TopicPartition::destroy(list);
  list.clear();
}

}  // namespace

GroupOffsets::GroupOffsets(const std::string& brokers, const std::string& group,
                           const std::vector<std::string>& topics) {
  auto conf = events::MakeConf({{"bootstrap.servers", brokers},
                                {"group.id", group},
                                {"client.id", group + "-offsets"},
                                {"enable.auto.commit", "false"}});
  std::string error;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw std::runtime_error("cannot create kafka client: " + error);
  for (const auto& topic : topics) {
    std::unique_ptr<RdKafka::Topic> handle(
        RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
    if (!handle) throw std::runtime_error("topic " + topic + ": " + error);
    RdKafka::Metadata* raw = nullptr;
    const auto err =
        consumer_->metadata(false, handle.get(), &raw, static_cast<int>(timeout_.count()));
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("metadata of " + topic + ": " + RdKafka::err2str(err));
    }
    for (const auto* t : *metadata->topics()) {
      if (t->err() != RdKafka::ERR_NO_ERROR) {
        throw std::runtime_error("topic " + topic + ": " + RdKafka::err2str(t->err()));
      }
      for (const auto* p : *t->partitions()) partitions_.push_back({topic, p->id()});
    }
  }
}

GroupOffsets::~GroupOffsets() {
  if (consumer_) consumer_->close();
}

void GroupOffsets::Commit(const std::vector<std::pair<Partition, std::int64_t>>& offsets) {
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& [p, offset] : offsets) {
    list.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, offset));
  }
  const auto err = consumer_->commitSync(list);
  DestroyAll(list);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("cannot commit offsets: " + RdKafka::err2str(err));
  }
}

void GroupOffsets::RewindTo(
    const std::vector<std::tuple<std::string, int, std::int64_t>>& offsets) {
  std::vector<std::pair<Partition, std::int64_t>> commits;
  for (const auto& [topic, partition, offset] : offsets)
    commits.push_back({{topic, partition}, offset});
  if (!commits.empty()) Commit(commits);
}

void GroupOffsets::RewindToEarliest() {
  std::vector<std::pair<Partition, std::int64_t>> offsets;
  for (const auto& p : partitions_) {
    std::int64_t low = 0, high = 0;
    const auto err = consumer_->query_watermark_offsets(p.topic, p.partition, &low, &high,
                                                        static_cast<int>(timeout_.count()));
    if (err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("watermarks of " + p.topic + ": " + RdKafka::err2str(err));
    }
    offsets.push_back({p, low});
  }
  Commit(offsets);
}

void GroupOffsets::RewindToTime(std::int64_t since_ms) {
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& p : partitions_) {
    list.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, since_ms));
  }
  const auto err = consumer_->offsetsForTimes(list, static_cast<int>(timeout_.count()));
  if (err != RdKafka::ERR_NO_ERROR) {
    DestroyAll(list);
    throw std::runtime_error("offsets for time: " + RdKafka::err2str(err));
  }
  std::vector<std::pair<Partition, std::int64_t>> offsets;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::int64_t offset = list[i]->offset();
    if (offset < 0) {  // no message at or after the time: start at the end
      std::int64_t low = 0;
      consumer_->query_watermark_offsets(partitions_[i].topic, partitions_[i].partition, &low,
                                         &offset, static_cast<int>(timeout_.count()));
    }
    offsets.push_back({partitions_[i], offset});
  }
  DestroyAll(list);
  Commit(offsets);
}

std::vector<PartitionPosition> GroupOffsets::Positions() {
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& p : partitions_) {
    list.push_back(RdKafka::TopicPartition::create(p.topic, p.partition));
  }
  const auto err = consumer_->committed(list, static_cast<int>(timeout_.count()));
  std::vector<PartitionPosition> out;
  if (err != RdKafka::ERR_NO_ERROR) {
    DestroyAll(list);
    throw std::runtime_error("committed offsets: " + RdKafka::err2str(err));
  }
  for (auto* tp : list) {
    PartitionPosition position{tp->topic(), tp->partition(), tp->offset() >= 0 ? tp->offset() : -1};
    consumer_->query_watermark_offsets(tp->topic(), tp->partition(), &position.low, &position.high,
                                       static_cast<int>(timeout_.count()));
    out.push_back(position);
  }
  DestroyAll(list);
  return out;
}

bool GroupOffsets::Reached(const std::vector<PartitionPosition>& targets) {
  std::map<std::pair<std::string, int>, std::int64_t> committed;
  for (const auto& p : Positions()) committed[{p.topic, p.partition}] = p.committed;
  for (const auto& target : targets) {
    if (target.high <= target.low) continue;  // nothing to read there
    const auto it = committed.find({target.topic, target.partition});
    if (it == committed.end() || it->second < target.high) return false;
  }
  return true;
}

}  // namespace jilaf::analytics
