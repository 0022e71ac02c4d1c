// The scripted WebSocket test server: Beast and Asio C++20 coroutines on one I/O thread, one
// blocking script thread per connection. See ws_test_server.h.
#include "ws_test_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <variant>
#include <vector>

namespace aftershock::test {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using steady = std::chrono::steady_clock;
using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

struct out_text {
  std::string text;
};
struct out_ping {};
struct out_close {
  int code;
};
struct out_drop {};
using out_item = std::variant<out_text, out_ping, out_close, out_drop>;

// The state a script thread and the I/O thread share, behind one mutex.
class connection_base : public ws_test_connection {
 public:
  explicit connection_base(const std::atomic<bool>& stopping) : stopping_(stopping) {}

  std::size_t index() const override { return index_; }
  void set_index(std::size_t i) { index_ = i; }
  const std::string& target() const override { return target_; }

  std::optional<std::string> receive(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !inbox_.empty() || gone_ || stopping_; });
    if (inbox_.empty()) return std::nullopt;
    std::string m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }
  bool send(std::string text) override { return post(out_text{std::move(text)}); }
  bool ping() override { return post(out_ping{}); }
  std::size_t pongs() const override {
    std::lock_guard lock(mutex_);
    return pongs_;
  }
  bool wait_pongs(std::size_t n, std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pongs_ >= n || gone_ || stopping_; }) &&
           pongs_ >= n;
  }
  void close(int code) override { post(out_close{code}); }
  void drop() override { post(out_drop{}); }
  bool wait_gone(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return gone_ || stopping_; });
  }
  bool gone() const override {
    std::lock_guard lock(mutex_);
    return gone_ || stopping_;
  }
  int client_close_code() const override {
    std::lock_guard lock(mutex_);
    return close_code_;
  }
  steady::time_point opened_at() const override {
    std::lock_guard lock(mutex_);
    return opened_at_;
  }
  steady::time_point gone_at() const override {
    std::lock_guard lock(mutex_);
    return gone_at_;
  }

  void wake_all() { cv_.notify_all(); }

  void set_opened(std::string target) {
    std::lock_guard lock(mutex_);
    target_ = std::move(target);
    opened_at_ = steady::now();
  }

 protected:
  virtual bool post(out_item item) = 0;

  void on_message(std::string text) {
    {
      std::lock_guard lock(mutex_);
      inbox_.push_back(std::move(text));
    }
    cv_.notify_all();
  }
  void on_pong() {
    {
      std::lock_guard lock(mutex_);
      ++pongs_;
    }
    cv_.notify_all();
  }
  void on_gone(int close_code) {
    {
      std::lock_guard lock(mutex_);
      if (gone_) return;
      gone_ = true;
      close_code_ = close_code;
      gone_at_ = steady::now();
    }
    cv_.notify_all();
  }
  bool is_gone() const {
    std::lock_guard lock(mutex_);
    return gone_;
  }

 private:
  std::size_t index_ = 0;  // set before the script starts, constant afterwards
  const std::atomic<bool>& stopping_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string target_;
  std::deque<std::string> inbox_;
  std::size_t pongs_ = 0;
  bool gone_ = false;
  int close_code_ = 0;
  steady::time_point opened_at_{};
  steady::time_point gone_at_{};
};

template <class Ws>
class server_connection final : public connection_base,
                         public std::enable_shared_from_this<server_connection<Ws>> {
 public:
  template <class... Args>
  server_connection(const std::atomic<bool>& stopping, net::any_io_executor ex, Args&&... args)
      : connection_base(stopping), ws_(std::forward<Args>(args)...), wake_(ex), ex_(ex) {}

  Ws& ws() { return ws_; }

  // After a successful accept: read and write until the client is gone.
  net::awaitable<void> serve() {
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) on_pong();
    });
    co_await (read_loop() || write_loop());
  }

 protected:
  bool post(out_item item) override {
    if (is_gone()) return false;
    auto self = this->shared_from_this();
    net::post(ex_, [self, item = std::move(item)]() mutable {
      self->outq_.push_back(std::move(item));
      self->wake_.cancel();
    });
    return true;
  }

 private:
  net::awaitable<void> read_loop() {
    co_await net::this_coro::throw_if_cancelled(false);
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
      if (ec) {
        on_gone(ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : 0);
        wake_.cancel();
        co_return;
      }
      on_message(beast::buffers_to_string(buffer.data()));
      buffer.consume(n);
    }
  }

  net::awaitable<void> write_loop() {
    co_await net::this_coro::throw_if_cancelled(false);
    for (;;) {
      if (is_gone()) co_return;
      if (outq_.empty()) {
        wake_.expires_after(std::chrono::hours(1));
        co_await wake_.async_wait(use_tuple);
        const net::cancellation_state cs = co_await net::this_coro::cancellation_state;
        if (cs.cancelled() != net::cancellation_type::none) co_return;
        continue;
      }
      out_item item = std::move(outq_.front());
      outq_.pop_front();
      if (auto* t = std::get_if<out_text>(&item)) {
        ws_.text(true);
        co_await ws_.async_write(net::buffer(t->text), use_tuple);
      } else if (std::get_if<out_ping>(&item)) {
        co_await ws_.async_ping({}, use_tuple);
      } else if (auto* c = std::get_if<out_close>(&item)) {
        const websocket::close_reason reason(static_cast<std::uint16_t>(c->code));
        co_await ws_.async_close(reason, use_tuple);
      } else {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).socket().close(ignored);
        on_gone(0);
        co_return;
      }
    }
  }

  Ws ws_;
  net::steady_timer wake_;
  net::any_io_executor ex_;
  std::deque<out_item> outq_;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost, made in memory.
