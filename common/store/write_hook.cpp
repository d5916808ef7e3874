#include "common/store/write_hook.hpp"

namespace jilaf::store {
namespace {

thread_local std::shared_ptr<WriteHook> current_hook;

}  // namespace

std::shared_ptr<WriteHook> CurrentWriteHook() { return current_hook; }

ScopedWriteHook::ScopedWriteHook(std::shared_ptr<WriteHook> hook)
    : previous_(std::exchange(current_hook, std::move(hook))) {}

ScopedWriteHook::~ScopedWriteHook() { current_hook = std::move(previous_); }

}  // namespace jilaf::store
