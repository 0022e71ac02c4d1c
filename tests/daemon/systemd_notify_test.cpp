// `aftershockd run` as a systemd Type=notify service, driven the way systemd drives it: the test
// owns the $NOTIFY_SOCKET (a unix datagram socket) and sets $WATCHDOG_USEC, then checks
// - READY=1 (with a STATUS= naming the feeds) once the daemon serves;
// - WATCHDOG=1 keep-alives while the engine runs (cadence measured, not asserted);
// - SIGHUP: RELOADING=1 then READY=1; a good file is applied, a bad one keeps the running
//   config and is reported with FILE:LINE:COL, and the daemon keeps running;
// - SIGTERM: STOPPING=1, exit 0;
// - an engine made to hang ($AFTERSHOCK_TEST_HANG_ENGINE_AFTER) stops the keep-alives, so
//   systemd's WatchdogSec would restart it.
// The feed is aftershock-feedsim on 127.0.0.1 port 0 (or, where no data is needed, a closed
// local port: the daemon keeps reconnecting, which does not matter here).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "child_process.h"
#include "feeds/capture_writer.h"
#include "rules/time.h"

namespace aftershock::daemon {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::one_feed_config;
using testing::HasSubstr;

// The service manager's end: a unix datagram socket bound to a fresh path.
class notify_socket {
 public:
  notify_socket() {
    static std::atomic<int> serial{0};
    path_ = std::filesystem::temp_directory_path().string() + "/aftershock-notify-" +
            std::to_string(getpid()) + "-" + std::to_string(serial++) + ".sock";
    std::filesystem::remove(path_);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot bind " << path_;
    }
  }
  ~notify_socket() {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove(path_);
  }
  const std::string& path() const { return path_; }

  /// The next datagram, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    std::string m(buf, static_cast<std::size_t>(n));
    seen_.push_back(m);
    return m;
  }

  /// Reads until a datagram satisfies `pred` (returned) or the deadline passes (nullopt).
  std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& pred,
                                      std::chrono::milliseconds timeout = 20s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto m = receive(left);
      if (!m) return std::nullopt;
      if (pred(*m)) return m;
    }
  }

  /// Everything received so far, one datagram per line.
  std::string transcript() const {
    std::string out;
    for (const auto& m : seen_) out += "[" + m + "]\n";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> seen_;
};