struct test_certificate {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string pem_path;

  test_certificate() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    if (key == nullptr || cert == nullptr) throw std::runtime_error("openssl allocation failed");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());
    char path[] = "/tmp/aftershock-test-ca-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    FILE* f = fdopen(fd, "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    pem_path = path;
  }
  ~test_certificate() {
    if (!pem_path.empty()) ::unlink(pem_path.c_str());
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

}  // namespace

struct ws_test_server::impl {
  impl(script s, ws_test_server_options o) : run(std::move(s)), options(o) {
    if (options.tls) {
      cert = std::make_unique<test_certificate>();
      tls.emplace(ssl::context::tls_server);
      SSL_CTX_use_certificate(tls->native_handle(), cert->cert);
      SSL_CTX_use_PrivateKey(tls->native_handle(), cert->key);
    }
    acceptor.open(tcp::v4());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    net::co_spawn(io, accept_loop(), net::detached);
    io_thread = std::thread([this] { io.run(); });
  }

  ~impl() {
    std::vector<std::thread> to_join;
    {
      std::lock_guard lock(mutex);
      stopping = true;
      for (auto& c : conns) c->drop();
      for (auto& c : conns) c->wake_all();
      to_join = std::move(scripts);
    }
    cv.notify_all();
    for (std::thread& t : to_join) {
      if (t.joinable()) t.join();
    }
    net::post(io, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
    });
    // What is still open is closed when `io` and the coroutine frames it owns are destroyed.
    io.stop();
    if (io_thread.joinable()) io_thread.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      // Small frames (pings, acks) must not wait for Nagle and the peer's delayed ACK.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (options.tls) {
        net::co_spawn(io, handle<tls_ws>(std::move(socket)), net::detached);
      } else {
        net::co_spawn(io, handle<plain_ws>(std::move(socket)), net::detached);
      }
    }
  }

  template <class Ws>
  net::awaitable<void> handle(tcp::socket socket) {
    auto ex = net::make_strand(io);
    std::shared_ptr<server_connection<Ws>> c;
    if constexpr (std::is_same_v<Ws, tls_ws>) {
      c = std::make_shared<server_connection<Ws>>(stopping, ex, std::move(socket), *tls);
      auto [hec] = co_await c->ws().next_layer().async_handshake(ssl::stream_base::server, use_tuple);
      if (hec) co_return;
    } else {
      c = std::make_shared<server_connection<Ws>>(stopping, ex, std::move(socket));
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [rec, n] = co_await http::async_read(c->ws().next_layer(), buffer, req, use_tuple);
    (void)n;
    if (rec) co_return;
    const int refuse = refuse_status.load();
    {
      std::lock_guard lock(mutex);
      ++upgrade_count;
    }
    cv.notify_all();
    if (refuse != 0 || !websocket::is_upgrade(req)) {
      http::response<http::string_body> res{static_cast<http::status>(refuse ? refuse : 400),
                                            req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = "refused by the test server";
      res.keep_alive(false);
      res.prepare_payload();
      co_await http::async_write(c->ws().next_layer(), res, use_tuple);
      beast::error_code ignored;
      beast::get_lowest_layer(c->ws()).socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    websocket::permessage_deflate deflate;
    deflate.server_enable = options.deflate;
    c->ws().set_option(deflate);
    c->ws().set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    c->set_opened(std::string(req.target()));  // before the 101 goes out: ordering tests rely on it
    auto [aec] = co_await c->ws().async_accept(req, use_tuple);
    if (aec) co_return;
    {
      std::lock_guard lock(mutex);
      if (stopping) co_return;
      c->set_index(conns.size());
      conns.push_back(c);
      ws_test_connection* raw = c.get();
      scripts.emplace_back([this, raw, c] {
        if (!stopping) run(*raw);
        if (!raw->gone()) raw->close(1000);
      });
    }
    cv.notify_all();
    co_await c->serve();
  }

  script run;
  ws_test_server_options options;
  std::unique_ptr<test_certificate> cert;
  std::optional<ssl::context> tls;
  net::io_context io;
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::thread io_thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> refuse_status{0};
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::vector<std::shared_ptr<connection_base>> conns;
  std::vector<std::thread> scripts;
  std::size_t upgrade_count = 0;
};

ws_test_server::ws_test_server(script run, ws_test_server_options options)
    : impl_(std::make_unique<impl>(std::move(run), options)) {}

ws_test_server::~ws_test_server() = default;

unsigned short ws_test_server::port() const { return impl_->port; }

std::string ws_test_server::url(std::string_view path) const {
  return std::string(impl_->options.tls ? "wss://" : "ws://") + "127.0.0.1:" +
         std::to_string(impl_->port) + std::string(path);
}

const std::string& ws_test_server::ca_file() const {
  static const std::string none;
  return impl_->cert ? impl_->cert->pem_path : none;
}

void ws_test_server::refuse_with(int http_status) { impl_->refuse_status = http_status; }

std::size_t ws_test_server::upgrades() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->upgrade_count;
}

std::size_t ws_test_server::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->conns.size();
}

bool ws_test_server::wait_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->conns.size() >= n; });
}

bool ws_test_server::wait_upgrades(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->upgrade_count >= n; });
}

ws_test_connection* ws_test_server::connection(std::size_t n) const {
  std::lock_guard lock(impl_->mutex);
  return n < impl_->conns.size() ? impl_->conns[n].get() : nullptr;
}

}  // namespace aftershock::test
