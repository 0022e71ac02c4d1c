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
#include "feedsim/playlist.h"

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

// ---- sending frames the connection built itself --------------------------------------------
//
// Beast writes one message per call, compresses it itself per connection, and has no way to
// send bytes prepared beforehand. This layer sits between Beast's websocket::stream and the
// socket (or TLS stream): when the connection has a batch of complete frames ready (data
// frames, compressed once for every client or before playback, see playlist), it asks Beast to
// write the batch's first message with Beast's compression off; when the layer sees that
// message's frame go by (Beast's header followed by exactly that payload buffer), it writes
// instead the whole batch, in as few system calls as the gather limit allows, and reports
// Beast's own frame as written. Everything else (control frames, Beast's other writes) passes
// through untouched, and Beast's own write serialisation still orders every frame on the wire.
// The stand-in is always a message Beast writes in one call (see write_data_frames); should it
// still not go by as expected, Beast writes it itself, and substituted() tells the connection.
template <class Next>
class batch_frame_stream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  template <class... Args>
  explicit batch_frame_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  /// The next frame whose payload is exactly `payload` (the same bytes at the same address)
  /// goes out as `wire` instead, which stays untouched until the write completes.
  void substitute(std::string_view payload, const std::vector<net::const_buffer>* wire) {
    payload_ = payload;
    wire_ = wire;
    substituted_ = false;
  }
  /// After the write: was the batch written (else Beast wrote its own frame)?
  bool substituted() const noexcept { return substituted_; }
  void clear_substitution() noexcept {
    payload_ = {};
    wire_ = nullptr;
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
          substituted_ = true;
          wire_at_ = 0;
          wire_offset_ = 0;
          auto executor = net::get_associated_executor(handler, next_.get_executor());
          write_batch(gather_op<decltype(executor), decltype(handler)>{
              this, executor, std::move(handler), original});
        },
        token, buffers);
  }

 private:
  // Writes the batch with as many buffers per call as the socket takes, then tells Beast its
  // frame (`original` bytes) went out.
  template <class Executor, class Handler>
  struct gather_op {
    batch_frame_stream* self;
    Executor executor;
    Handler handler;
    std::size_t original;

    void operator()(beast::error_code ec, std::size_t n) {
      if (!ec && !self->consume(n)) {
        self->write_batch(std::move(*this));
        return;
      }
      std::move(handler)(ec, ec ? 0 : original);
    }
  };

  // Asio hands a socket at most 64 buffers per call (IOV_MAX allows more); a fixed array, so
  // that the copy each write operation keeps allocates nothing.
  struct buffer_chunk {
    using value_type = net::const_buffer;
    using const_iterator = const net::const_buffer*;
    std::array<net::const_buffer, 64> elems;
    std::size_t count = 0;
    const_iterator begin() const noexcept { return elems.data(); }
    const_iterator end() const noexcept { return elems.data() + count; }
  };

  template <class Op>
  void write_batch(Op&& op) {
    buffer_chunk chunk;
    const auto& wire = *wire_;
    for (std::size_t i = wire_at_; i < wire.size() && chunk.count < chunk.elems.size(); ++i) {
      chunk.elems[chunk.count++] = i == wire_at_ ? wire[i] + wire_offset_ : wire[i];
    }
    auto executor = op.executor;
    next_.async_write_some(chunk, net::bind_executor(executor, std::forward<Op>(op)));
  }

  // Advances past `n` written bytes; true once the whole batch is out.
  bool consume(std::size_t n) {
    const auto& wire = *wire_;
    while (n > 0 && wire_at_ < wire.size()) {
      const std::size_t left = wire[wire_at_].size() - wire_offset_;
      if (n < left) {
        wire_offset_ += n;
        return false;
      }
      n -= left;
      ++wire_at_;
      wire_offset_ = 0;
    }
    while (wire_at_ < wire.size() && wire[wire_at_].size() == 0) ++wire_at_;
    return wire_at_ >= wire.size();
  }

  // True if `bufs` is Beast's whole frame for the substituted payload: a header (2 to 10
  // bytes, server frames are unmasked), then that payload, nothing else but empty buffers.
  template <class ConstBufferSequence>
  bool match(const ConstBufferSequence& bufs, std::size_t& original) {
    if (wire_ == nullptr) return false;
    std::array<net::const_buffer, 2> parts;
    std::size_t n = 0;
    for (auto it = net::buffer_sequence_begin(bufs); it != net::buffer_sequence_end(bufs); ++it) {
      const net::const_buffer b = *it;
      if (b.size() == 0) continue;
      if (n == 2) return false;
      parts[n++] = b;
    }
    if (n != 2 || parts[1].data() != payload_.data() || parts[1].size() != payload_.size()) {
      return false;
    }
    const auto* h = static_cast<const unsigned char*>(parts[0].data());
    if (parts[0].size() < 2 || parts[0].size() > 10 || (h[0] & 0x80) == 0 || (h[1] & 0x80) != 0) {
      return false;  // not a whole, unmasked frame: leave it to Beast
    }
    original = parts[0].size() + parts[1].size();
    return true;
  }

  Next next_;
  std::string_view payload_;
  const std::vector<net::const_buffer>* wire_ = nullptr;
  std::size_t wire_at_ = 0, wire_offset_ = 0;
  bool substituted_ = false;
};

