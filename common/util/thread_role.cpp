#include "common/util/thread_role.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

namespace jilaf::util {
namespace {
thread_local bool t_io_thread = false;
thread_local std::vector<std::function<void()>> t_end_of_round;
}  // namespace

void MarkIoThread() { t_io_thread = true; }

bool OnIoThread() { return t_io_thread; }

void AtEndOfRound(std::function<void()> release) {
  if (!t_io_thread) throw std::logic_error("AtEndOfRound called outside an io thread");
  t_end_of_round.push_back(std::move(release));
}

void EndRound() {
  // Swapped out first: a release may register again (it never does today, but it must not
  // invalidate the loop).
  std::vector<std::function<void()>> due;
  due.swap(t_end_of_round);
  for (auto& release : due) release();
  if (t_end_of_round.empty()) {
    due.clear();
    t_end_of_round.swap(due);  // keep the capacity: no allocation per round
  }
}

}  // namespace jilaf::util
