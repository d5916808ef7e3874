#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace RdKafka {
class KafkaConsumer;
}

namespace jilaf::analytics {

/// Where one partition stands: the group's committed offset and the partition's end.
struct PartitionPosition {
  std::string topic;
  int partition = 0;
  std::int64_t committed = -1;  // -1: nothing committed yet
  std::int64_t low = 0;
  std::int64_t high = 0;
};

/// Reads and moves a consumer group's committed offsets without joining the group, so the
/// platform's Consumer (which starts from the committed offsets) can be told where to begin and
/// watched until it has caught up. Only use while no member of the group is running when
/// moving offsets.
class GroupOffsets {
 public:
  GroupOffsets(const std::string& brokers, const std::string& group,
               const std::vector<std::string>& topics);
  ~GroupOffsets();
  GroupOffsets(const GroupOffsets&) = delete;
  GroupOffsets& operator=(const GroupOffsets&) = delete;

  /// Commits each partition's earliest offset: the next run re-reads everything.
  void RewindToEarliest();
  /// Commits, per partition, the offset of the first message at or after `since_ms` (Unix
  /// milliseconds), or the end when there is none.
  void RewindToTime(std::int64_t since_ms);
  /// Commits `offset` for each (topic, partition) given.
  void RewindTo(const std::vector<std::tuple<std::string, int, std::int64_t>>& offsets);
  /// The partitions' committed offsets and watermarks now.
  std::vector<PartitionPosition> Positions();
  /// True when every partition's committed offset has reached `targets`' high watermark.
  bool Reached(const std::vector<PartitionPosition>& targets);

 private:
  struct Partition {
    std::string topic;
    int partition;
  };
  void Commit(const std::vector<std::pair<Partition, std::int64_t>>& offsets);

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<Partition> partitions_;
  std::chrono::milliseconds timeout_{10000};
};

}  // namespace jilaf::analytics
