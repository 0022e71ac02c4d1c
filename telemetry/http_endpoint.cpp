#include "telemetry/http_endpoint.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aftershock::telemetry {

namespace {

// civetweb reports why it could not start only through its log callback (the constructor's
// exception just says "null context"); keep the last message of this thread for the error.
thread_local std::string last_civetweb_message;

int log_message(const mg_connection*, const char* message) {
  if (!last_civetweb_message.empty()) last_civetweb_message += "; ";
  last_civetweb_message += message ? message : "";
  spdlog::debug("metrics endpoint: {}", message ? message : "");
  return 1;
}

void respond(mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
            status, status == 200 ? "OK" : "Service Unavailable", content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

class metrics_handler final : public CivetHandler {
 public:
  metrics_handler(const metrics& m, std::atomic<std::uint64_t>& scrapes, std::mutex& mutex,
                  std::condition_variable& scraped)
      : metrics_(m), scrapes_(scrapes), mutex_(mutex), scraped_(scraped) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render());
    {
      std::lock_guard lock(mutex_);
      scrapes_.fetch_add(1);
    }
    scraped_.notify_all();
    return true;
  }

 private:
  const metrics& metrics_;
  std::atomic<std::uint64_t>& scrapes_;
  std::mutex& mutex_;
  std::condition_variable& scraped_;
};

class health_handler final : public CivetHandler {
 public:
  explicit health_handler(std::function<health()> check) : check_(std::move(check)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    health h = check_ ? check_() : health{true, ""};
    std::string body = (h.ok ? "ok" : "not ok") + std::string(h.detail.empty() ? "" : ": ") +
                       h.detail + "\n";
    respond(conn, h.ok ? 200 : 503, "text/plain; charset=utf-8", body);
    return true;
  }

 private:
  std::function<health()> check_;
};

class index_handler final : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    if (info && info->local_uri && std::strcmp(info->local_uri, "/") != 0) {
      mg_send_http_error(conn, 404, "%s", "not found: try /metrics, /healthz or /readyz\n");
      return true;
    }
    respond(conn, 200, "text/plain; charset=utf-8",
            "aftershock: /metrics (Prometheus), /healthz (liveness), /readyz (readiness)\n");
    return true;
  }
};

bool valid_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port <= 65535;
}

bool valid_ipv4(std::string_view text) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || part.size() > 3 || ec != std::errc() || end != part.data() + part.size() ||
        v > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

}  // namespace

bool valid_listen_address(const std::string& text, std::string* why) {
  auto fail = [&](const char* message) {
    if (why) *why = message;
    return false;
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return fail("expected HOST:PORT, e.g. 127.0.0.1:9464");
  const std::string_view host = std::string_view(text).substr(0, colon);
  if (!valid_port(std::string_view(text).substr(colon + 1))) {
    return fail("the port must be a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view v6 = host.substr(1, host.size() - 2);
    if (v6.empty() || v6.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return fail("not an IPv6 address between the brackets");
    }
    return true;
  }
  if (!valid_ipv4(host)) {
    return fail("the host must be an IPv4 address (127.0.0.1, 0.0.0.0) or [IPv6] (host names "
                "are not resolved)");
  }
  return true;
}

struct http_endpoint::impl {
  std::atomic<std::uint64_t> scrapes{0};
  mutable std::mutex mutex;
  mutable std::condition_variable scraped;
  metrics_handler metrics_h;
  health_handler live_h;
  health_handler ready_h;
  index_handler index_h;
  std::unique_ptr<CivetServer> server;
  std::string address;

  impl(const metrics& m, endpoint_options& o)
      : metrics_h(m, scrapes, mutex, scraped),
        live_h(std::move(o.live)),
        ready_h(std::move(o.ready)) {}
};

http_endpoint::http_endpoint(const metrics& m, endpoint_options options)
    : impl_(std::make_unique<impl>(m, options)) {
  std::string why;
  if (!valid_listen_address(options.listen, &why)) {
    throw std::runtime_error("metrics: cannot listen on '" + options.listen + "': " + why);
  }
  const std::vector<std::string> civet_options{
      "listening_ports", options.listen, "num_threads", "4", "request_timeout_ms", "10000",
      "enable_keep_alive", "no"};
  CivetCallbacks callbacks;
  callbacks.log_message = &log_message;
  last_civetweb_message.clear();
  try {
    impl_->server = std::make_unique<CivetServer>(civet_options, &callbacks);
  } catch (const CivetException&) {
    throw std::runtime_error("metrics: cannot listen on " + options.listen + ": " +
                             (last_civetweb_message.empty() ? std::string("civetweb failed to start")
                                                            : last_civetweb_message));
  }
  impl_->server->addHandler("/metrics", impl_->metrics_h);
  impl_->server->addHandler("/healthz", impl_->live_h);
  impl_->server->addHandler("/readyz", impl_->ready_h);
  impl_->server->addHandler("/", impl_->index_h);
  const std::vector<int> ports = impl_->server->getListeningPorts();
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  impl_->address = host + ":" + std::to_string(ports.empty() ? 0 : ports.front());
}

namespace {
// Opens and closes a TCP connection to the endpoint: civetweb's listener waits in poll() with
// a 2 s quantum before it sees the stop flag, and a connection wakes it at once.
void wake_listener(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  const int port = std::atoi(address.c_str() + colon + 1);
  const bool v6 = !host.empty() && host.front() == '[';
  if (v6) host = host.substr(1, host.size() - 2);
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &a.sin6_addr) == 1) {
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1) {
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
  }
  ::close(fd);
}
}  // namespace

http_endpoint::~http_endpoint() {
  if (!impl_->server) return;
  // close() joins civetweb's threads; poke the listener until it has noticed, so stopping
  // takes milliseconds instead of civetweb's 2 s poll quantum.
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    impl_->server->close();
    closed = true;
  });
  for (int i = 0; i < 200 && !closed; ++i) {
    wake_listener(impl_->address);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  closer.join();
}

const std::string& http_endpoint::address() const noexcept { return impl_->address; }

std::uint64_t http_endpoint::scrapes() const noexcept { return impl_->scrapes.load(); }

bool http_endpoint::wait_for_scrapes(std::uint64_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->scraped.wait_for(lock, timeout, [&] { return impl_->scrapes.load() >= count; });
}

}  // namespace aftershock::telemetry
