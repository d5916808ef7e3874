#pragma once

namespace jilaf::util {

/// Marks the calling thread as an io thread (one that runs sockets and must never block). Set
/// once by http::Runtime for each of its threads.
void MarkIoThread();

/// True on a thread marked by MarkIoThread. Blocking calls (a store write waiting for its
/// commit) check it, so a handler wrongly declared non-blocking fails loudly instead of
/// stalling every connection of its io thread.
[[nodiscard]] bool OnIoThread();

}  // namespace jilaf::util
