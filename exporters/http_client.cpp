#include "exporters/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <variant>
#include <vector>

#include "exporters/url.h"

namespace aftershock::exporters {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::string_view k_user_agent = "aftershock/0.1";

struct step_error {
  transport_error kind = transport_error::none;
  std::string detail;
  explicit operator bool() const noexcept { return kind != transport_error::none; }
};

bool is_timeout(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == net::error::timed_out;
}

// Errors that mean a kept-alive connection was closed by the server before our request: safe
// to reconnect and send once more (the idempotency key covers the rare double delivery).
bool stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

}  // namespace

struct http_client::impl {
  impl(net::any_io_executor ex, options o)
      : executor(std::move(ex)), opts(std::move(o)), ctx(ssl::context::tls_client) {}

  net::any_io_executor executor;
  options opts;
  ssl::context ctx;
  std::string setup_error;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::string key;  // which server the open connection goes to
  beast::flat_buffer buffer;
  bool in_flight = false;

  bool connected() const { return plain.has_value() || tls.has_value(); }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }

  void close() {
    beast::error_code ec;
    if (plain) {
      plain->socket().shutdown(tcp::socket::shutdown_both, ec);
      plain->socket().close(ec);
      plain.reset();
    }
    if (tls) {
      // No TLS close_notify: the server gets a TCP close, which is harmless for HTTP/1.1 with
      // Content-Length and saves a round trip with its own deadline.
      beast::get_lowest_layer(*tls).socket().close(ec);
      tls.reset();
    }
    key.clear();
    buffer.clear();
  }

  net::awaitable<step_error> connect(const parsed_url& u,
                                     std::chrono::steady_clock::time_point deadline) {
    std::vector<tcp::endpoint> endpoints;
    beast::error_code ec;
    const net::ip::address address = net::ip::make_address(u.host, ec);
    const bool literal = !ec;
    if (literal) {
      endpoints.emplace_back(address, u.port);
    } else {
      using namespace net::experimental::awaitable_operators;
      tcp::resolver resolver(executor);
      net::steady_timer timer(executor, deadline);
      auto raced = co_await (resolver.async_resolve(u.host, std::to_string(u.port), use_tuple) ||
                             timer.async_wait(use_tuple));
      if (raced.index() == 1) co_return step_error{transport_error::timeout, "resolve timed out"};
      auto [rec, results] = std::get<0>(std::move(raced));
      if (rec) co_return step_error{transport_error::resolve, rec.message()};
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    (void)ep;
    if (cec) {
      co_return step_error{is_timeout(cec) ? transport_error::timeout : transport_error::connect,
                           cec.message()};
    }
    // Small requests and responses: Nagle plus delayed ACKs would add tens of milliseconds.
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (!u.tls) {
      plain.emplace(std::move(stream));
      co_return step_error{};
    }
    tls.emplace(std::move(stream), ctx);
    if (!literal) SSL_set_tlsext_host_name(tls->native_handle(), u.host.c_str());  // SNI
    tls->set_verify_mode(ssl::verify_peer);
    tls->set_verify_callback(ssl::host_name_verification(u.host));
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      std::string detail = hec.message();
      const long verify = SSL_get_verify_result(tls->native_handle());
      if (verify != X509_V_OK) detail += std::string(": ") + X509_verify_cert_error_string(verify);
      const transport_error kind =
          is_timeout(hec) ? transport_error::timeout : transport_error::tls;
      close();
      co_return step_error{kind, detail};
    }
    co_return step_error{};
  }

  template <class Stream>
  net::awaitable<std::pair<beast::error_code, bool>> exchange(
      Stream& stream, const http::request<http::string_body>& req, http_response& out) {
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    (void)wn;
    if (wec) co_return std::pair{wec, false};
    http::response_parser<http::string_body> parser;
    parser.body_limit(opts.max_response_body);
    parser.header_limit(16u << 10);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)rn;
    if (rec) co_return std::pair{rec, parser.got_some()};
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    out.retry_after = std::string(res[http::field::retry_after]);
    out.ratelimit_remaining = std::string(res["X-RateLimit-Remaining"]);
    out.ratelimit_reset_after = std::string(res["X-RateLimit-Reset-After"]);
    if (!res.keep_alive()) close();
    co_return std::pair{beast::error_code{}, true};
  }
};

http_client::http_client(boost::asio::any_io_executor executor, options opts)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(opts))) {
  beast::error_code ec;
  impl_->ctx.set_default_verify_paths(ec);
  if (ec) impl_->setup_error = "cannot load the system trust store: " + ec.message();
  if (!impl_->opts.ca_file.empty()) {
    impl_->ctx.load_verify_file(impl_->opts.ca_file, ec);
    if (ec) impl_->setup_error = "cannot load ca_file " + impl_->opts.ca_file + ": " + ec.message();
  }
  SSL_CTX_set_min_proto_version(impl_->ctx.native_handle(), TLS1_2_VERSION);
  impl_->ctx.set_verify_mode(ssl::verify_peer);
}

http_client::~http_client() { impl_->close(); }

const std::string& http_client::setup_error() const noexcept { return impl_->setup_error; }

void http_client::close() {
  if (!impl_->in_flight) {
    impl_->close();
    return;
  }
  // A send() is suspended on this connection: closing the socket cancels its operation, and
  // send() itself resets the connection when it resumes.
  beast::error_code ec;
  if (impl_->connected()) impl_->lowest().socket().close(ec);
}

boost::asio::awaitable<http_response> http_client::send(
    const http_request& request, std::chrono::steady_clock::duration timeout) {
  impl& s = *impl_;
  http_response out;
  const auto u = parse_http_url(request.url);
  if (!u) {
    out.transport = transport_error::bad_url;
    out.error = "not an http(s) URL";
    co_return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string key = (u->tls ? "https|" : "http|") + u->host + "|" + std::to_string(u->port);

  http::request<http::string_body> req{http::verb::post, u->target, 11};
  std::string host = u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
  if (u->port != (u->tls ? 443 : 80)) host += ":" + std::to_string(u->port);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, k_user_agent);
  req.set(http::field::content_type, request.content_type);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  s.in_flight = true;
  struct done_guard {
    impl& s;
    ~done_guard() { s.in_flight = false; }
  } guard{s};
  for (int round = 0; round < 2; ++round) {
    const bool reused = s.connected() && s.key == key;
    if (!reused) {
      s.close();
      if (!s.setup_error.empty() && u->tls) {
        out.transport = transport_error::tls;
        out.error = s.setup_error;
        co_return out;
      }
      const step_error e = co_await s.connect(*u, deadline);
      if (e) {
        out.transport = e.kind;
        out.error = e.detail;
        co_return out;
      }
      s.key = key;
    }
    s.lowest().expires_at(deadline);
    auto [ec, got_some] =
        s.plain ? co_await s.exchange(*s.plain, req, out) : co_await s.exchange(*s.tls, req, out);
    if (!ec) {
      if (s.connected()) s.lowest().expires_never();
      co_return out;
    }
    s.close();
    if (reused && !got_some && stale_connection(ec) &&
        std::chrono::steady_clock::now() < deadline) {
      continue;  // the server had closed the idle connection: one fresh attempt
    }
    out.status = 0;
    out.transport = is_timeout(ec) ? transport_error::timeout : transport_error::io;
    out.error = ec.message();
    co_return out;
  }
  out.transport = transport_error::io;
  out.error = "connection closed twice";
  co_return out;
}

}  // namespace aftershock::exporters
