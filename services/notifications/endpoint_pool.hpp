#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace jilaf::notifications {

/// A fixed set of worker threads that run submitted work with never more than `per_endpoint`
/// items at once for the same endpoint; queued items start in their order as far as that limit
/// allows, so one slow endpoint holds up only its own items. Each item has a key (a delivery id)
/// that is never queued or running twice, nor run again in the pass it finished in (see
/// BeginPass). Thread-safe.
class EndpointPool {
 public:
  EndpointPool(int workers, int per_endpoint);
  /// Stop().
  ~EndpointPool();
  EndpointPool(const EndpointPool&) = delete;
  EndpointPool& operator=(const EndpointPool&) = delete;

  /// Lets running items finish, drops queued ones, joins the workers; Submit refuses from then
  /// on. Idempotent.
  void Stop();
  /// Starts a pass: forgets which keys finished, so they may be submitted again. Call before
  /// reading what is due, so that an item finishing after that read is refused this pass.
  void BeginPass();
  /// Queues `work` for `endpoint` unless `key` is queued, running or finished this pass; false
  /// then. `work` must not throw (an exception is logged and the item counts as done).
  bool Submit(const std::string& key, const std::string& endpoint, std::function<void()> work);
  /// Items queued or running.
  [[nodiscard]] std::size_t Busy();

 private:
  struct Item {
    std::string key;
    std::string endpoint;
    std::function<void()> work;
  };
  void Work();

  const int per_endpoint_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::unordered_set<std::string> busy_;      // keys queued or running
  std::unordered_set<std::string> finished_;  // keys done since BeginPass
  std::unordered_map<std::string, int> running_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

/// The endpoint a delivery's attempt talks to, for the per-endpoint limit: "smtp://host:port"
/// for email (every mail goes to the one SMTP server), the scheme, host and port of the URL for
/// a webhook, "" for what sends nothing over the network.
[[nodiscard]] std::string EndpointOf(const std::string& channel, const std::string& url,
                                     const std::string& smtp_host, std::int64_t smtp_port);

}  // namespace jilaf::notifications
