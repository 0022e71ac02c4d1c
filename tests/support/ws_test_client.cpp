#include "tests/support/ws_test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace aftershock::test {

namespace {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
}  // namespace

struct ws_test_client::impl {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<plain_ws> plain;
  std::unique_ptr<tls_ws> secure;
  beast::flat_buffer buffer;
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;
  bool ended = false;
  std::string end_reason;
  int close_code = 0;
  std::string close_reason;
  std::size_t pings = 0;

  template <class F>
  decltype(auto) with(F&& f) {
    if (secure) return f(*secure);
    return f(*plain);
  }

  // Runs the io_context until `flag` is set or the deadline passes.
  bool run_until(const bool& flag, std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    while (!flag) {
      if (ioc.stopped()) ioc.restart();
      if (ioc.run_one_until(deadline) == 0 && !flag && steady::now() >= deadline) return false;
    }
    return true;
  }

  void end(const beast::error_code& ec) {
    if (ended) return;
    ended = true;
    end_reason = ec.message();
    with([&](auto& ws) {
      close_code = ws.reason().code;
      close_reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
    });
  }

  template <class WS>
  bool handshake(WS& ws, const std::string& host_header, const std::string& target,
                 const ws_client_options& opt, std::string* error, int* http_status) {
    ws.set_option(websocket::stream_base::timeout{
        std::chrono::duration_cast<steady::duration>(opt.timeout),
        websocket::stream_base::none(), false});
    ws.set_option(websocket::stream_base::decorator([headers = opt.headers](
                                                        websocket::request_type& req) {
      req.set(http::field::user_agent, "aftershock-test-client");
      for (const auto& [name, value] : headers) req.set(name, value);
    }));
    ws.read_message_max(opt.read_message_max);
    if (opt.deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws.set_option(pmd);
    }
    ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++pings;
    });
    websocket::response_type response;
    bool done = false;
    beast::error_code ec;
    ws.async_handshake(response, host_header, target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run_until(done, opt.timeout + 1s)) {
      if (error) *error = "websocket handshake timed out";
      return false;
    }
    if (ec) {
      if (http_status) *http_status = static_cast<int>(response.result_int());
      if (error) {
        *error = "websocket handshake: " + ec.message() + " (HTTP " +
                 std::to_string(response.result_int()) + ")";
      }
      return false;
    }
    return true;
  }
};

ws_test_client::ws_test_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ws_test_client::~ws_test_client() = default;

std::unique_ptr<ws_test_client> ws_test_client::connect(const std::string& host,
                                                        unsigned short port,
                                                        const std::string& target,
                                                        const ws_client_options& opt,
                                                        std::string* error, int* http_status) {
  auto p = std::make_unique<impl>();
  beast::error_code ec;
  tcp::resolver resolver(p->ioc);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    if (error) *error = "resolve " + host + ": " + ec.message();
    return nullptr;
  }
  beast::tcp_stream stream(p->ioc);
  stream.expires_after(opt.timeout);
  bool done = false;
  stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (!p->run_until(done, opt.timeout + 1s) || ec) {
    if (error) *error = "connect: " + (ec ? ec.message() : std::string("timed out"));
    return nullptr;
  }
  const std::string host_header = host + ":" + std::to_string(port);

  if (!opt.tls) {
    stream.expires_never();
    p->plain = std::make_unique<plain_ws>(std::move(stream));
    if (!p->handshake(*p->plain, host_header, target, opt, error, http_status)) return nullptr;
    return std::unique_ptr<ws_test_client>(new ws_test_client(std::move(p)));
  }

  const std::string name = opt.server_name.empty() ? host : opt.server_name;
  if (!opt.ca_file.empty()) {
    p->ctx.load_verify_file(opt.ca_file, ec);
    if (ec) {
      if (error) *error = "CA file " + opt.ca_file + ": " + ec.message();
      return nullptr;
    }
    p->ctx.set_verify_mode(ssl::verify_peer);
  } else {
    p->ctx.set_verify_mode(ssl::verify_none);
  }
  p->secure = std::make_unique<tls_ws>(std::move(stream), p->ctx);
  auto& tls = p->secure->next_layer();
  net::ip::make_address(name, ec);
  if (ec) SSL_set_tlsext_host_name(tls.native_handle(), name.c_str());  // SNI: names only
  if (!opt.ca_file.empty()) tls.set_verify_callback(ssl::host_name_verification(name));
  done = false;
  tls.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!p->run_until(done, opt.timeout + 1s) || ec) {
    if (error) *error = "TLS handshake: " + (ec ? ec.message() : std::string("timed out"));
    return nullptr;
  }
  beast::get_lowest_layer(*p->secure).expires_never();
  if (!p->handshake(*p->secure, host_header, target, opt, error, http_status)) return nullptr;
  return std::unique_ptr<ws_test_client>(new ws_test_client(std::move(p)));
}

