// Measures what aftershock-feedsim costs per event at --speed max, the way bench/ingest_bench
// connects to it (Alpaca stocks with every channel on "*", plus the news endpoint), but with a
// client that costs next to nothing: plain sockets that parse WebSocket frame headers, skip the
// payloads (compressed or not, never decoded) and answer pings. So the figure is feedsim's own
// CPU, and on two cores feedsim is never starved by a slow reader. Not a test (ctest does not
// run it):
//
//   cmake --build build --target feedsim_throughput aftershock-feedsim
//   aftershock-feedsim generate --symbols 5000 --events 10000000 --per-frame 1..100 --out
//   big.ndjson build/bin/feedsim_throughput big.ndjson [--deflate] [--msgpack] [--no-news] [--
//   FEEDSIM ARGS] build/bin/feedsim_throughput big.ndjson --port PORT [--pid PID] ...   (a feedsim
//   started by
//       hand, e.g. under perf record; CPU figures only with --pid)
//
// --deflate offers permessage-deflate (as aftershockd does by default); the feedsim arguments
// after `--` are added to its command line (e.g. --deflate-level 6). Prints feedsim's CPU
// seconds (user + system, from /proc) between the subscription and the server's close, per
// million events served; events are counted in the capture beforehand (elements with "T").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/fixtures.h"

using namespace aftershock::test;
using namespace std::chrono_literals;

namespace {

// Server frames out of a byte stream: counts data messages, keeps control payloads.
class frame_counter {
 public:
  std::uint64_t messages = 0;    // complete data messages (text or binary)
  std::uint64_t compressed = 0;  // of which RSV1 (permessage-deflate) was set
  std::uint64_t wire_bytes = 0;
  bool closed = false;
  std::vector<std::string> pings;  // payloads to answer

  void feed(const char* p, std::size_t n) {
    wire_bytes += n;
    while (n > 0) {
      if (!in_payload_) {
        while (n > 0 && have_ < need_) {
          header_[have_++] = static_cast<unsigned char>(*p++);
          --n;
          if (have_ == 2) {
            const unsigned len7 = header_[1] & 0x7f;
            need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
          }
        }
        if (have_ < need_) return;
        std::uint64_t len = header_[1] & 0x7f;
        if (len == 126) {
          len = (std::uint64_t{header_[2]} << 8) | header_[3];
        } else if (len == 127) {
          len = 0;
          for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
        }
        opcode_ = header_[0] & 0x0f;
        if (opcode_ != 0) first_rsv1_ = (header_[0] & 0x40) != 0;
        fin_ = (header_[0] & 0x80) != 0;
        left_ = len;
        in_payload_ = true;
        control_.clear();
      }
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, n));
      if (opcode_ >= 8) control_.append(p, take);
      p += take;
      n -= take;
      left_ -= take;
      if (left_ == 0) end_frame();
    }
  }

 private:
  void end_frame() {
    in_payload_ = false;
    have_ = 0;
    need_ = 2;
    if (opcode_ == 9) {
      pings.push_back(control_);
    } else if (opcode_ == 8) {
      closed = true;
    } else if (opcode_ < 8 && fin_) {
      ++messages;
      if (first_rsv1_) ++compressed;
    }
  }

  unsigned char header_[14] = {};
  std::size_t have_ = 0, need_ = 2;
  bool in_payload_ = false, fin_ = false, first_rsv1_ = false;
  int opcode_ = 0;
  std::uint64_t left_ = 0;
  std::string control_;
};

