#include "feedsim/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "feedsim/data_frame.h"
#include "feedsim/endpoint.h"
#include "feedsim/msgpack.h"

namespace aftershock::feedsim {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr const char* k_server_name = "aftershock-feedsim";

rules::time_ns now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

steady::time_point to_time_point(rules::time_ns t) {
  return steady::time_point(std::chrono::duration_cast<steady::duration>(std::chrono::nanoseconds(t)));
}

std::chrono::nanoseconds to_duration(rules::time_ns t) { return std::chrono::nanoseconds(t); }

// Errors that end a connection the normal way: not worth a warning.
bool is_routine(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == net::error::operation_aborted ||
         ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == beast::error::timeout ||
         ec == ssl::error::stream_truncated;
}

// Logs an exception escaping a detached coroutine instead of losing it.
auto log_exception(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("{}: {}", what, ex.what());
    }
  };
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::size_t dialect_index(feeds::dialect d) { return static_cast<std::size_t>(d); }

// ---- sending messages compressed once ------------------------------------------------------
//
// Beast compresses every message itself, per connection, and has no way to send a message
// compressed beforehand. This layer sits between Beast's websocket::stream and the socket (or
// TLS stream): for a message the connection compressed itself (data_frame::deflated), it
// writes that message with Beast's compression off, and when the layer sees the message's
// frame go by (Beast's header followed by exactly that payload buffer) it writes instead the
// same header with RSV1 set and the compressed payload, and reports the original bytes as
// written. Everything else (control frames, Beast's other writes) passes through untouched, and
// Beast's own write serialisation still orders every frame on the wire.
template <class Next>
class deflated_frame_stream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  template <class... Args>
  explicit deflated_frame_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  /// The next frame whose payload is exactly `payload` (the same buffer) goes out as
  /// `deflated`, flagged compressed. Until clear_substitution().
  void substitute(const std::string& payload, std::shared_ptr<const std::string> deflated) {
    payload_ = &payload;
    deflated_ = std::move(deflated);
  }
  void clear_substitution() {
    payload_ = nullptr;
    deflated_.reset();
  }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return next_.async_read_some(buffers, std::forward<ReadToken>(token));
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return net::async_initiate<WriteToken, void(beast::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& bufs) {
          std::size_t original = 0;
          if (!match(bufs, original)) {
            next_.async_write_some(bufs, std::move(handler));
            return;
          }
          // One frame, written whole; Beast is told its own frame went out.
          auto deflated = std::move(deflated_);
          clear_substitution();
          const std::array<net::const_buffer, 2> frame{net::buffer(header_, header_size_),
                                                       net::buffer(*deflated)};
          auto executor = net::get_associated_executor(handler, next_.get_executor());
          net::async_write(
              next_, frame,
              net::bind_executor(executor, [h = std::move(handler), keep = std::move(deflated),
                                            original](beast::error_code ec, std::size_t) mutable {
                std::move(h)(ec, ec ? 0 : original);
              }));
        },
        token, buffers);
  }

 private:
  // True if `bufs` is Beast's whole frame for the substituted payload: a header (2 to 10
  // bytes, server frames are unmasked), then that payload, nothing else but empty buffers.
  // Builds header_ for the compressed frame and sets `original` to the frame's size.
  template <class ConstBufferSequence>
  bool match(const ConstBufferSequence& bufs, std::size_t& original) {
    if (payload_ == nullptr || !deflated_) return false;
    std::array<net::const_buffer, 2> parts;
    std::size_t n = 0;
    for (auto it = net::buffer_sequence_begin(bufs); it != net::buffer_sequence_end(bufs); ++it) {
      const net::const_buffer b = *it;
      if (b.size() == 0) continue;
      if (n == 2) return false;
      parts[n++] = b;
    }
    if (n != 2 || parts[1].data() != payload_->data() || parts[1].size() != payload_->size()) {
      return false;
    }
    const auto* h = static_cast<const unsigned char*>(parts[0].data());
    if (parts[0].size() < 2 || parts[0].size() > 10 || (h[0] & 0x80) == 0 || (h[1] & 0x80) != 0) {
      return false;  // not a whole, unmasked frame: leave it to Beast
    }
    const std::uint64_t len = deflated_->size();
    header_[0] = static_cast<unsigned char>(h[0] | 0x40);  // FIN, opcode, RSV1: compressed
    if (len < 126) {
      header_[1] = static_cast<unsigned char>(len);
      header_size_ = 2;
    } else if (len <= 0xffff) {
      header_[1] = 126;
      header_[2] = static_cast<unsigned char>(len >> 8);
      header_[3] = static_cast<unsigned char>(len);
      header_size_ = 4;
    } else {
      header_[1] = 127;
      for (int i = 0; i < 8; ++i) header_[2 + i] = static_cast<unsigned char>(len >> (56 - 8 * i));
      header_size_ = 10;
    }
    original = parts[0].size() + parts[1].size();
    return true;
  }

  Next next_;
  const std::string* payload_ = nullptr;
  std::shared_ptr<const std::string> deflated_;
  std::array<unsigned char, 10> header_{};
  std::size_t header_size_ = 0;
};