namespace {
template <class Impl>
bool send_message(Impl& p, std::string_view bytes, bool binary,
                  std::chrono::milliseconds timeout) {
  if (p.ended) return false;
  bool done = false;
  beast::error_code ec;
  p.with([&](auto& ws) {
    ws.binary(binary);
    ws.async_write(net::buffer(bytes.data(), bytes.size()),
                   [&](beast::error_code e, std::size_t) {
                     ec = e;
                     done = true;
                   });
  });
  if (!p.run_until(done, timeout)) {
    // A write still in flight would make the next one illegal: this connection is over.
    p.ended = true;
    p.end_reason = "write timed out";
    return false;
  }
  if (ec) p.end(ec);
  return !ec;
}
}  // namespace

bool ws_test_client::send_text(std::string_view text, std::chrono::milliseconds timeout) {
  return send_message(*impl_, text, false, timeout);
}

bool ws_test_client::send_binary(std::string_view bytes, std::chrono::milliseconds timeout) {
  return send_message(*impl_, bytes, true, timeout);
}

std::optional<ws_message> ws_test_client::receive(std::chrono::milliseconds timeout) {
  impl& p = *impl_;
  if (p.ended) return std::nullopt;
  if (!p.reading) {
    p.reading = true;
    p.read_done = false;
    p.with([&](auto& ws) {
      ws.async_read(p.buffer, [&p](beast::error_code e, std::size_t) {
        p.read_ec = e;
        p.read_done = true;
        p.reading = false;
      });
    });
  }
  if (!p.run_until(p.read_done, timeout)) return std::nullopt;  // the read stays pending
  p.read_done = false;
  if (p.read_ec) {
    p.end(p.read_ec);
    return std::nullopt;
  }
  ws_message m;
  m.data = beast::buffers_to_string(p.buffer.data());
  m.binary = p.with([](auto& ws) { return ws.got_binary(); });
  p.buffer.consume(p.buffer.size());
  return m;
}

bool ws_test_client::wait_closed(std::chrono::milliseconds timeout, std::size_t* messages) {
  const auto deadline = steady::now() + timeout;
  while (!impl_->ended) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return false;
    if (receive(left) && messages) ++*messages;
  }
  return true;
}

void ws_test_client::close(std::chrono::milliseconds timeout) {
  impl& p = *impl_;
  if (p.ended) return;
  bool done = false;
  p.with([&](auto& ws) {
    ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  });
  p.run_until(done, timeout);
  wait_closed(timeout);
}

bool ws_test_client::closed() const { return impl_->ended; }
int ws_test_client::close_code() const { return impl_->close_code; }
std::string ws_test_client::close_reason() const { return impl_->close_reason; }
std::string ws_test_client::end_reason() const { return impl_->end_reason; }
std::size_t ws_test_client::pings() const { return impl_->pings; }

}  // namespace aftershock::test