// One raw WebSocket client connection (blocking, loopback).
class raw_client {
 public:
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connect(unsigned short port, const std::string& target, bool deflate, bool msgpack,
               std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};  // a stuck server fails the run instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (deflate) req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    if (msgpack) req += "Content-Type: application/msgpack\r\n";
    req += "\r\n";
    if (!send_all(req)) {
      error = "sending the upgrade failed";
      return false;
    }
    std::string response;
    char buf[4096];
    std::size_t end;
    while ((end = response.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        error = "no upgrade response";
        return false;
      }
      response.append(buf, static_cast<std::size_t>(n));
    }
    if (response.rfind("HTTP/1.1 101", 0) != 0) {
      error = "upgrade refused: " + response.substr(0, response.find('\r'));
      return false;
    }
    deflated_ = response.find("permessage-deflate") < end;
    frames_.feed(response.data() + end + 4, response.size() - end - 4);
    return true;
  }

  bool deflated() const noexcept { return deflated_; }
  const frame_counter& frames() const noexcept { return frames_; }

  // A client frame: masked, with a zero key (so the payload goes as is).
  bool send_message(std::string_view payload, bool binary) {
    std::string f;
    f += static_cast<char>(0x80 | (binary ? 2 : 1));
    if (payload.size() < 126) {
      f += static_cast<char>(0x80 | payload.size());
    } else {
      f += static_cast<char>(0x80 | 126);
      f += static_cast<char>(payload.size() >> 8);
      f += static_cast<char>(payload.size() & 0xff);
    }
    f.append(4, '\0');
    f += payload;
    return send_all(f);
  }

  // Reads until `messages` data messages have arrived in all (or the connection ends).
  bool wait_messages(std::uint64_t messages) {
    while (frames_.messages < messages && !frames_.closed) {
      if (!read_some()) return false;
    }
    return frames_.messages >= messages;
  }

  // Reads and discards until the server's close frame or the end of the connection.
  void drain() {
    while (!frames_.closed && read_some()) {
    }
  }

 private:
  bool read_some() {
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n <= 0) return false;
    frames_.feed(buffer_.data(), static_cast<std::size_t>(n));
    for (const auto& ping : frames_.pings) {
      std::string f;
      f += static_cast<char>(0x8a);
      f += static_cast<char>(0x80 | ping.size());
      f.append(4, '\0');
      f += ping;
      send_all(f);
    }
    frames_.pings.clear();
    return true;
  }

  bool send_all(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  int fd_ = -1;
  bool deflated_ = false;
  frame_counter frames_;
  std::vector<char> buffer_ = std::vector<char>(1u << 20);
};

