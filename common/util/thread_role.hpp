#pragma once

#include <functional>

namespace jilaf::util {

/// Marks the calling thread as an io thread (one that runs sockets and must never block). Set
/// once by http::Runtime for each of its threads.
void MarkIoThread();

/// True on a thread marked by MarkIoThread. Blocking calls (a store write waiting for its
/// commit) check it, so a handler wrongly declared non-blocking fails loudly instead of
/// stalling every connection of its io thread.
[[nodiscard]] bool OnIoThread();

/// An io thread runs its handlers in rounds: whatever one wait for readiness delivered, then
/// the thread waits again. Something the requests of one round may share (the store's read
/// transaction) registers its release here; it runs when the round ends, before the thread
/// waits, on the same thread. Registering on a thread that is not an io thread is a logic error.
void AtEndOfRound(std::function<void()> release);

/// Runs (and forgets) what AtEndOfRound registered on this thread. Called by http::Runtime's io
/// loop after each round and once more when the thread stops.
void EndRound();

}  // namespace jilaf::util
