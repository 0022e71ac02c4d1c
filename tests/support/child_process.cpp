#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace aftershock::test {

namespace {

using steady = std::chrono::steady_clock;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

std::unique_ptr<child_process> child_process::start(const std::vector<std::string>& argv,
                                                    const options& opt, std::string* error) {
  if (argv.empty()) {
    if (error) *error = "no program";
    return nullptr;
  }
  const std::string program =
      argv[0].find('/') != std::string::npos ? argv[0] : find_program(argv[0]);
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    if (error) *error = argv[0] + ": not found or not executable";
    return nullptr;
  }
  int pipe_fds[2] = {-1, -1};
  if (opt.capture_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  // Everything the child needs is built before fork: between fork and exec it may only make
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : opt.extra_env) env_storage.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  const int parent = static_cast<int>(::getpid());

  const pid_t pid = ::fork();
  if (pid < 0) {
    if (error) *error = std::string("fork: ") + std::strerror(errno);
    if (opt.capture_stdout) {
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
    }
    return nullptr;
  }
  if (pid == 0) {
    // If the test runner dies (a ctest timeout kills it), take the child down with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (opt.capture_stdout) ::dup2(pipe_fds[1], 1);  // dup2 clears O_CLOEXEC on the copy
    if (opt.quiet_stderr) {
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 2);
    }
    ::execve(program.c_str(), args.data(), env.data());
    ::_exit(127);
  }
  if (opt.capture_stdout) ::close(pipe_fds[1]);
  std::unique_ptr<child_process> child(new child_process());
  child->pid_ = pid;
  child->stdout_fd_ = opt.capture_stdout ? pipe_fds[0] : -1;
  return child;
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) stop(2s);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (stdout_fd_ < 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // timeout
    char chunk[4096];
    const ssize_t got = ::read(stdout_fd_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      ::close(stdout_fd_);
      stdout_fd_ = -1;
      continue;  // EOF: return what is buffered only when it ends a line
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = steady::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      return status_;
    }
    if (steady::now() >= deadline) return std::nullopt;
    // Polling: waitpid has no timeout. The interval bounds latency, not any assertion.
    std::this_thread::sleep_for(5ms);
  }
}

bool child_process::running() { return !wait_exit(0ms).has_value(); }

void child_process::send_signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  send_signal(SIGTERM);
  if (auto s = wait_exit(grace)) return *s;
  send_signal(SIGKILL);
  return wait_exit(10s).value_or(-1);
}

std::optional<int> run_program(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout, std::string* output) {
  child_process::options opt;
  opt.capture_stdout = output != nullptr;
  std::string error;
  auto child = child_process::start(argv, opt, &error);
  if (!child) {
    if (output) *output = error;
    return std::nullopt;
  }
  const auto deadline = steady::now() + timeout;
  if (output) {
    while (auto line = child->read_line(
               std::chrono::milliseconds(remaining_ms(deadline)))) {
      *output += *line;
      *output += '\n';
    }
    *output += child->pending_output();
  }
  auto status = child->wait_exit(std::chrono::milliseconds(remaining_ms(deadline)));
  if (!status) child->stop(1s);
  return status;
}

std::string find_program(std::string_view name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view p(path);
    while (!p.empty()) {
      const auto colon = p.find(':');
      dirs.emplace_back(p.substr(0, colon));
      if (colon == std::string_view::npos) break;
      p.remove_prefix(colon + 1);
    }
  }
  // nginx lives in /usr/sbin, which a non-root PATH often lacks.
  for (const char* d : {"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin"}) {
    dirs.emplace_back(d);
  }
  for (const auto& d : dirs) {
    if (d.empty()) continue;
    std::string candidate = d + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/aftershock-test-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

temp_dir::~temp_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

bool write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return static_cast<bool>(out);
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  unsigned short port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);  // polling interval, not a timing assertion
  }
}

}  // namespace aftershock::test
