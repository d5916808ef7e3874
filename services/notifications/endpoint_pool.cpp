#include "services/notifications/endpoint_pool.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "common/log/log.hpp"

namespace jilaf::notifications {

EndpointPool::EndpointPool(int workers, int per_endpoint)
    : per_endpoint_(std::max(per_endpoint, 1)) {
  for (int i = 0; i < std::max(workers, 1); ++i) workers_.emplace_back([this] { Work(); });
}

EndpointPool::~EndpointPool() { Stop(); }

void EndpointPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& item : queue_) busy_.erase(item.key);
    queue_.clear();  // not started: still due in the store, sent after the restart
  }
  changed_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void EndpointPool::BeginPass() {
  std::lock_guard lock(mutex_);
  finished_.clear();
}

bool EndpointPool::Submit(const std::string& key, const std::string& endpoint,
                          std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || busy_.contains(key) || finished_.contains(key)) return false;
    busy_.insert(key);
    queue_.push_back({key, endpoint, std::move(work)});
  }
  changed_.notify_all();
  return true;
}

std::size_t EndpointPool::Busy() {
  std::lock_guard lock(mutex_);
  return busy_.size();
}

void EndpointPool::Work() {
  std::unique_lock lock(mutex_);
  while (true) {
    auto next = queue_.end();
    changed_.wait(lock, [&] {
      next = std::find_if(queue_.begin(), queue_.end(), [&](const Item& item) {
        return running_[item.endpoint] < per_endpoint_;
      });
      return stopping_ || next != queue_.end();
    });
    if (stopping_) return;
    Item item = std::move(*next);
    queue_.erase(next);
    ++running_[item.endpoint];
    lock.unlock();
    try {
      item.work();
    } catch (const std::exception& error) {
      log::Error("a dispatch worker's item failed", {{"key", item.key}, {"error", error.what()}});
    }
    lock.lock();
    --running_[item.endpoint];
    busy_.erase(item.key);
    finished_.insert(item.key);
    changed_.notify_all();
  }
}

std::string EndpointOf(const std::string& channel, const std::string& url,
                       const std::string& smtp_host, std::int64_t smtp_port) {
  if (channel == "email") return "smtp://" + smtp_host + ":" + std::to_string(smtp_port);
  if (channel != "webhook" || url.empty()) return {};
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto host_start = scheme_end + 3;
  auto authority = url.substr(host_start, url.find_first_of("/?#", host_start) - host_start);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::transform(authority.begin(), authority.end(), authority.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return url.substr(0, host_start) + authority;
}

}  // namespace jilaf::notifications