bool has_line(const std::string& message, const std::string& line) {
  return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
}
auto is(const std::string& line) {
  return [line](const std::string& m) { return has_line(m, line); };
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A directory of this process's own, removed with its contents at the end of the test.
class fresh_dir {
 public:
  explicit fresh_dir(const std::string& name)
      : path_(std::filesystem::temp_directory_path().string() + "/systemd_notify_" + name + "_" +
              std::to_string(getpid())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~fresh_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  operator const std::string&() const { return path_; }
  std::string operator+(const std::string& name) const { return path_ + name; }

 private:
  std::string path_;
};

// A local port nothing listens on (bound, then released).
unsigned short closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string config_text(const std::string& host_port, double threshold_pct,
                        const std::string& extra = "") {
  return one_feed_config(host_port, extra, threshold_pct, "200ms", "1s");
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// Starts aftershockd with the service manager's environment (inherited through fork).
std::unique_ptr<child_process> start_service(const notify_socket& sock,
                                             const std::vector<std::string>& args,
                                             const std::string& tag, const char* watchdog_usec,
                                             const char* hang_after = nullptr) {
  // Metrics on a port of its own: READY=1 comes after the endpoint is up, and parallel tests
  // must not share the default port.
  std::vector<std::string> argv = args;
  argv.insert(argv.end(), {"--metrics-listen", "127.0.0.1:0"});
  setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  setenv("WATCHDOG_USEC", watchdog_usec, 1);
  if (hang_after) setenv("AFTERSHOCK_TEST_HANG_ENGINE_AFTER", hang_after, 1);
  auto c =
      std::make_unique<child_process>("aftershockd", argv, tag + "_" + std::to_string(getpid()));
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("AFTERSHOCK_TEST_HANG_ENGINE_AFTER");
  return c;
}

TEST(systemd_notify, ready_watchdog_reload_and_stopping) {
  notify_socket sock;
  const fresh_dir dir("lifecycle");
  const std::string config = dir + "/config.yaml";
  const std::string host = "127.0.0.1:" + std::to_string(closed_port());
  write(config, config_text(host, 5));
  auto run = start_service(sock,
                           {"run", "--config", config, "--print", "none", "--status-interval", "0",
                            "--log-format", "journal"},
                           "systemd_notify_lifecycle", "600000");

  const auto ready = sock.wait_for(is("READY=1"));
  ASSERT_TRUE(ready) << sock.transcript() << run->err();
  EXPECT_THAT(*ready, HasSubstr("STATUS="));
  EXPECT_THAT(*ready, HasSubstr("feeds streaming (alpaca "));

  // Keep-alives from the engine thread, at about half of WATCHDOG_USEC.
  const auto first = std::chrono::steady_clock::now();
  int pings = 0;
  while (pings < 4) {
    ASSERT_TRUE(sock.wait_for(is("WATCHDOG=1"), 10s)) << sock.transcript() << run->err();
    ++pings;
  }
  std::printf("[ measure  ] WATCHDOG_USEC=600000: 3 ping intervals averaged %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - first)
                                         .count() /
                                     3));

  // A good reload: RELOADING=1, then READY=1 naming the new config.
  write(config, config_text(host, 6));
  run->signal(SIGHUP);
  ASSERT_TRUE(sock.wait_for(is("RELOADING=1"))) << sock.transcript();
  const auto reloaded = sock.wait_for(is("READY=1"));
  ASSERT_TRUE(reloaded) << sock.transcript() << run->err();
  EXPECT_THAT(*reloaded, HasSubstr("STATUS=reloaded " + config));

  // A bad file: RELOADING=1, READY=1 saying it failed (and where); the daemon keeps running.
  const std::string good = config_text(host, 6);
  const std::string bad_at =
      config + ":" + std::to_string(std::count(good.begin(), good.end(), '\n') + 1) + ":1: ";
  write(config, good + "no_such_key: 1\n");
  run->signal(SIGHUP);
  ASSERT_TRUE(sock.wait_for(is("RELOADING=1"))) << sock.transcript();
  const auto refused = sock.wait_for(is("READY=1"));
  ASSERT_TRUE(refused) << sock.transcript() << run->err();
  EXPECT_THAT(*refused, HasSubstr("reload failed: 1 problem in " + config));
  EXPECT_THAT(*refused, HasSubstr(bad_at + "unknown key 'no_such_key'"));
  ASSERT_TRUE(sock.wait_for(is("WATCHDOG=1"), 10s)) << "still alive after a failed reload";
  EXPECT_TRUE(run->wait(0ms) < 0) << "still running";

  run->signal(SIGTERM);
  const auto stopping = sock.wait_for(is("STOPPING=1"));
  ASSERT_TRUE(stopping) << sock.transcript();
  EXPECT_THAT(*stopping, HasSubstr("STATUS=stopping on "));
  EXPECT_EQ(run->wait(10s), 0) << run->err();

  // Under systemd the log lines carry sd-daemon priorities and key=value fields.
  const std::string err = run->err();
  EXPECT_THAT(err, HasSubstr("<6>level=info component=run msg=\"run: 1 feed from "));
  EXPECT_THAT(err, HasSubstr("<3>level=error component=reload msg=\"reload: " + bad_at +
                             "unknown key 'no_such_key'"));
  EXPECT_THAT(err, HasSubstr("<6>level=info component=run msg=\"run: systemd watchdog 600 ms"));
}

TEST(systemd_notify, without_a_watchdog_there_are_no_keepalives) {
  notify_socket sock;
  const fresh_dir dir("no_watchdog");
  const std::string config = dir + "/config.yaml";
  write(config, config_text("127.0.0.1:" + std::to_string(closed_port()), 5));
  auto run = start_service(sock, {"run", "--config", config, "--print", "none"},
                           "systemd_notify_no_watchdog", "0");
  ASSERT_TRUE(sock.wait_for(is("READY=1"))) << sock.transcript() << run->err();
  run->signal(SIGTERM);
  ASSERT_TRUE(sock.wait_for(is("STOPPING=1"))) << sock.transcript();
  EXPECT_EQ(run->wait(10s), 0) << run->err();
  EXPECT_EQ(sock.transcript().find("WATCHDOG=1"), std::string::npos) << sock.transcript();
}

// Feedsim on port 0 serving a few NVDA prints to one Alpaca client, as fast as it reads.
struct feedsim {
  explicit feedsim(const std::string& dir)
      : process("aftershock-feedsim",
                {"--speed", "max", "--wait-for", "1", "--start-timeout", "20s", capture(dir)},
                "systemd_notify_feedsim_" + std::to_string(getpid())) {
    eventually([&] { return process.out().find('\n') != std::string::npos; }, 10s);
    const std::string first = process.out().substr(0, process.out().find('\n'));
    if (first.rfind("listening ", 0) == 0) host_port = first.substr(10);
  }
  static std::string capture(const std::string& dir) {
    const std::string path = dir + "/nvda.ndjson";
    std::ofstream out(path);
    rules::time_ns at = *rules::parse_rfc3339("2026-01-05T14:30:00Z");
    for (int i = 0; i < 20; ++i) {
      const std::string frame = R"([{"T":"t","S":"NVDA","i":)" + std::to_string(i + 1) +
                                R"(,"x":"V","p":)" + std::to_string(100 + i) +
                                R"(,"s":100,"t":"2025-01-24T20:)" + (i < 10 ? "0" : "") +
                                std::to_string(i) + R"(:00Z"}])";
      out << feeds::capture_writer::format_line(at, feeds::dialect::alpaca_stocks, frame, false)
          << '\n';
      at += rules::k_ns_per_ms;
    }
    return path;
  }
  child_process process;
  std::string host_port;
};