// Beast's closing handshake ends with the layer below's teardown.
template <class Next>
void teardown(beast::role_type role, deflated_frame_stream<Next>& s, beast::error_code& ec) {
  using websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class Next, class TeardownHandler>
void async_teardown(beast::role_type role, deflated_frame_stream<Next>& s,
                    TeardownHandler&& handler) {
  using websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}

// The window the client allows for server messages, from the permessage-deflate response Beast
// built (Sec-WebSocket-Extensions): 0 when permessage-deflate was not agreed.
int negotiated_server_window_bits(std::string_view extensions) {
  if (extensions.find("permessage-deflate") == std::string_view::npos) return 0;
  const std::string_view key = "server_max_window_bits=";
  const std::size_t at = extensions.find(key);
  if (at == std::string_view::npos) return 15;
  int bits = 0;
  for (std::size_t i = at + key.size(); i < extensions.size(); ++i) {
    if (extensions[i] < '0' || extensions[i] > '9' || bits > 15) break;
    bits = bits * 10 + (extensions[i] - '0');
  }
  return bits >= 9 && bits <= 15 ? bits : 0;
}

// One thing a connection's writer does, in queue order.
struct outgoing {
  enum class kind : std::uint8_t { message, ping, close, abort, stall };
  kind what = kind::message;
  std::shared_ptr<const std::string> bytes;
  bool binary = false;
  bool data = false;  // a capture frame (counted), not a control or injected frame
  std::uint16_t close_code = 1000;
  std::string close_reason;
  std::shared_ptr<const std::string> deflated;  // `bytes` compressed once (data frames)
};

class server_state;

// The part of a connection that does not depend on the stream type (plain or TLS): protocol,
// outgoing queue, accounting. The ws_connection template adds the I/O.
class connection {
 public:
  connection(server_state& server, const endpoint& ep, const protocol_config& config,
             fault_plan faults, std::uint64_t id);
  virtual ~connection() = default;

  feeds::dialect dialect() const noexcept { return protocol_.where().dialect; }
  bool streaming() const { return protocol_.streaming() && !faults_.finished() && !closing_; }
  bool done() const noexcept { return closed_ || stalled_; }
  /// permessage-deflate was agreed with this client.
  bool deflates() const noexcept { return deflate_window_bits_ > 0; }
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  bool idle() const noexcept { return queue_.empty() && !writing_; }
  std::uint64_t id() const noexcept { return id_; }
  std::uint64_t frames_sent() const noexcept { return frames_sent_; }
  /// --ordered: queues a ping after everything queued so far; confirmed() turns true once the
  /// client has answered it (pongs answer pings in order).
  void request_confirmation() {
    enqueue(outgoing{outgoing::kind::ping, nullptr, false, false, 1000, {}, {}});
  }
  bool confirmed() const noexcept { return pongs_ >= pings_queued_; }

  /// Playback hands every frame of the connection's dialect here.
  bool deliver(data_frame& frame, rules::time_ns at);
  /// Cuts a client whose queue outgrew the limit (timed playback).
  void cut_slow_client();
  /// Ends the connection with a close frame after what is queued (shutdown, end of capture).
  void close_after_queue(std::uint16_t code, std::string reason);

 protected:
  void apply(protocol_step step);
  void enqueue(outgoing item);
  void enqueue_json(const std::string& json);
  virtual void wake_writer() = 0;

  server_state& server_;
  session_protocol protocol_;
  fault_plan faults_;
  std::uint64_t id_;
  std::deque<outgoing> queue_;
  std::size_t queued_bytes_ = 0;  // queued plus the frame being written
  bool writing_ = false;
  rules::time_ns write_started_ = 0;
  bool closing_ = false;  // a close or abort is queued: no more data
  bool closed_ = false;   // the connection is over
  bool stalled_ = false;  // stall fault: nothing more is sent or read
  std::uint64_t frames_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t pings_queued_ = 0;  // every ping this connection queued (keep-alives too)
  std::uint64_t pongs_ = 0;
  std::vector<std::uint32_t> selection_;
  std::vector<fault_action> actions_;
  // permessage-deflate as agreed in the upgrade: the window the client allows for our
  // messages, 0 = not agreed (data frames go out plain).
  int deflate_window_bits_ = 0;
};

// Everything the connections and the playback share. One thread: no locks.
class server_state {
 public:
  server_state(const server_options& options, feeds::capture_reader captures)
      : options(options),
        captures(std::move(captures)),
        acceptor(ioc),
        start_signal(ioc),
        drain_signal(ioc),
        playback_timer(ioc),
        signals(ioc, SIGINT, SIGTERM) {
    start_signal.expires_at(steady::time_point::max());
    drain_signal.expires_at(steady::time_point::max());
  }

  const server_options& options;
  feeds::capture_reader captures;
  // Declared before the io_context, so they outlive it: destroying the io_context destroys the
  // suspended coroutines, whose connections unregister themselves and hold TLS streams.
  connection_registry registry;
  std::optional<ssl::context> tls;
  net::io_context ioc{1};
  tcp::acceptor acceptor;
  net::steady_timer start_signal;  // cancelled when enough clients subscribed
  net::steady_timer drain_signal;  // cancelled when a queue drained (playback backpressure)
  net::steady_timer playback_timer;
  net::signal_set signals;
  json_to_msgpack control_encoder{msgpack_options{}};
  std::list<std::shared_ptr<connection>> connections;
  std::array<std::size_t, feeds::k_dialect_count> connection_numbers{};
  std::uint64_t next_id = 1;
  std::size_t deflating_clients = 0;  // streaming the current frame's dialect with deflate
  bool started = false;
  bool stopping = false;
  steady::time_point last_client_message{};  // before playback: see server_options::settle
  bool playback_done = false;
  int exit_code = k_exit_ok;

  // Statistics for the summary line.
  std::uint64_t records_played = 0, records_skipped = 0, frames_delivered = 0;
  std::uint64_t slow_clients_cut = 0;
  rules::time_ns playback_started_at = 0, playback_ended_at = 0;

  void on_streaming_changed() {
    if (started) return;
    const auto n = static_cast<std::size_t>(std::count_if(
        connections.begin(), connections.end(), [](const auto& c) { return c->streaming(); }));
    if (n >= std::max<std::size_t>(options.wait_for, 1)) start_signal.cancel();
  }
  void on_drained() { drain_signal.cancel(); }
  void remove(const connection* c) {
    connections.remove_if([c](const auto& p) { return p.get() == c; });
    drain_signal.cancel();  // a waiting playback or shutdown may be waiting on this one
  }
};

connection::connection(server_state& server, const endpoint& ep, const protocol_config& config,
                       fault_plan faults, std::uint64_t id)
    : server_(server), protocol_(ep, config, server.registry), faults_(faults), id_(id) {}

void connection::enqueue(outgoing item) {
  if (closed_ || stalled_) return;
  if (item.bytes) queued_bytes_ += item.bytes->size();
  if (item.what == outgoing::kind::ping) ++pings_queued_;
  queue_.push_back(std::move(item));
  wake_writer();
}

void connection::enqueue_json(const std::string& json) {
  outgoing item;
  if (protocol_.msgpack()) {
    // Alpaca's binary mode: the control messages go out in msgpack too, with the same keys.
    std::string packed;
    if (server_.control_encoder.encode(json, packed)) {
      item.bytes = std::make_shared<const std::string>(std::move(packed));
      item.binary = true;
    }
  }
  if (!item.bytes) item.bytes = std::make_shared<const std::string>(json);
  enqueue(std::move(item));
}

void connection::apply(protocol_step step) {
  for (const auto& note : step.notes) spdlog::info("conn {} {}: {}", id_, protocol_.where().path, note);
  for (const auto& json : step.send) enqueue_json(json);
  if (step.ws_ping) enqueue(outgoing{outgoing::kind::ping, nullptr, false, false, 1000, {}, {}});
  if (step.end == protocol_step::ending::close) {
    close_after_queue(step.close_code, std::move(step.close_reason));
  } else if (step.end == protocol_step::ending::abort) {
    closing_ = true;
    enqueue(outgoing{
        outgoing::kind::abort, nullptr, false, false, 1000, std::move(step.close_reason), {}});
  }
  server_.on_streaming_changed();
}

void connection::close_after_queue(std::uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  enqueue(outgoing{outgoing::kind::close, nullptr, false, false, code, std::move(reason), {}});
}

bool connection::deliver(data_frame& frame, rules::time_ns at) {
  if (!streaming()) return false;
  protocol_.subs().select(frame, selection_);
  rendered_frame r = frame.render(
      selection_, render_format{protocol_.msgpack(), protocol_.subs().binance_combined});
  if (!r.bytes) return false;
  outgoing item;
  if (deflate_window_bits_ > 0 && server_.deflating_clients >= 2) {
    // Several clients to compress for: compressed once per frame and rendering, shared by
    // every client that gets the same bytes. (With one client Beast compresses alone: with
    // context takeover it compresses better and about a fifth faster than messages compressed
    // on their own.) From the first such message on, Beast compresses nothing more on this
    // connection (see the writer).
    item.deflated = frame.deflated(r.bytes, server_.options.deflate_level, deflate_window_bits_);
  }
  item.bytes = std::move(r.bytes);
  item.binary = r.binary;
  item.data = true;
  enqueue(std::move(item));

  actions_.clear();
  faults_.after_data_frame(actions_);
  for (fault_action a : actions_) {
    spdlog::info("conn {} {}: fault {} after {} data frames", id_, protocol_.where().path,
                 to_string(a), faults_.data_frames());
    switch (a) {
      case fault_action::garbage: {
        const bool binary = protocol_.msgpack();
        auto garbage = std::make_shared<const std::string>(garbage_frame(binary));
        enqueue(outgoing{outgoing::kind::message, std::move(garbage), binary, false, 1000, {}, {}});
        break;
      }
      case fault_action::oversize:
        enqueue_json(oversize_frame(dialect(), faults_.oversize_bytes()));
        break;
      case fault_action::server_shutdown: {
        auto shutdown = std::make_shared<const std::string>(
            server_shutdown_frame(protocol_.subs().binance_combined, at));
        enqueue(outgoing{outgoing::kind::message, std::move(shutdown), false, false, 1000, {}, {}});
        close_after_queue(1001, "server shutdown");
        break;
      }
      case fault_action::drop:
        closing_ = true;
        enqueue(outgoing{outgoing::kind::abort, nullptr, false, false, 1000, "drop fault", {}});
        break;
      case fault_action::stall:
        closing_ = true;
        enqueue(outgoing{outgoing::kind::stall, nullptr, false, false, 1000, {}, {}});
        break;
    }
  }
  return true;
}

void connection::cut_slow_client() {
  if (closing_ || closed_) return;
  spdlog::warn("conn {} {}: slow client ({} bytes queued), disconnecting", id_,
               protocol_.where().path, queued_bytes_);
  ++server_.slow_clients_cut;
  // Keep only what is being written; the rest will never be read in time.
  while (queue_.size() > 0) {
    if (queue_.back().bytes) queued_bytes_ -= queue_.back().bytes->size();
    queue_.pop_back();
  }
  if (dialect() == feeds::dialect::alpaca_stocks || dialect() == feeds::dialect::alpaca_news) {
    enqueue_json(R"([{"T":"error","code":407,"msg":"slow client"}])");
  }
  closing_ = true;
  enqueue(outgoing{outgoing::kind::abort, nullptr, false, false, 1000, "slow client", {}});
}

// The I/O half of a connection, for a plain or TLS stream.
template <class Stream>
class ws_connection : public connection,
                      public std::enable_shared_from_this<ws_connection<Stream>> {
 public:
  ws_connection(server_state& server, Stream&& stream, const endpoint& ep,
                const protocol_config& config, fault_plan faults, std::uint64_t id)
      : connection(server, ep, config, faults, id),
        ws_(std::move(stream)),
        wake_(server.ioc),
        tick_(server.ioc) {
    wake_.expires_at(steady::time_point::max());
  }

  // Accepts the upgrade, then reads until the client goes; the writer and the ticker run
  // beside it. Holds `self` so the object lives as long as any of the three.
  static net::awaitable<void> run(std::shared_ptr<ws_connection> self,
                                  http::request<http::empty_body> req) {
    co_await self->serve(std::move(req));
  }

 private:
  net::awaitable<void> serve(http::request<http::empty_body> req) {
    const auto& opt = server_.options;
    ws_.set_option(websocket::stream_base::timeout{
        to_duration(opt.handshake_timeout),
        websocket::stream_base::none(),  // idle: the protocol decides (pings, auth timeout)
        false});
    ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      res.set(http::field::server, k_server_name);
      // Beast has written its permessage-deflate answer by now: what did we agree?
      if (res.result() == http::status::switching_protocols) {
        deflate_window_bits_ =
            negotiated_server_window_bits(res[http::field::sec_websocket_extensions]);
      }
    }));
    websocket::permessage_deflate pmd;
    pmd.server_enable = opt.deflate;
    // The fastest level: at --speed max the compressor is the simulator's bottleneck (level 8,
    // Beast's default, spends two thirds of the time in longest_match), and on loopback the
    // ratio hardly matters. Clients see the same protocol either way.
    pmd.compLevel = opt.deflate_level;
    // zlib's own default hash size (Beast's default is 4: a 2,048-entry hash table, so chains
    // collide and longest_match runs long). On Alpaca-style frames at level 1: 143 MB/s of
    // input instead of 110, and a slightly better ratio (0.25 against 0.27), for about 120 KB
    // more memory per connection. Beast's deflate is a port of zlib and runs as fast as Debian's
    // zlib at the same settings: compressing outside it (data_frame::deflated) pays only when
    // the result is shared between clients (connection::deliver).
    pmd.memLevel = 8;
    ws_.set_option(pmd);
    ws_.read_message_max(opt.read_message_max);
    ws_.auto_fragment(false);  // one frame per message, as the vendors send them
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::pong) return;
      protocol_.on_pong(now_ns());
      ++pongs_;
      server_.on_drained();  // an --ordered playback may be waiting for this pong
    });

    handshake_info info;
    info.msgpack = iequals(std::string_view(req[http::field::content_type]).substr(0, 19),
                           "application/msgpack");
    info.header_key = std::string(req["APCA-API-KEY-ID"]);
    info.header_secret = std::string(req["APCA-API-SECRET-KEY"]);

    auto [ec] = co_await ws_.async_accept(req, use_nothrow);
    if (ec) {
      spdlog::info("conn {}: upgrade failed: {}", id_, ec.message());
      finish();
      co_return;
    }
    spdlog::info("conn {} {}: open{}", id_, protocol_.where().path,
                 protocol_.where().dialect == feeds::dialect::alpaca_stocks ||
                         protocol_.where().dialect == feeds::dialect::alpaca_news
                     ? (info.msgpack ? " (msgpack)" : " (json)")
                     : "");
    // The protocol opens first, so the ticker's first deadline is already the real one.
    apply(protocol_.on_open(info, now_ns()));
    auto self = this->shared_from_this();
    net::co_spawn(server_.ioc, writer(self), log_exception("writer"));
    net::co_spawn(server_.ioc, ticker(self), log_exception("ticker"));
    co_await reader();
  }

  net::awaitable<void> reader() {
    beast::flat_buffer buffer;
    while (!closed_) {
      auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
      if (ec) {
        if (stalled_) break;  // our own cancel: keep the socket, read no more frames
        if (!is_routine(ec)) spdlog::info("conn {}: read: {}", id_, ec.message());
        break;
      }
      const std::string_view data(static_cast<const char*>(buffer.data().data()),
                                  buffer.size());
      std::optional<json_value> message =
          ws_.got_binary() ? decode_msgpack(data) : parse_json(data);
      buffer.consume(buffer.size());
      if (!server_.started) server_.last_client_message = steady::now();
      apply(protocol_.on_message(message ? &*message : nullptr, now_ns()));
    }
    if (stalled_ && !closed_) {
      // Stall fault: swallow whatever arrives (pings, close frames) unanswered until the
      // client gives up and closes the TCP connection.
      std::array<char, 4096> sink;
      auto& socket = beast::get_lowest_layer(ws_).socket();
      while (true) {
        auto [ec, n] = co_await socket.async_read_some(net::buffer(sink), use_nothrow);
        if (ec) break;
      }
    }
    finish();
  }

  net::awaitable<void> writer(std::shared_ptr<ws_connection> /*self*/) {
    while (!closed_) {
      if (queue_.empty()) {
        wake_.expires_at(steady::time_point::max());
        co_await wake_.async_wait(use_nothrow);
        continue;
      }
      outgoing item = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      write_started_ = now_ns();
      beast::error_code ec;
      switch (item.what) {
        case outgoing::kind::message: {
          ws_.binary(item.binary);
          if (item.deflated) {
            // Compressed by us (connection::deliver). Beast compresses nothing from now on:
            // with context takeover its compressor's history would no longer match the
            // client's once our messages are interleaved. Its messages go out plain, which
            // permessage-deflate allows.
            ws_.compress(false);
            ws_.next_layer().substitute(*item.bytes, item.deflated);
          }
          auto [e, n] = co_await ws_.async_write(net::buffer(*item.bytes), use_nothrow);
          ws_.next_layer().clear_substitution();
          ec = e;
          queued_bytes_ -= item.bytes->size();
          if (!ec) {
            bytes_sent_ += n;
            if (item.data) ++frames_sent_;
          }
          break;
        }
        case outgoing::kind::ping: {
          auto [e] = co_await ws_.async_ping({}, use_nothrow);
          ec = e;
          break;
        }
        case outgoing::kind::close: {
          websocket::close_reason why;
          why.code = item.close_code;
          why.reason = item.close_reason.substr(0, why.reason.max_size());
          auto [e] = co_await ws_.async_close(why, use_nothrow);
          ec = e;
          closing_ = true;
          break;
        }
        case outgoing::kind::abort:
          spdlog::info("conn {} {}: cutting the connection ({})", id_, protocol_.where().path,
                       item.close_reason);
          cut();
          break;
        case outgoing::kind::stall: {
          spdlog::info("conn {} {}: stalled (socket left open)", id_, protocol_.where().path);
          stalled_ = true;
          beast::error_code ignored;
          beast::get_lowest_layer(ws_).socket().cancel(ignored);  // ends the frame reader
          break;
        }
      }
      writing_ = false;
      write_started_ = 0;
      if (queued_bytes_ <= server_.options.window_bytes / 2) server_.on_drained();
      if (ec) {
        if (!is_routine(ec)) spdlog::info("conn {}: write: {}", id_, ec.message());
        cut();
      }
      if (stalled_ || item.what == outgoing::kind::close || item.what == outgoing::kind::abort) {
        break;  // nothing more is written on this connection
      }
    }
    // Whatever is still queued will never be sent.
    queue_.clear();
    queued_bytes_ = 0;
    server_.on_drained();
  }

  net::awaitable<void> ticker(std::shared_ptr<ws_connection> /*self*/) {
    const rules::time_ns write_timeout = server_.options.write_timeout;
    while (!closed_ && !stalled_) {
      // Wake at the protocol's next deadline, and at least every second to check for a write
      // that is stuck (a client that stopped reading).
      rules::time_ns deadline = now_ns() + rules::k_ns_per_s;
      if (auto next = protocol_.next_deadline()) deadline = std::min(deadline, *next);
      tick_.expires_at(to_time_point(deadline));
      co_await tick_.async_wait(use_nothrow);
      if (closed_ || stalled_) break;
      const rules::time_ns now = now_ns();
      if (writing_ && write_started_ != 0 && now - write_started_ >= write_timeout) {
        spdlog::warn("conn {} {}: a write has been stuck for {}, disconnecting", id_,
                     protocol_.where().path, rules::format_duration(now - write_started_));
        cut();
        break;
      }
      apply(protocol_.on_tick(now));
    }
  }

  void wake_writer() override { wake_.cancel(); }

  // Abrupt end: the TCP connection goes, without a close frame. Pending operations fail.
  void cut() {
    closing_ = true;
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  void finish() {
    if (closed_) return;
    closed_ = true;
    cut();
    wake_.cancel();
    tick_.cancel();
    spdlog::info("conn {} {}: closed after {} data frames", id_, protocol_.where().path,
                 frames_sent_);
    server_.remove(this);
  }

  websocket::stream<deflated_frame_stream<Stream>> ws_;
  net::steady_timer wake_;
  net::steady_timer tick_;
};

