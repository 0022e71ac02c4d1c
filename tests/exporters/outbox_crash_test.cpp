// Crash safety of the outbox: a child process is SIGKILLed in the middle of a burst of 1,000
// alerts while the receiver is down; every alert it had acknowledged (flushed) must come back
// from the journal after a restart, and once the receiver is up again all 1,000 arrive
// (de-duplicated by idempotency key), in order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "loopback_receiver.h"

namespace aftershock::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A child with its stdout on a pipe, read line by line with deadlines.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~child_process() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (fd_ >= 0) ::close(fd_);
  }

  /// The next line of output, or nullopt at EOF or when `timeout` passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const std::size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void kill_hard() { ::kill(pid_, SIGKILL); }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  std::string buffer_;
};

std::vector<std::string> delivered_ids(const std::vector<received_request>& requests) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& r : requests) {
    if (r.status >= 200 && r.status < 300 && seen.insert(r.idempotency_key).second) {
      out.push_back(r.idempotency_key);
    }
  }
  return out;
}

std::string burst_id(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "burst-%04d", i);
  return id;
}

TEST(outbox_crash, sigkill_mid_burst_loses_no_acknowledged_alert) {
  const std::string state =
      (fs::path(::testing::TempDir()) / ("crash-" + std::to_string(::getpid()))).string();
  fs::remove_all(state);
  const std::string child = std::string(AFTERSHOCK_BIN_DIR) + "/outbox_burst_child";

  // Reserve a port, then take the receiver down: deliveries fail with "connection refused".
  std::uint16_t port = 0;
  {
    loopback_receiver probe;
    port = probe.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";

  // Run 1: killed while it is still publishing (after 500 of 1,000 are acknowledged).
  int acked = 0;
  {
    child_process run({child, state, url, "1000", "1000"});  // ~1 ms apart
    while (auto line = run.read_line(30s)) {
      if (line->rfind("acked ", 0) == 0) acked = std::stoi(line->substr(6));
      if (acked >= 500) break;
    }
    run.kill_hard();
    const int status = run.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  ASSERT_GE(acked, 500);
  ASSERT_LT(acked, 1000) << "the burst finished before the kill; nothing was tested";

  // Run 2: restart with the receiver back; it publishes nothing and must deliver what the
  // journal holds: at least everything acknowledged, as a prefix of the burst, in order.
  loopback_receiver rx({port, false, {}});
  int recovered = -1;
  {
    child_process run({child, state, url, "0"});
    while (auto line = run.read_line(60s)) {
      if (line->rfind("recovered ", 0) == 0) recovered = std::stoi(line->substr(10));
    }
    const int status = run.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_GE(recovered, acked);
  std::printf("killed after %d acknowledged; %d recovered from the journal and delivered\n", acked,
              recovered);
  const auto after_restart = delivered_ids(rx.requests());
  ASSERT_EQ(static_cast<int>(after_restart.size()), recovered);
  for (int i = 0; i < recovered; ++i) EXPECT_EQ(after_restart[i], burst_id(i));

  // Run 3: the replay is run again in full; the receiver de-duplicates by idempotency key and
  // ends up with all 1,000, once each, in order.
  {
    child_process run({child, state, url, "1000"});
    while (run.read_line(60s)) {
    }
    const int status = run.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto all = delivered_ids(rx.requests());
  ASSERT_EQ(all.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(all[i], burst_id(i));
  fs::remove_all(state);
}

}  // namespace
}  // namespace aftershock::testing
