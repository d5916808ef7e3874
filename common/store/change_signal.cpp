#include "common/store/change_signal.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "common/log/log.hpp"
#include "common/store/postgres.hpp"

namespace jilaf::store {

ChangeSignal::ChangeSignal(const StoreOptions& options, std::string channel,
                           std::function<void()> on_signal)
    : options_(options), channel_(std::move(channel)), on_signal_(std::move(on_signal)) {}

ChangeSignal::~ChangeSignal() { Stop(); }

void ChangeSignal::Start() {
  if (options_.engine != Engine::kPostgres || running_.exchange(true)) return;
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw StoreError(1, "change signal: cannot create an eventfd");
  thread_ = std::thread([this] { Run(); });
}

void ChangeSignal::Stop() {
  if (!running_.exchange(false)) return;
  const std::uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  close(stop_fd_);
  stop_fd_ = -1;
}

void ChangeSignal::Run() {
  pthread_setname_np(pthread_self(), "store-listen");
  std::unique_ptr<pg::Db> db;
  std::chrono::milliseconds retry{0};
  bool reported_down = false;
  while (running_) {
    if (!db) {
      try {
        db = std::make_unique<pg::Db>(
            pg::ConnectionOptions{options_.database_url, options_.database_password_file,
                                  options_.database_name, options_.connect_timeout_s});
        db->Exec("LISTEN \"" + channel_ + "\"");
        listening_ = true;
        retry = std::chrono::milliseconds(0);
        if (reported_down) log::Info("listening for changes again", {{"channel", channel_}});
        reported_down = false;
        on_signal_();  // whatever was committed while nobody listened
      } catch (const StoreError& error) {
        db.reset();
        listening_ = false;
        if (!reported_down) {
          log::Warn("cannot listen for changes; retrying",
                    {{"channel", channel_}, {"error", error.what()}});
        }
        reported_down = true;
        retry = std::clamp(retry * 2, kRetryMin, kRetryMax);
      }
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {db ? PQsocket(db->handle()) : -1, POLLIN, 0}};
    const int timeout = db ? -1 : static_cast<int>(retry.count());
    if (poll(fds, db ? 2 : 1, timeout) < 0 && errno != EINTR) break;
    if (!running_ || (fds[0].revents & POLLIN) != 0) break;
    if (!db || fds[1].revents == 0) continue;
    // Readable: notifications, or the end of the session (a server shut down, a backend
    // terminated), which PQconsumeInput reports.
    bool signalled = false;
    const bool read = PQconsumeInput(db->handle()) == 1;
    while (PGnotify* notify = PQnotifies(db->handle())) {
      signalled = true;
      PQfreemem(notify);
    }
    if (!read || PQstatus(db->handle()) != CONNECTION_OK) {
      log::Warn("change listener lost its connection", {{"channel", channel_}});
      db.reset();
      listening_ = false;
      reported_down = true;
      retry = kRetryMin;
    }
    if (signalled) on_signal_();
  }
  listening_ = false;
}

}  // namespace jilaf::store
