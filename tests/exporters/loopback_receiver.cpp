#include "loopback_receiver.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace aftershock::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void add_ext(X509* x, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error("cannot make certificate extension");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

test_certificate make_test_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x),
                   static_cast<long>(std::random_device{}() & 0x7FFFFFFF));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_ext(x, NID_subject_key_identifier, "hash");
  add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  X509_sign(x, key, EVP_sha256());
  test_certificate out;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  out.cert_pem = bio_string(b);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(b);
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

struct loopback_receiver::impl {
  explicit impl(options o) : opts(std::move(o)), io(1), acceptor(io) {}

  options opts;
  net::io_context io;
  std::optional<ssl::context> ctx;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::thread thread;
  bool stopped = false;

  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::vector<received_request> log;
  responder respond;
  std::set<tcp::socket*> sockets;  // open connections, touched only on the I/O thread

  template <class Stream>
  net::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
      (void)n;
      if (ec) co_return;
      received_request r;
      r.at = std::chrono::steady_clock::now();
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.body = req.body();
      r.idempotency_key = std::string(req["Idempotency-Key"]);
      r.content_type = std::string(req[http::field::content_type]);
      responder fn;
      std::size_t index = 0;
      {
        std::lock_guard lock(mutex);
        fn = respond;
        index = log.size();
      }
      scripted_response answer = fn ? fn(r, index) : scripted_response{};
      r.status = answer.status;
      r.answered_at = std::chrono::steady_clock::now();
      {
        std::lock_guard lock(mutex);
        log.push_back(r);
      }
      cv.notify_all();
      http::response<http::string_body> res{static_cast<http::status>(answer.status),
                                            req.version()};
      res.set(http::field::server, "aftershock-test-receiver");
      res.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : answer.headers) res.set(k, v);
      res.body() = answer.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || !res.keep_alive()) co_return;
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    if (!ctx) {
      sockets.insert(&socket);
      co_await serve(socket);
      sockets.erase(&socket);
      socket.close(ec);
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *ctx);
    sockets.insert(&stream.next_layer());
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (!hec) co_await serve(stream);
    sockets.erase(&stream.next_layer());
    stream.next_layer().close(ec);
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      net::co_spawn(io, session(std::move(socket)), net::detached);
    }
  }
};

loopback_receiver::loopback_receiver(options opts)
    : impl_(std::make_unique<impl>(std::move(opts))) {
  impl& s = *impl_;
  if (s.opts.tls) {
    s.ctx.emplace(ssl::context::tls_server);
    s.ctx->use_certificate_chain(net::buffer(s.opts.certificate.cert_pem));
    s.ctx->use_private_key(net::buffer(s.opts.certificate.key_pem), ssl::context::pem);
  }
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), s.opts.port);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  net::co_spawn(s.io, s.accept_loop(), net::detached);
  s.thread = std::thread([p = &s] { p->io.run(); });
}

loopback_receiver::~loopback_receiver() { stop(); }

std::uint16_t loopback_receiver::port() const { return impl_->port; }

std::string loopback_receiver::url(std::string_view path) const {
  std::string out = impl_->opts.tls ? "https://localhost:" : "http://127.0.0.1:";
  out += std::to_string(impl_->port);
  if (path.empty() || path.front() != '/') out += '/';
  out += path;
  return out;
}

void loopback_receiver::set_responder(responder r) {
  std::lock_guard lock(impl_->mutex);
  impl_->respond = std::move(r);
}

std::vector<received_request> loopback_receiver::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::size_t loopback_receiver::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log.size();
}

bool loopback_receiver::wait_for(
    const std::function<bool(const std::vector<received_request>&)>& pred,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->log); });
}

void loopback_receiver::stop() {
  impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  net::post(s.io, [p = &s] {
    beast::error_code ec;
    p->acceptor.close(ec);
    for (tcp::socket* sock : p->sockets) sock->close(ec);
  });
  // Sessions end once their sockets are closed; then nothing is left to run.
  s.thread.join();
}

}  // namespace aftershock::testing