// Beast's closing handshake ends with the layer below's teardown.
template <class Next>
void teardown(beast::role_type role, batch_frame_stream<Next>& s, beast::error_code& ec) {
  using websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class Next, class TeardownHandler>
void async_teardown(beast::role_type role, batch_frame_stream<Next>& s,
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
  bool binary = false;
  bool data = false;  // a capture frame (counted), not a control or injected frame
  std::uint16_t close_code = 1000;
  std::string_view payload;   // a message's bytes: in `bytes`, or in the playlist (which
                              // outlives every connection)
  std::string_view deflated;  // `payload` compressed on its own (data frames), or empty
  std::shared_ptr<const std::string> bytes, deflated_bytes;  // own them when not the playlist's
  std::string close_reason;

  static outgoing message(std::shared_ptr<const std::string> bytes, bool binary) {
    outgoing o;
    o.payload = *bytes;
    o.bytes = std::move(bytes);
    o.binary = binary;
    return o;
  }
  static outgoing control(kind what, std::string reason = {}, std::uint16_t code = 1000) {
    outgoing o;
    o.what = what;
    o.close_reason = std::move(reason);
    o.close_code = code;
    return o;
  }
};

/// The frame being played, as the connections of its dialect see it: prepared once
/// (playlist), and scanned (data_frame) only if a client needs it filtered or re-encoded.
class played_frame {
 public:
  played_frame(const prepared_frame& prepared, const playlist& list, data_frame& scratch)
      : prepared_(prepared), list_(list), scratch_(scratch) {}
  const prepared_frame& prepared() const noexcept { return prepared_; }
  const playlist& list() const noexcept { return list_; }
  data_frame& scanned() {
    if (!scanned_) {
      scratch_.assign(prepared_.feed, prepared_.text);
      scanned_ = true;
    }
    return scratch_;
  }

 private:
  const prepared_frame& prepared_;
  const playlist& list_;
  data_frame& scratch_;
  bool scanned_ = false;
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
  void request_confirmation() { enqueue(outgoing::control(outgoing::kind::ping)); }
  bool confirmed() const noexcept { return pongs_ >= pings_queued_; }

  /// Playback hands every frame of the connection's dialect here.
  bool deliver(played_frame& frame, rules::time_ns at);
  /// Cuts a client whose queue outgrew the limit (timed playback).
  void cut_slow_client();
  /// Ends the connection with a close frame after what is queued (shutdown, end of capture).
  void close_after_queue(std::uint16_t code, std::string reason);

 protected:
  void apply(protocol_step step);
  void enqueue(outgoing item);
  void enqueue_json(const std::string& json);
  virtual void wake_writer() = 0;
  // The frame goes out as prepared (the captured bytes, compressed before playback): this
  // client gets every element, in JSON, with a compression the playlist made.
  bool takes_whole(played_frame& frame) const;

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
  server_state(const server_options& options, playlist frames)
      : options(options),
        frames(std::move(frames)),
        acceptor(ioc),
        start_signal(ioc),
        drain_signal(ioc),
        playback_timer(ioc),
        signals(ioc, SIGINT, SIGTERM) {
    start_signal.expires_at(steady::time_point::max());
    drain_signal.expires_at(steady::time_point::max());
  }

  const server_options& options;
  playlist frames;
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
  queued_bytes_ += item.payload.size();
  if (item.what == outgoing::kind::ping) ++pings_queued_;
  queue_.push_back(std::move(item));
  wake_writer();
}

void connection::enqueue_json(const std::string& json) {
  if (protocol_.msgpack()) {
    // Alpaca's binary mode: the control messages go out in msgpack too, with the same keys.
    std::string packed;
    if (server_.control_encoder.encode(json, packed)) {
      enqueue(outgoing::message(std::make_shared<const std::string>(std::move(packed)), true));
      return;
    }
  }
  enqueue(outgoing::message(std::make_shared<const std::string>(json), false));
}

void connection::apply(protocol_step step) {
  for (const auto& note : step.notes) spdlog::info("conn {} {}: {}", id_, protocol_.where().path, note);
  for (const auto& json : step.send) enqueue_json(json);
  if (step.ws_ping) enqueue(outgoing::control(outgoing::kind::ping));
  if (step.end == protocol_step::ending::close) {
    close_after_queue(step.close_code, std::move(step.close_reason));
  } else if (step.end == protocol_step::ending::abort) {
    closing_ = true;
    enqueue(outgoing::control(outgoing::kind::abort, std::move(step.close_reason)));
  }
  server_.on_streaming_changed();
}

void connection::close_after_queue(std::uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  enqueue(outgoing::control(outgoing::kind::close, std::move(reason), code));
}

bool connection::takes_whole(played_frame& frame) const {
  const prepared_frame& f = frame.prepared();
  if (deflates() && (f.deflated.empty() ||
                     frame.list().deflate_window_bits() != deflate_window_bits_)) {
    return false;  // compressed for this client's window when rendered (deliver)
  }
  // data_frame::render() serves opaque frames whole, as text, whatever the selection.
  if (f.opaque) return true;
  if (!f.all_data || protocol_.msgpack()) return false;
  // Binance: the frame as captured is what this client gets when it wants events wrapped
  // exactly when the capture wrapped them.
  if (f.feed == feeds::dialect::binance &&
      protocol_.subs().binance_combined != f.binance_wrapped) {
    return false;
  }
  const subscriptions& subs = protocol_.subs();
  for (std::uint32_t kind : frame.list().kinds(f)) {
    if (!subs.wants_every(frame.list().kind_name(kind))) return false;
  }
  return true;
}

bool connection::deliver(played_frame& frame, rules::time_ns at) {
  if (!streaming()) return false;
  outgoing item;
  if (takes_whole(frame)) {
    // What select() and render() would make of it, without either.
    item.payload = frame.prepared().text;
    if (deflates()) item.deflated = frame.prepared().deflated;
  } else {
    data_frame& scanned = frame.scanned();
    protocol_.subs().select(scanned, selection_);
    rendered_frame r = scanned.render(
        selection_, render_format{protocol_.msgpack(), protocol_.subs().binance_combined});
    if (!r.bytes) return false;
    if (deflates()) {
      // Compressed on its own, once per frame and rendering, shared by every client that gets
      // the same bytes. Beast compresses nothing on a connection once it has sent a message
      // compressed by us (see the writer): every data frame is compressed here.
      item.deflated_bytes = scanned.deflated(r.bytes, server_.options.deflate_level,
                                             deflate_window_bits_);
      if (item.deflated_bytes) item.deflated = *item.deflated_bytes;
    }
    item.payload = *r.bytes;
    item.bytes = std::move(r.bytes);
    item.binary = r.binary;
  }
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
        enqueue(outgoing::message(std::make_shared<const std::string>(garbage_frame(binary)),
                                  binary));
        break;
      }
      case fault_action::oversize:
        enqueue_json(oversize_frame(dialect(), faults_.oversize_bytes()));
        break;
      case fault_action::server_shutdown: {
        auto shutdown = std::make_shared<const std::string>(
            server_shutdown_frame(protocol_.subs().binance_combined, at));
        enqueue(outgoing::message(std::move(shutdown), false));
        close_after_queue(1001, "server shutdown");
        break;
      }
      case fault_action::drop:
        closing_ = true;
        enqueue(outgoing::control(outgoing::kind::abort, "drop fault"));
        break;
      case fault_action::stall:
        closing_ = true;
        enqueue(outgoing::control(outgoing::kind::stall));
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
    queued_bytes_ -= queue_.back().payload.size();
    queue_.pop_back();
  }
  if (dialect() == feeds::dialect::alpaca_stocks || dialect() == feeds::dialect::alpaca_news) {
    enqueue_json(R"([{"T":"error","code":407,"msg":"slow client"}])");
  }
  closing_ = true;
  enqueue(outgoing::control(outgoing::kind::abort, "slow client"));
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
    // Beast compresses only what goes out before the first data frame (greeting, auth and
    // subscription answers): data frames come compressed already, once for every client
    // (playlist, before playback; data_frame::deflated for filtered renderings), and from the
    // first one on Beast compresses nothing (see write_data_frames). The same level as those
    // (--deflate-level, fastest by default: on loopback the ratio hardly matters), and zlib's
    // own default hash size (Beast's default of 4 makes longest_match run long).
    pmd.compLevel = opt.deflate_level;
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
      writing_ = true;
      write_started_ = now_ns();
      if (queue_.front().what == outgoing::kind::message && queue_.front().data) {
        write_done(co_await write_data_frames());
        continue;
      }
      outgoing item = std::move(queue_.front());
      queue_.pop_front();
      beast::error_code ec;
      switch (item.what) {
        case outgoing::kind::message: {
          ws_.binary(item.binary);
          auto [e, n] = co_await ws_.async_write(
              net::buffer(item.payload.data(), item.payload.size()), use_nothrow);
          ec = e;
          queued_bytes_ -= item.payload.size();
          if (!ec) bytes_sent_ += n;
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
      write_done(ec);
      if (stalled_ || item.what == outgoing::kind::close || item.what == outgoing::kind::abort) {
        break;  // nothing more is written on this connection
      }
    }
    // Whatever is still queued will never be sent.
    queue_.clear();
    queued_bytes_ = 0;
    server_.on_drained();
  }

  // The data frames at the head of the queue, written in one go: their WebSocket frames built
  // here, compressed or not as deliver() made them, and put on the wire through Beast in place
  // of the first one's (see batch_frame_stream), so pongs and close frames Beast sends on its
  // own never land inside them.
  // After each write: the write is over (the stall watchdog stops timing it), the server may
  // resume playback once this queue is half drained, and a failed write ends the connection.
  void write_done(const beast::error_code& ec) {
    writing_ = false;
    write_started_ = 0;
    if (queued_bytes_ <= server_.options.window_bytes / 2) server_.on_drained();
    if (ec) {
      if (!is_routine(ec)) spdlog::info("conn {}: write: {}", id_, ec.message());
      cut();
    }
  }

  net::awaitable<beast::error_code> write_data_frames() {
    batch_.clear();
    std::size_t batch_bytes = 0;
    while (!queue_.empty() && queue_.front().what == outgoing::kind::message &&
           queue_.front().data && batch_.size() < k_batch_frames && batch_bytes < k_batch_bytes) {
      batch_bytes += queue_.front().payload.size();
      batch_.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    build_wire();
    // Beast must send the stand-in plain, and compresses nothing from now on: with context
    // takeover its compressor's history would no longer match the client's once our
    // compressed messages are interleaved. Its own messages go out plain, which
    // permessage-deflate allows.
    ws_.compress(false);
    // The stand-in is the first frame when Beast writes a frame that size in one call (then,
    // should the layer not see it go by, Beast has sent that frame itself, plain, and the
    // rest wait for the next round); past Asio's 64 KiB per call, a one-byte message.
    const outgoing& first = batch_.front();
    const bool first_stands_in = first.payload.size() <= k_stand_in_max;
    const std::string_view stand_in = first_stands_in ? first.payload : k_stand_in;
    ws_.binary(first.binary);
    ws_.next_layer().substitute(stand_in, &wire_);
    auto [ec, n] = co_await ws_.async_write(net::buffer(stand_in.data(), stand_in.size()),
                                            use_nothrow);
    const bool whole = ws_.next_layer().substituted();
    ws_.next_layer().clear_substitution();
    std::size_t written = batch_.size();
    if (!whole) {
      written = first_stands_in ? 1 : 0;
      if (!first_stands_in && !ec) {
        spdlog::error("conn {}: a one-byte stand-in message went out as it is", id_);
      }
    }
    for (std::size_t i = batch_.size(); i-- > written;) queue_.push_front(std::move(batch_[i]));
    for (std::size_t i = 0; i < written; ++i) queued_bytes_ -= batch_[i].payload.size();
    if (!ec) {
      frames_sent_ += written;
      bytes_sent_ += whole ? wire_bytes_ : n;
    }
    batch_.clear();
    co_return ec;
  }

  // wire_: each frame of batch_ as header and payload buffers; headers and small payloads are
  // copied into one staging buffer, so a batch of small frames is a few large buffers.
  void build_wire() {
    staging_.clear();
    pieces_.clear();
    wire_bytes_ = 0;
    auto stage = [&](const void* data, std::size_t size) {
      if (pieces_.empty() || pieces_.back().data != nullptr) {
        pieces_.push_back({nullptr, staging_.size(), 0});
      }
      staging_.append(static_cast<const char*>(data), size);
      pieces_.back().size += size;
    };
    for (const outgoing& o : batch_) {
      const bool compressed = !o.deflated.empty();
      const std::string_view body = compressed ? o.deflated : o.payload;
      std::array<unsigned char, 10> header{};
      const std::size_t header_size = frame_header(header, o.binary, compressed, body.size());
      stage(header.data(), header_size);
      if (body.size() <= k_copy_below) {
        stage(body.data(), body.size());
      } else {
        pieces_.push_back({body.data(), 0, body.size()});
      }
      wire_bytes_ += header_size + body.size();
    }
    wire_.clear();
    for (const auto& p : pieces_) {
      wire_.push_back(p.data ? net::const_buffer(p.data, p.size)
                             : net::const_buffer(staging_.data() + p.offset, p.size));
    }
  }

  // A whole, unmasked server frame's header (RFC 6455 5.2); RSV1 marks a compressed message.
  static std::size_t frame_header(std::array<unsigned char, 10>& h, bool binary, bool compressed,
                                  std::uint64_t size) {
    h[0] = static_cast<unsigned char>(0x80 | (compressed ? 0x40 : 0) | (binary ? 0x2 : 0x1));
    if (size < 126) {
      h[1] = static_cast<unsigned char>(size);
      return 2;
    }
    if (size <= 0xffff) {
      h[1] = 126;
      h[2] = static_cast<unsigned char>(size >> 8);
      h[3] = static_cast<unsigned char>(size);
      return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
    return 10;
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

  // A batch: at most this many frames, and it stops growing past this many payload bytes.
  static constexpr std::size_t k_batch_frames = 512;
  static constexpr std::size_t k_batch_bytes = 256 * 1024;
  // Payloads up to this size are copied next to their header rather than given a buffer of
  // their own (Asio passes at most 64 buffers per system call).
  static constexpr std::size_t k_copy_below = 1024;
  // Beast hands a frame this size or smaller to the layer whole: Asio writes up to 64 KiB per
  // call, the header included (at most 10 bytes).
  static constexpr std::size_t k_stand_in_max = 65536 - 16;
  static constexpr std::string_view k_stand_in = " ";

  websocket::stream<batch_frame_stream<Stream>> ws_;
  net::steady_timer wake_;
  net::steady_timer tick_;
  std::vector<outgoing> batch_;
  std::string staging_;
  struct wire_piece {
    const char* data;  // nullptr: at `offset` in staging_
    std::size_t offset, size;
  };
  std::vector<wire_piece> pieces_;
  std::vector<net::const_buffer> wire_;
  std::size_t wire_bytes_ = 0;
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
    data_frame scratch;  // frames a client gets filtered or re-encoded are scanned into this
    std::uint64_t since_yield = 0;
    std::vector<std::shared_ptr<connection>> unconfirmed;  // --ordered: sent to since the check
    std::optional<feeds::dialect> last_feed;
    // Records before --from and those with only vendor control messages were left out when
    // the playlist was built.
    s_.records_skipped = s_.frames.stats().skipped_before_from + s_.frames.stats().skipped_control;
    for (const prepared_frame& prepared : s_.frames.frames()) {
      if (s_.stopping) break;
      const rules::time_ns due = start + pace.due(prepared.received);
      if (due > now_ns()) {
        s_.playback_timer.expires_at(to_time_point(due));
        co_await s_.playback_timer.async_wait(use_nothrow);
        since_yield = 0;
        if (s_.stopping) break;
      }
      if (opt.ordered && last_feed && *last_feed != prepared.feed && !unconfirmed.empty()) {
        co_await confirm_received(unconfirmed);
        since_yield = 0;
        if (s_.stopping) break;
      }
      last_feed = prepared.feed;
      ++s_.records_played;
      played_frame frame(prepared, s_.frames, scratch);
      bool over_window = false;
      for (auto& c : s_.connections) {
        if (c->dialect() != prepared.feed) continue;
        const bool delivered = c->deliver(frame, prepared.received);
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
    const auto& stats = s_.frames.capture_stats();
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
  // Everything per frame that does not depend on the client is done here, before anyone can
  // connect: at --speed max, playing then costs little more than the system calls.
  const auto began = steady::now();
  playlist_options prepare;
  prepare.from = options.from;
  prepare.deflate = options.deflate;
  prepare.deflate_level = options.deflate_level;
  prepare.deflate_window_bits = 15;  // what clients allow unless they ask for less
  playlist frames = playlist::build(std::move(captures), prepare);
  const auto& st = frames.stats();
  spdlog::info(
      "prepared {} frames ({:.1f} MB; {} records read, {} before --from, {} control only){} in "
      "{:.2f} s on {} thread(s)",
      frames.frames().size(), static_cast<double>(st.text_bytes) / 1e6, st.records,
      st.skipped_before_from, st.skipped_control,
      options.deflate ? fmt::format(", compressed to {:.1f} MB", 
                                    static_cast<double>(st.deflated_bytes) / 1e6)
                      : std::string(),
      std::chrono::duration<double>(steady::now() - began).count(), st.threads);
  server_state state(options, std::move(frames));
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