TEST(systemd_notify, a_hung_engine_stops_the_watchdog_keepalives) {
  if (!std::filesystem::exists(std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim")) {
    GTEST_SKIP() << "aftershock-feedsim is not built";
  }
  notify_socket sock;
  const fresh_dir dir("hang");
  feedsim sim(dir);
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config = dir + "/config.yaml";
  write(config, config_text(sim.host_port, 5));
  auto run =
      start_service(sock, {"run", "--config", config, "--print", "none", "--status-interval", "0"},
                    "systemd_notify_hang", "600000", "5");
  ASSERT_TRUE(sock.wait_for(is("READY=1"))) << sock.transcript() << run->err();
  ASSERT_TRUE(eventually([&] {
    return run->err().find("engine: hanging on purpose") != std::string::npos;
  })) << run->err();
  // The engine thread pings from its first loop turn on, so one came before the hang.
  while (sock.receive(0ms)) {
  }
  ASSERT_THAT(sock.transcript(), HasSubstr("[WATCHDOG=1]")) << "pings while the engine ran";
  // Every ping the engine sent before it hung was queued on the socket and drained above.
  // Five watchdog timeouts of silence (a live engine pings about every 300 ms).
  const auto ping = sock.wait_for(is("WATCHDOG=1"), 3000ms);
  EXPECT_FALSE(ping) << "a hung engine must not keep the watchdog happy: " << sock.transcript();
  // The main thread notices and says so before systemd acts.
  EXPECT_TRUE(eventually([&] {
    return run->err().find("run: the engine thread has made no progress for") !=
           std::string::npos;
  })) << run->err();
  // The rest of the daemon is alive and still stops cleanly (stop() ends the test hang).
  run->signal(SIGTERM);
  ASSERT_TRUE(sock.wait_for(is("STOPPING=1"))) << sock.transcript();
  EXPECT_EQ(run->wait(10s), 0) << run->err();
  sim.process.signal(SIGTERM);
  sim.process.wait(5s);
}

}  // namespace
}  // namespace aftershock::daemon
