#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace jilaf::testing {

/// A child process (a real service binary) with its output sent to a log file. The destructor
/// stops it with SIGTERM, then SIGKILL if it does not exit in time.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::string& log_path);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  /// Sends a signal.
  void Signal(int signal) const;
  /// Waits for the exit; returns the exit status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  /// SIGTERM and wait; returns the exit status (SIGKILL after the timeout, then -1).
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  [[nodiscard]] bool Running();
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] const std::string& log_path() const { return log_path_; }

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process has not been given
/// before.
int FreePort();

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns the last result.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

/// Runs a shell command; returns its exit code and fills `output` with stdout and stderr.
int RunCommand(const std::string& command, std::string* output = nullptr);

/// A fresh temporary directory (removed by the caller if wanted).
std::string MakeTempDir(const std::string& prefix);

/// The last `lines` lines of a text file (for failure messages).
std::string TailFile(const std::string& path, int lines = 40);

}  // namespace jilaf::testing
