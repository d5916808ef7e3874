#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "services/notifications/endpoint_pool.hpp"

namespace jilaf::notifications {
namespace {

// Counts how many items run at once, overall and per endpoint, and remembers the peaks.
struct Concurrency {
  std::mutex mutex;
  int running = 0;
  int peak = 0;
  std::map<std::string, int> per;
  std::map<std::string, int> per_peak;

  void Enter(const std::string& endpoint) {
    std::lock_guard lock(mutex);
    peak = std::max(peak, ++running);
    per_peak[endpoint] = std::max(per_peak[endpoint], ++per[endpoint]);
  }
  void Leave(const std::string& endpoint) {
    std::lock_guard lock(mutex);
    --running;
    --per[endpoint];
  }
};

// Waits until `done` items finished (the pool runs them on its own threads).
void WaitFor(std::atomic<int>& done, int count) {
  for (int i = 0; i < 1000 && done < count; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(done, count);
}

TEST(EndpointPool, NeverExceedsTheWorkersNorThePerEndpointLimit) {
  Concurrency seen;
  std::atomic<int> done{0};
  EndpointPool pool(4, 2);
  for (int i = 0; i < 12; ++i) {
    const std::string endpoint = i % 3 == 0 ? "smtp://mail:25" : "https://a";
    EXPECT_TRUE(pool.Submit("d" + std::to_string(i), endpoint, [&, endpoint] {
      seen.Enter(endpoint);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      seen.Leave(endpoint);
      ++done;
    }));
  }
  WaitFor(done, 12);
  EXPECT_EQ(seen.per_peak["https://a"], 2);
  EXPECT_EQ(seen.per_peak["smtp://mail:25"], 2);
  EXPECT_LE(seen.peak, 4);
  EXPECT_GE(seen.peak, 3);  // both endpoints ran side by side
}

// A slow endpoint holds up only its own items: the others, even submitted later, finish while
// it still works.
TEST(EndpointPool, OthersFinishWhileOneEndpointIsSlow) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  int slow_running = 0;
  std::atomic<int> mails{0};
  std::atomic<int> slow_done{0};
  EndpointPool pool(3, 1);
  const auto slow = [&] {
    std::unique_lock lock(mutex);
    EXPECT_EQ(++slow_running, 1) << "two items of one endpoint ran at once";
    EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return release; }));
    --slow_running;
    ++slow_done;
  };
  EXPECT_TRUE(pool.Submit("w1", "https://slow", slow));
  EXPECT_TRUE(pool.Submit("w2", "https://slow", slow));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(pool.Submit("m" + std::to_string(i), "smtp://mail:25", [&] { ++mails; }));
  }
  WaitFor(mails, 3);
  EXPECT_EQ(slow_done, 0);
  EXPECT_EQ(pool.Busy(), 2u);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  WaitFor(slow_done, 2);
}

TEST(EndpointPool, AKeyIsNeverQueuedTwiceNorRunAgainInThePassItFinishedIn) {
  std::atomic<int> runs{0};
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  EndpointPool pool(2, 2);
  EXPECT_TRUE(pool.Submit("d1", "e", [&, opened] {
    opened.wait();
    ++runs;
  }));
  EXPECT_FALSE(pool.Submit("d1", "e", [&] { ++runs; }));  // in flight
  gate.set_value();
  WaitFor(runs, 1);
  for (int i = 0; i < 100 && pool.Busy() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(pool.Submit("d1", "e", [&] { ++runs; }));  // finished this pass
  pool.BeginPass();
  EXPECT_TRUE(pool.Submit("d1", "e", [&] { ++runs; }));  // a new pass may retry it
  WaitFor(runs, 2);
}

TEST(EndpointPool, StopFinishesWhatRunsAndDropsWhatIsQueued) {
  std::atomic<int> runs{0};
  std::promise<void> started;
  EndpointPool pool(1, 1);
  EXPECT_TRUE(pool.Submit("running", "e", [&] {
    started.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ++runs;
  }));
  EXPECT_TRUE(pool.Submit("queued", "e", [&] { runs += 10; }));
  started.get_future().wait();
  pool.Stop();
  EXPECT_EQ(runs, 1);  // the running item finished; the queued one never started
  EXPECT_EQ(pool.Busy(), 0u);
  EXPECT_FALSE(pool.Submit("late", "e", [&] { runs += 100; }));
  pool.Stop();  // idempotent
  EXPECT_EQ(runs, 1);
}

TEST(EndpointPool, AThrowingItemCountsAsDone) {
  std::atomic<int> done{0};
  EndpointPool pool(1, 1);
  EXPECT_TRUE(pool.Submit("bad", "e", [] { throw std::runtime_error("boom"); }));
  EXPECT_TRUE(pool.Submit("good", "e", [&] { ++done; }));
  WaitFor(done, 1);
}

TEST(EndpointOf, MailToTheServerWebhooksByHost) {
  EXPECT_EQ(EndpointOf("email", "", "mail.example", 587), "smtp://mail.example:587");
  EXPECT_EQ(EndpointOf("webhook", "https://CRM.example:8443/hooks/a?x=1", "m", 25),
            "https://crm.example:8443");
  EXPECT_EQ(EndpointOf("webhook", "https://crm.example/b", "m", 25),
            EndpointOf("webhook", "https://crm.example/hooks/a", "m", 25));
  EXPECT_EQ(EndpointOf("webhook", "https://user@crm.example/b", "m", 25), "https://crm.example");
  EXPECT_NE(EndpointOf("webhook", "http://crm.example/b", "m", 25),
            EndpointOf("webhook", "https://crm.example/b", "m", 25));
  EXPECT_EQ(EndpointOf("webhook", "", "m", 25), "");
  EXPECT_EQ(EndpointOf("inbox", "", "m", 25), "");
}

}  // namespace
}  // namespace jilaf::notifications