// CPU seconds (user + system) a process has used so far; -1 if it cannot be read.
double process_cpu_seconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Market events in a capture: the elements with a type key, news included.
std::uint64_t count_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(1u << 22);
  const std::string_view needle = "{\"T\":\"";
  std::string tail;  // shorter than the needle: no match lies wholly in it
  std::uint64_t n = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::string text = tail + std::string(buf.data(), static_cast<std::size_t>(in.gcount()));
    for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; ++at) ++n;
    tail = text.substr(text.size() - std::min(text.size(), needle.size() - 1));
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: feedsim_throughput CAPTURE [--deflate] [--msgpack] [--no-news] "
                 "[-- FEEDSIM ARGS]\n");
    return 2;
  }
  const std::string capture = argv[1];
  bool deflate = false, msgpack = false, news = true;
  unsigned short port = 0;
  pid_t given_pid = 0;
  std::vector<std::string> extra;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--deflate") {
      deflate = true;
    } else if (a == "--msgpack") {
      msgpack = true;
    } else if (a == "--no-news") {
      news = false;
    } else if (a == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::stoi(argv[++i]));
    } else if (a == "--pid" && i + 1 < argc) {
      given_pid = static_cast<pid_t>(std::stoi(argv[++i]));
    } else if (a == "--") {
      extra.assign(argv + i + 1, argv + argc);
      break;
    } else {
      std::fprintf(stderr, "feedsim_throughput: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const std::uint64_t events = count_events(capture);

  std::vector<std::string> args{"--listen",
                                "127.0.0.1:0",
                                "--speed",
                                "max",
                                "--wait-for",
                                news ? "2" : "1",
                                "--exit-when-done",
                                "--log-level",
                                "warn",
                                "--start-timeout",
                                "600s"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(capture);
  std::string error;
  const auto load_started = std::chrono::steady_clock::now();
  std::unique_ptr<feedsim_process> sim;
  if (port == 0) {
    sim = feedsim_process::start(std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim", args,
                                 &error, 600s);  // a large capture takes a while to load
    if (!sim) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    port = sim->port();
  }
  const pid_t pid = sim ? sim->process().pid() : given_pid;
  const double load_cpu = process_cpu_seconds(pid);
  const double load_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();

  // Log in: each step waits for the server's answer (counted, not decoded: it may be msgpack
  // or compressed).
  auto login = [&](raw_client& c, const std::string& target, const std::string& subscribe) {
    if (!c.connect(port, target, deflate, msgpack, error)) return false;
    std::string auth = R"({"action":"auth","key":"k","secret":"s"})";
    std::string sub = subscribe;
    if (msgpack) {
      auth =
          "\x83\xa6"
          "action"
          "\xa4"
          "auth"
          "\xa3"
          "key"
          "\xa1"
          "k"
          "\xa6"
          "secret"
          "\xa1"
          "s";
      sub = target == "/v1beta1/news" ? std::string(
                                            "\x82\xa6"
                                            "action"
                                            "\xa9"
                                            "subscribe"
                                            "\xa4"
                                            "news"
                                            "\x91\xa1*")
                                      : std::string(
                                            "\x84\xa6"
                                            "action"
                                            "\xa9"
                                            "subscribe"
                                            "\xa6"
                                            "trades"
                                            "\x91\xa1*"
                                            "\xa6"
                                            "quotes"
                                            "\x91\xa1*"
                                            "\xa4"
                                            "bars"
                                            "\x91\xa1*");
    }
    if (!c.wait_messages(1) || !c.send_message(auth, msgpack) || !c.wait_messages(2) ||
        !c.send_message(sub, msgpack) || !c.wait_messages(3)) {
      error = "login on " + target + " failed";
      return false;
    }
    return true;
  };
  raw_client stocks, headlines;
  if (!login(stocks, "/v2/sip",
             R"({"action":"subscribe","trades":["*"],"quotes":["*"],"bars":["*"]})") ||
      (news && !login(headlines, "/v1beta1/news", R"({"action":"subscribe","news":["*"]})"))) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const double cpu_before = process_cpu_seconds(pid);
  const double own_before = own_cpu_seconds();
  std::thread news_reader;
  if (news) news_reader = std::thread([&] { headlines.drain(); });
  stocks.wait_messages(4);  // the first data frame: playback has started (after --settle)
  const auto began = std::chrono::steady_clock::now();
  const double cpu_at_first = process_cpu_seconds(pid);
  stocks.drain();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const double cpu_after = process_cpu_seconds(pid);
  if (news_reader.joinable()) news_reader.join();
  const double own = own_cpu_seconds() - own_before;
  const auto status = sim ? sim->wait_exit(30s) : std::optional<int>(0);

  const std::uint64_t frames = stocks.frames().messages + headlines.frames().messages;
  const double sim_cpu = cpu_after - cpu_before;
  std::printf(
      "feedsim_throughput: %s, %s%s, %llu events, %llu frames (%llu compressed), %.1f MB on the "
      "wire in %.2f s\n"
      "  feedsim: %.2f CPU s while playing (%.2f before the first frame) = %.3f CPU s per "
      "million events; %.2f M events/s; load %.1f s (%.1f CPU s)\n"
      "  sink: %.2f CPU s; feedsim exit %d\n",
      capture.c_str(), msgpack ? "msgpack" : "json",
      stocks.deflated() ? ", permessage-deflate" : ", no deflate",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(frames),
      static_cast<unsigned long long>(stocks.frames().compressed + headlines.frames().compressed),
      static_cast<double>(stocks.frames().wire_bytes + headlines.frames().wire_bytes) / 1e6, secs,
      sim_cpu, cpu_at_first - cpu_before, sim_cpu / (static_cast<double>(events) / 1e6),
      static_cast<double>(events) / secs / 1e6, load_secs, load_cpu, own, status.value_or(-1));
  std::printf(
      "BENCH_JSON {\"bench\":\"feedsim\",\"capture\":\"%s\",\"deflate\":%s,\"msgpack\":%s,"
      "\"events\":%llu,\"seconds\":%.3f,\"feedsim_cpu_s\":%.3f,\"cpu_s_per_m_events\":%.4f,"
      "\"load_s\":%.2f}\n",
      capture.c_str(), stocks.deflated() ? "true" : "false", msgpack ? "true" : "false",
      static_cast<unsigned long long>(events), secs, sim_cpu,
      sim_cpu / (static_cast<double>(events) / 1e6), load_secs);
  return status == 0 ? 0 : 1;
}
