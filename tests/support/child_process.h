// Test helpers for running other programs (aftershock-feedsim, websocketd, nginx, openssl):
// a child process whose stdout lines can be read with a deadline, a temporary directory, and
// loopback port helpers. Every wait takes a timeout; a child_process that goes out of scope is
// terminated (SIGTERM, then SIGKILL) and reaped, and a child dies with the test runner
// (PR_SET_PDEATHSIG) if ctest kills the runner on a timeout, so no test leaves anything running.
// No Beast or Asio here (POSIX only), so using these costs no compile time.
//
// Thread-safety: one object per thread; the free functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aftershock::test {

using namespace std::chrono_literals;

class child_process {
 public:
  struct options {
    bool capture_stdout = true;  // else stdout is inherited
    bool quiet_stderr = false;   // send stderr to /dev/null instead of inheriting it
    std::vector<std::string> extra_env;  // "NAME=value" added to the environment
  };

  /// Starts argv[0] (a path, or a name looked up in PATH). nullptr with `error` on failure.
  static std::unique_ptr<child_process> start(const std::vector<std::string>& argv,
                                               const options& opt, std::string* error = nullptr);
  static std::unique_ptr<child_process> start(const std::vector<std::string>& argv) {
    return start(argv, options{});
  }
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// The next line of the child's stdout (without the newline); nullopt on timeout or EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
  /// Everything read from stdout so far that read_line has not returned.
  const std::string& pending_output() const noexcept { return buffer_; }
  /// The exit status once the child has ended: the exit code, or 128 + signal number.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s);
  bool running();
  void send_signal(int sig);
  /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = 5s);

 private:
  child_process() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

/// Runs a program to completion; its exit status, or nullopt on timeout (it is then killed).
std::optional<int> run_program(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout = 30s,
                               std::string* output = nullptr);

/// The full path of a program found in PATH or the sbin directories; empty when absent.
std::string find_program(std::string_view name);

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const noexcept { return path_; }
  /// path() + "/" + name.
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

/// Writes a whole file; false on failure.
bool write_file(const std::string& path, std::string_view content);

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). For
/// programs that cannot report the port they bound; retry if the program then fails to bind.
unsigned short free_port();

/// Polls until something accepts TCP connections on 127.0.0.1:port; false at the deadline.
bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout = 10s);

}  // namespace aftershock::test
