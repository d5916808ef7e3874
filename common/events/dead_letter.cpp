#include "common/events/dead_letter.hpp"

namespace jilaf::events {

void DeliveryOutcome::dr_cb(RdKafka::Message& message) {
  const bool ok = message.err() == RdKafka::ERR_NO_ERROR;
  {
    std::lock_guard lock(mutex_);
    error_ = ok ? std::string() : message.errstr();
  }
  acknowledged_ = ok;
}

void DeliveryOutcome::Reset() {
  std::lock_guard lock(mutex_);
  error_ = "no delivery report";
  acknowledged_ = false;
}

std::string DeliveryOutcome::Error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace jilaf::events
