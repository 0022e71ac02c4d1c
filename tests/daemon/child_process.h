// Runs the project's binaries (aftershockd, aftershock-feedsim) as child processes for the
// end-to-end tests: stdout and stderr go to files the test reads; every wait has a deadline
// and a child still running at the end is killed. Not thread-safe; one test thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace aftershock::test {

class child_process {
 public:
  /// Starts build/bin/`binary` with `args`; output files are named after `tag`.
  child_process(const std::string& binary, const std::vector<std::string>& args,
                const std::string& tag);
  ~child_process();  // SIGKILL if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  std::string out() const;  // what it wrote so far
  std::string err() const;
  void signal(int sig) const;
  /// Exit code (128 + signal if killed), or -1 if it is still running at the deadline.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string out_path_, err_path_;
};

/// The whole file, or "" if it cannot be read.
std::string read_text(const std::string& path);

/// A config of the tests' own, so they do not move with the default rules: the XNAS calendar,
/// NVDA, one prev_close_move rule and one Alpaca trades feed at ws://`host_port`/v2/iex with
/// the given reconnect back-off; `feed_extra` lines (4-space indented) are added to the feed.
std::string one_feed_config(const std::string& host_port, const std::string& feed_extra = "",
                            double threshold_pct = 5, const std::string& backoff_base = "50ms",
                            const std::string& backoff_cap = "200ms");

}  // namespace aftershock::test
