#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace aftershock::test {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

child_process::child_process(const std::string& binary, const std::vector<std::string>& args,
                             const std::string& tag) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  out_path_ = dir + "/" + tag + ".stdout";
  err_path_ = dir + "/" + tag + ".stderr";
  std::filesystem::remove(out_path_);  // never read a previous run's output
  std::filesystem::remove(err_path_);
  const std::string bin = std::string(AFTERSHOCK_BIN_DIR) + "/" + binary;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(bin.c_str()));
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {  // only async-signal-safe calls until exec
    const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
}

child_process::~child_process() {
  if (running()) {
    kill(pid_, SIGKILL);
    wait(std::chrono::milliseconds(5000));
  }
}

std::string child_process::out() const { return read_text(out_path_); }
std::string child_process::err() const { return read_text(err_path_); }

void child_process::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

bool child_process::running() {
  if (pid_ <= 0 || status_ >= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int child_process::wait(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

std::string one_feed_config(const std::string& host_port, const std::string& feed_extra,
                            double threshold_pct, const std::string& backoff_base,
                            const std::string& backoff_cap) {
  return R"(version: 1
default_exchange: XNAS
exchanges:
  - mic: XNAS
    time_zone: America/New_York
    tz_rule: EST5EDT,M3.2.0,M11.1.0
    pre_market: ["04:00-09:30"]
    regular: ["09:30-16:00"]
    after_hours: ["16:00-20:00"]
universe:
  - {symbol: NVDA, name: Nvidia, exchange: XNAS, aliases: [Nvidia]}
rules:
  - name: prev_close_move
    kind: prev_close_move
    threshold_pct: )" +
         std::to_string(threshold_pct) + R"(
feeds:
  - name: alpaca
    dialect: alpaca-stocks
    url: ws://)" +
         host_port + R"(/v2/iex
    key: test-key
    secret: test-secret
    symbols: [NVDA]
    channels: [trades]
    backoff_base: )" +
         backoff_base + "\n    backoff_cap: " + backoff_cap + "\n" + feed_extra;
}

}  // namespace aftershock::test