// ---- the server -------------------------------------------------------------------------------

class server {
 public:
  explicit server(server_state& s) : s_(s) {}

  bool listen(std::string& error) {
    const auto& opt = s_.options;
    if (!opt.tls_cert.empty() || !opt.tls_key.empty()) {
      s_.tls.emplace(ssl::context::tls_server);
      beast::error_code ec;
      s_.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
      s_.tls->use_certificate_chain_file(opt.tls_cert, ec);
      if (ec) {
        error = "--tls-cert " + opt.tls_cert + ": " + ec.message();
        return false;
      }
      s_.tls->use_private_key_file(opt.tls_key, ssl::context::pem, ec);
      if (ec) {
        error = "--tls-key " + opt.tls_key + ": " + ec.message();
        return false;
      }
    }
    beast::error_code ec;
    tcp::resolver resolver(s_.ioc);
    auto results = resolver.resolve(opt.host, std::to_string(opt.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      error = "--listen " + opt.host + ": " + (ec ? ec.message() : "no address");
      return false;
    }
    const tcp::endpoint where = results.begin()->endpoint();
    s_.acceptor.open(where.protocol(), ec);
    if (!ec) s_.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) s_.acceptor.bind(where, ec);
    if (!ec) s_.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "--listen " + opt.host + ":" + std::to_string(opt.port) + ": " + ec.message();
      return false;
    }
    const tcp::endpoint bound = s_.acceptor.local_endpoint();
    const std::string address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                        : bound.address().to_string();
    // The first line on stdout, for scripts and tests: where to connect.
    std::printf("listening %s:%u\n", address.c_str(), static_cast<unsigned>(bound.port()));
    std::fflush(stdout);
    spdlog::info("listening on {}://{}:{} ({})", s_.tls ? "wss" : "ws", address, bound.port(),
                 known_paths());
    return true;
  }

  void start() {
    net::co_spawn(s_.ioc, accept_loop(), log_exception("accept"));
    net::co_spawn(s_.ioc, playback(), log_exception("playback"));
    s_.signals.async_wait([this](const beast::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", sig);
      net::co_spawn(s_.ioc, shutdown(), log_exception("shutdown"));
    });
  }

 private:
  net::awaitable<void> accept_loop() {
    while (!s_.stopping) {
      auto [ec, socket] = co_await s_.acceptor.async_accept(use_nothrow);
      if (ec) {
        if (s_.stopping || ec == net::error::operation_aborted) break;
        spdlog::warn("accept: {}", ec.message());
        // Out of descriptors and the like: pause instead of spinning.
        net::steady_timer pause(s_.ioc, std::chrono::milliseconds(100));
        co_await pause.async_wait(use_nothrow);
        continue;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      net::co_spawn(s_.ioc, handle(std::move(socket)), log_exception("connection"));
    }
  }

  net::awaitable<void> handle(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (!s_.tls) {
      co_await upgrade(std::move(stream));
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *s_.tls);
    beast::get_lowest_layer(tls_stream).expires_after(to_duration(s_.options.handshake_timeout));
    auto [ec] = co_await tls_stream.async_handshake(ssl::stream_base::server, use_nothrow);
    if (ec) {
      spdlog::info("TLS handshake failed: {}", ec.message());
      co_return;
    }
    co_await upgrade(std::move(tls_stream));
  }

  template <class Stream>
  static net::awaitable<void> respond(Stream& stream, http::status status, unsigned version,
                                      std::string body) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, k_server_name);
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(false);
    res.body() = std::move(body) + "\n";
    res.prepare_payload();
    co_await http::async_write(stream, res, use_nothrow);
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // Reads the HTTP upgrade, routes it to a vendor, and hands it to a connection.
  template <class Stream>
  net::awaitable<void> upgrade(Stream stream) {
    const auto& opt = s_.options;
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    beast::get_lowest_layer(stream).expires_after(to_duration(opt.handshake_timeout));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
    if (ec) {
      if (!is_routine(ec)) spdlog::info("bad upgrade request: {}", ec.message());
      co_return;
    }
    http::request<http::empty_body> req = parser.release();
    const std::string target(req.target());
    std::string why;
    const std::optional<endpoint> ep = route(target, &why);
    if (!ep) {
      spdlog::info("404 for {}", target.substr(0, target.find('?')));
      co_await respond(stream, http::status::not_found, req.version(),
                       why + "; served: " + known_paths());
      co_return;
    }
    if (!websocket::is_upgrade(req)) {
      co_await respond(stream, http::status::upgrade_required, req.version(),
                       "this is a WebSocket endpoint");
      co_return;
    }
    const std::size_t number = ++s_.connection_numbers[dialect_index(ep->dialect)];
    fault_plan faults(opt.faults, number);
    protocol_config config = opt.protocol;
    config.reject_auth = config.reject_auth || faults.reject_auth();
    {
      // Finnhub checks its token before the upgrade: a refused token gets no WebSocket.
      connection_registry scratch;
      session_protocol probe(*ep, config, scratch);
      if (const int status = probe.upgrade_status(); status != 101) {
        spdlog::info("{} for {} (token refused)", status, ep->path);
        co_await respond(stream, static_cast<http::status>(status), req.version(),
                         "invalid or missing token");
        co_return;
      }
    }
    if (s_.stopping) co_return;
    beast::get_lowest_layer(stream).expires_never();  // the websocket's own timeouts take over
    auto conn = std::make_shared<ws_connection<Stream>>(s_, std::move(stream), *ep, config,
                                                        faults, s_.next_id++);
    s_.connections.push_back(conn);
    co_await ws_connection<Stream>::run(conn, std::move(req));
  }

  net::awaitable<void> playback() {
    const auto& opt = s_.options;
    if (opt.start_timeout > 0) {
      s_.start_signal.expires_after(to_duration(opt.start_timeout));
    }
    auto [ec] = co_await s_.start_signal.async_wait(use_nothrow);
    if (s_.stopping) co_return;
    if (!ec) {
      spdlog::error("no client subscribed within {}; exiting",
                    rules::format_duration(opt.start_timeout));
      s_.exit_code = k_exit_start_timeout;
      co_await shutdown();
      co_return;
    }
    // The Nth client is streaming once its first subscription is in; the rest of it may still
    // be on its way (Finnhub subscribes one symbol per message). Wait for a quiet moment.
    if (opt.settle > 0) {
      net::steady_timer quiet(s_.ioc);
      const auto settle = to_duration(opt.settle);
      for (;;) {
        const auto since = steady::now() - s_.last_client_message;
        if (s_.stopping || since >= settle) break;
        quiet.expires_after(settle - since);
        co_await quiet.async_wait(use_nothrow);
      }
      if (s_.stopping) co_return;
    }
    s_.started = true;
    const rules::time_ns start = now_ns();
    s_.playback_started_at = start;
    spdlog::info("playback started ({} client(s) subscribed)", s_.connections.size());

    pacer pace(opt.pace);
    data_frame frame;
    feeds::capture_record record;
    std::uint64_t since_yield = 0;
    std::vector<std::shared_ptr<connection>> unconfirmed;  // --ordered: sent to since the check
    std::optional<feeds::dialect> last_feed;
    while (!s_.stopping && s_.captures.next(record)) {
      if (opt.from > 0 && record.received < opt.from) {
        ++s_.records_skipped;
        continue;
      }
      frame.assign(record.feed, record.frame);
      if (frame.data_count() == 0) {
        ++s_.records_skipped;  // only vendor control messages: the simulator makes its own
        continue;
      }
      const rules::time_ns due = start + pace.due(record.received);
      if (due > now_ns()) {
        s_.playback_timer.expires_at(to_time_point(due));
        co_await s_.playback_timer.async_wait(use_nothrow);
        since_yield = 0;
        if (s_.stopping) break;
      }
      if (opt.ordered && last_feed && *last_feed != record.feed && !unconfirmed.empty()) {
        co_await confirm_received(unconfirmed);
        since_yield = 0;
        if (s_.stopping) break;
      }
      last_feed = record.feed;
      ++s_.records_played;
      s_.deflating_clients = static_cast<std::size_t>(
          std::count_if(s_.connections.begin(), s_.connections.end(), [&](const auto& c) {
            return c->dialect() == record.feed && c->deflates() && c->streaming();
          }));
      bool over_window = false;
      for (auto& c : s_.connections) {
        if (c->dialect() != record.feed) continue;
        const bool delivered = c->deliver(frame, record.received);
        if (delivered) ++s_.frames_delivered;
        if (delivered && opt.ordered &&
            std::find(unconfirmed.begin(), unconfirmed.end(), c) == unconfirmed.end()) {
          unconfirmed.push_back(c);
        }
        if (c->queued_bytes() > opt.window_bytes) {
          over_window = true;
          if (!opt.pace.as_fast_as_possible && c->queued_bytes() > opt.max_queue_bytes) {
            c->cut_slow_client();
          }
        }
      }
      if (over_window && opt.pace.as_fast_as_possible) {
        co_await wait_until_below_window();
        since_yield = 0;
      } else if (over_window || ++since_yield >= 256) {
        // Let the writers, readers and timers run between bursts of frames.
        co_await net::post(s_.ioc, net::use_awaitable);
        since_yield = 0;
      }
    }
    if (opt.ordered && !s_.stopping && !unconfirmed.empty()) {
      co_await confirm_received(unconfirmed);
      // Tests wait for this line: the clients have read everything (killing us is now safe).
      spdlog::info("--ordered: every client has read every frame it was sent");
    }
    s_.playback_done = true;
    s_.playback_ended_at = now_ns();
    if (s_.stopping) co_return;
    const auto& stats = s_.captures.stats();
    spdlog::info("playback done: {} records played, {} skipped, {} bad lines; {} frames queued",
                 s_.records_played, s_.records_skipped, stats.bad_lines, s_.frames_delivered);
    if (opt.exit_when_done) co_await finish_and_exit();
  }

  // --ordered: a ping after the frames sent to each of `sent_to`, then wait for every answer
  // (or the connection's end). Bounded by the write timeout, so a client that stops answering
  // delays the playback but cannot stop it.
  net::awaitable<void> confirm_received(std::vector<std::shared_ptr<connection>>& sent_to) {
    for (auto& c : sent_to) {
      if (!c->done()) c->request_confirmation();
    }
    const rules::time_ns give_up = now_ns() + s_.options.write_timeout;
    while (!s_.stopping) {
      const bool waiting = std::any_of(sent_to.begin(), sent_to.end(), [](auto& c) {
        return !c->done() && !c->confirmed();
      });
      if (!waiting) break;
      if (now_ns() >= give_up) {
        spdlog::warn("--ordered: a client has not answered a ping for {}; playing on",
                     rules::format_duration(s_.options.write_timeout));
        break;
      }
      s_.drain_signal.expires_after(std::chrono::milliseconds(100));
      co_await s_.drain_signal.async_wait(use_nothrow);
    }
    sent_to.clear();
  }

  // --speed max: the pace is the slowest client's.
  net::awaitable<void> wait_until_below_window() {
    while (!s_.stopping) {
      const bool over = std::any_of(s_.connections.begin(), s_.connections.end(), [&](auto& c) {
        return !c->done() && c->queued_bytes() > s_.options.window_bytes;
      });
      if (!over) break;
      s_.drain_signal.expires_after(std::chrono::seconds(1));
      co_await s_.drain_signal.async_wait(use_nothrow);
    }
  }

  // --exit-when-done: wait until every client has been sent everything, close, exit.
  net::awaitable<void> finish_and_exit() {
    while (!s_.stopping) {
      const bool busy = std::any_of(s_.connections.begin(), s_.connections.end(),
                                    [](auto& c) { return !c->done() && !c->idle(); });
      if (!busy) break;
      s_.drain_signal.expires_after(std::chrono::seconds(1));
      co_await s_.drain_signal.async_wait(use_nothrow);
    }
    const rules::time_ns took = s_.playback_ended_at - s_.playback_started_at;
    std::uint64_t sent = 0;
    for (auto& c : s_.connections) sent += c->frames_sent();
    spdlog::info("all frames sent ({} records in {:.3f} s); closing {} connection(s)",
                 s_.records_played, static_cast<double>(took) / 1e9, s_.connections.size());
    co_await shutdown();
  }

  // Closes every connection (1001 going away) and stops, within the handshake timeout.
  net::awaitable<void> shutdown() {
    if (s_.stopping) co_return;
    s_.stopping = true;
    beast::error_code ignored;
    s_.acceptor.close(ignored);
    s_.signals.cancel(ignored);
    s_.start_signal.cancel();
    s_.playback_timer.cancel();
    for (auto& c : s_.connections) c->close_after_queue(1001, "feedsim shutting down");
    const rules::time_ns deadline = now_ns() + s_.options.handshake_timeout;
    while (!s_.connections.empty() && now_ns() < deadline) {
      s_.drain_signal.expires_after(std::chrono::milliseconds(100));
      co_await s_.drain_signal.async_wait(use_nothrow);
    }
    if (!s_.connections.empty()) {
      spdlog::info("{} connection(s) did not close in time", s_.connections.size());
    }
    s_.ioc.stop();
  }

  server_state& s_;
};

}  // namespace

int run_server(const server_options& options, feeds::capture_reader captures) {
  server_state state(options, std::move(captures));
  server srv(state);
  std::string error;
  if (!srv.listen(error)) {
    spdlog::error("{}", error);
    return k_exit_startup;
  }
  srv.start();
  state.ioc.run();
  return state.exit_code;
}

}  // namespace aftershock::feedsim
