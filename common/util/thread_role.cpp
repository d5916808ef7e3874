#include "common/util/thread_role.hpp"

namespace jilaf::util {
namespace {
thread_local bool t_io_thread = false;
}  // namespace

void MarkIoThread() { t_io_thread = true; }

bool OnIoThread() { return t_io_thread; }

}  // namespace jilaf::util
