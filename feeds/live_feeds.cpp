// The only translation unit of feeds/ that includes Beast and Asio (about a minute to compile
// on two cores): the WebSocket client sessions behind live_feeds.h.
//
// One async recipe: C++20 coroutines (asio::awaitable) on a strand per session, errors as
// values through as_tuple, never exceptions out of handlers. Per connection three coroutines
// run joined by `||`: the reader (the only read in flight), the writer (the only writer: queued
// messages, our pings, the closing handshake) and the supervisor (auth deadline, health,
// planned rotation). Every wait has a deadline: resolve+connect (connect_timeout), TLS and
// WebSocket handshakes and the closing handshake (handshake_timeout), auth (auth_timeout), and
// an idle timeout with keep-alive pings, which Beast's client defaults leave off.
//
// What to send and how to judge vendor messages comes from vendor_protocol.h (pure, tested
// without sockets); when to reconnect from reconnect.h; staleness from staleness.h.
#include "feeds/live_feeds.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <variant>

#include "feeds/capture_writer.h"
#include "feeds/vendor_protocol.h"

namespace aftershock::feeds {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using strand_type = net::strand<net::io_context::executor_type>;
using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr const char* k_user_agent = "aftershock/0.1 (Boost.Beast)";
constexpr rules::time_ns k_log_interval = 10 * rules::k_ns_per_s;

std::chrono::nanoseconds to_chrono(rules::time_ns t) { return std::chrono::nanoseconds(t); }

std::string seconds_text(rules::time_ns t) {
  return fmt::format("{:.1f} s", static_cast<double>(t) / rules::k_ns_per_s);
}

// At most one line per interval for a noisy condition; the next line says how many were held.
class log_limiter {
 public:
  bool allow(rules::time_ns now, std::uint64_t& suppressed) {
    if (has_logged_ && now - last_ < k_log_interval) {
      ++held_;
      return false;
    }
    has_logged_ = true;
    last_ = now;
    suppressed = held_;
    held_ = 0;
    return true;
  }

 private:
  bool has_logged_ = false;
  rules::time_ns last_ = 0;
  std::uint64_t held_ = 0;
};

// True once the enclosing `||` has asked this coroutine to stop.
net::awaitable<bool> cancelled() {
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

enum class end_kind : std::uint8_t { failed, stopped, rotate, reconnect_now, stale };

struct connection_end {
  end_kind kind = end_kind::failed;
  failure why;
  // Close the socket at once instead of a closing handshake: the server is not answering
  // (stale, no greeting), so waiting for its close frame would only add handshake_timeout.
  bool abortive = false;
};

class session;

// One WebSocket connection, over TCP or TLS. Lives inside session::connect_loop.
class connection {
 public:
  virtual ~connection() = default;
  /// Resolve, connect, TLS and WebSocket handshakes. False with the reason in `why`.
  virtual net::awaitable<bool> open(failure& why) = 0;
  /// Runs the vendor protocol and the read/write loops until the connection ends.
  virtual net::awaitable<connection_end> serve() = 0;
  /// Ends the connection for `end`: with a closing handshake once serving, at once (socket
  /// closed) while still opening. The first reason given wins.
  virtual void finish(connection_end end) = 0;
  virtual bool serving() const = 0;
  /// Ends a pause for a backlogged listener now (live_feeds::resume_reading), on the strand.
  virtual void resume_reading() = 0;
};

// One feed: reconnects forever (until stopped), owns the parser, watchdog, backoff, recorder
// and counters. All members are used on its strand only, except stats_ (mutex) for snapshots.
class session : public std::enable_shared_from_this<session> {
 public:
  session(net::io_context& io, std::size_t index, const session_config& config,
          feed_listener& listener, const live_options& options, std::shared_ptr<const clock> time)
      : strand_(net::make_strand(io)),
        index_(index),
        config_(config),
        listener_(listener),
        time_(std::move(time)),
        parser_(config.which),
        watchdog_(config.stale_after, config.market, time_->monotonic()),
        backoff_(config.backoff, make_random(options, index)),
        sleep_timer_(strand_),
        watchdog_timer_(strand_),
        max_read_pause_(options.max_read_pause),
        backlog_recheck_(options.backlog_recheck) {
    stats_.name = config.name;
    stats_.which = config.which;
    std::string error;
    if (auto t = make_connect_target(config, &error)) {
      target_ = std::move(*t);
    } else {
      setup_error_ = std::move(error);
    }
    if (target_.url.tls && setup_error_.empty()) setup_tls();
    if (!options.record_dir.empty()) {
      recorder_ = std::make_unique<capture_writer>(options.record_dir, config.name, config.which);
    }
  }

  strand_type& strand() { return strand_; }
  bool consumer_backlogged() const { return listener_.backlogged(); }
  std::chrono::milliseconds max_read_pause() const { return max_read_pause_; }
  std::chrono::microseconds backlog_recheck() const { return backlog_recheck_; }
  // Set (on the strand) while the current connection waits for a backlogged listener; read by
  // live_feeds::resume_reading from the listener's thread, so only paused sessions are woken.
  void set_paused(bool paused) { paused_.store(paused, std::memory_order_seq_cst); }
  bool paused() const { return paused_.load(std::memory_order_seq_cst); }
  // On the strand: the listener caught up; the paused connection reads on at once.
  void resume_reading() {
    if (current_ != nullptr) current_->resume_reading();
  }
  const session_config& config() const { return config_; }
  const connect_target& target() const { return target_; }
  ssl::context* tls_context() { return tls_ ? &*tls_ : nullptr; }
  rules::time_ns mono() const { return time_->monotonic(); }
  rules::time_ns utc() const { return time_->utc(); }
  bool stopping() const { return stopping_; }

  feed_stats stats() const {
    std::lock_guard lock(stats_mutex_);
    feed_stats s = stats_;
    if (recorder_) s.record_errors = record_errors_.load(std::memory_order_relaxed);
    return s;
  }

  template <class F>
  void update(F&& f) {
    std::lock_guard lock(stats_mutex_);
    f(stats_);
  }

  void set_state(feed_state s) {
    update([&](feed_stats& st) { st.state = s; });
  }

  static net::awaitable<void> run(std::shared_ptr<session> self) {
    co_await (self->connect_loop() || self->watchdog_loop());
    self->set_state(feed_state::stopped);
    if (self->recorder_) self->recorder_->flush();
  }

  // On the strand: stop reconnecting and close the current connection politely.
  void stop() {
    stopping_ = true;
    if (current_ != nullptr) current_->finish({end_kind::stopped, {}});
    sleep_timer_.cancel();
    watchdog_timer_.cancel();
  }

  // ---- called by connections --------------------------------------------------------------

  std::unique_ptr<connection> make_connection();

  void adopt_successor(std::unique_ptr<connection> next) { successor_ = std::move(next); }

  void on_open(rules::time_ns utc_now) {
    update([&](feed_stats& st) {
      ++st.connects;
      if (st.connects > 1) ++st.reconnects;
      st.connected = true;
      st.connected_since = utc_now;
      st.authenticated = false;
      st.healthy = false;
      st.state = feed_state::authenticating;
    });
  }

  void on_authenticated(std::size_t desired) {
    update([&](feed_stats& st) {
      st.authenticated = true;
      st.desired = desired;
    });
  }

  void on_healthy() {
    backoff_.reset();
    update([&](feed_stats& st) { st.healthy = true; });
    spdlog::info("feed {}: healthy (authenticated and receiving); backoff reset", config_.name);
  }

  // Server-initiated WebSocket ping (answered by Beast): proof of life for the watchdog.
  void on_server_ping() {
    const rules::time_ns now = mono();
    if (watchdog_.on_message(now)) notify_recovered();
    update([&](feed_stats& st) {
      ++st.server_pings;
      ++st.messages;
      st.last_message_at = utc();
    });
  }

  void on_binary_frame(std::size_t bytes) {
    if (watchdog_.on_message(mono())) notify_recovered();
    update([&](feed_stats& st) {
      ++st.binary_frames;
      ++st.messages;
      st.bytes += bytes;
      st.last_message_at = utc();
    });
    std::uint64_t held = 0;
    if (binary_log_.allow(mono(), held)) {
      spdlog::warn("feed {}: ignoring a binary frame (msgpack is not enabled){}", config_.name,
                   held ? fmt::format(" ({} more held back)", held) : std::string());
    }
  }

  void on_oversized() {
    update([&](feed_stats& st) { ++st.oversized_frames; });
  }

  // A text frame: watchdog, recording, parsing, counters, hand-off of the events. `padded`:
  // k_frame_padding readable bytes follow the frame, so it is parsed where it lies.
  const parse_result& process_frame(std::string_view frame, bool padded) {
    const rules::time_ns now = mono();
    const rules::time_ns utc_now = utc();
    if (watchdog_.on_message(now)) notify_recovered();
    if (recorder_) {
      // Validated by the writer itself: on-demand parsing skips unread values, so "parsed"
      // does not prove the whole frame is JSON.
      recorder_->write(utc_now, frame, std::nullopt);
      record_errors_.store(recorder_->errors(), std::memory_order_relaxed);
    }
    events_.clear();
    parsed_ = padded ? parser_.parse_padded(frame, events_) : parser_.parse(frame, events_);
    rules::time_ns newest = 0;
    for (const rules::event& e : events_) newest = std::max(newest, rules::event_time(e));
    update([&](feed_stats& st) {
      ++st.frames;
      ++st.messages;
      st.bytes += frame.size();
      st.last_message_at = utc_now;
      st.events += events_.size();
      st.parse_errors += parsed_.rejected;
      st.controls += parsed_.controls.size();
      if (newest > 0) {
        st.last_event_time = std::max(st.last_event_time, newest);
        st.event_time_lag = utc_now - newest;
      }
    });
    if (parsed_.rejected > 0) {
      std::uint64_t held = 0;
      if (parse_log_.allow(now, held)) {
        spdlog::warn("feed {}: {} malformed element{} in a {}-byte frame ({}){}", config_.name,
                     parsed_.rejected, parsed_.rejected == 1 ? "" : "s", frame.size(),
                     to_string(parsed_.error),
                     held ? fmt::format("; {} similar lines held back", held) : std::string());
      }
    }
    if (!events_.empty()) listener_.on_events(index_, events_);
    return parsed_;
  }

  void log_step(const session_step& step) {
    for (const std::string& note : step.notes) {
      spdlog::info("feed {}: {}", config_.name, scrub_text(note));
    }
    if (!step.warnings.empty()) {
      update([&](feed_stats& st) { st.vendor_errors += step.warnings.size(); });
      std::uint64_t held = 0;
      if (vendor_log_.allow(mono(), held)) {
        for (const std::string& w : step.warnings) {
          spdlog::warn("feed {}: {}{}", config_.name, scrub_text(w),
                       held ? fmt::format(" ({} similar lines held back)", held) : std::string());
        }
      }
    }
  }

  std::string scrub_text(std::string text) const {
    return scrub(std::move(text), {&config_.key, &config_.key_secret});
  }

 private:
  static std::function<std::uint64_t()> make_random(const live_options& options,
                                                    std::size_t index) {
    if (options.random) return options.random;
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}() ^ (index * 0x9E3779B97F4A7C15ull));
    return [engine] { return (*engine)(); };
  }

  void setup_tls() {
    tls_.emplace(ssl::context::tls_client);
    boost::system::error_code ec;
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
    tls_->set_default_verify_paths(ec);
    if (ec) {
      spdlog::warn("feed {}: cannot load the system trust store: {}", config_.name, ec.message());
    }
    if (!config_.ca_file.empty()) {
      tls_->load_verify_file(config_.ca_file, ec);
      if (ec) setup_error_ = "cannot load ca_file " + config_.ca_file + ": " + ec.message();
    }
    tls_->set_verify_mode(ssl::verify_peer);
    if (!config_.verify_host) {
      spdlog::warn("feed {}: TLS HOST-NAME VERIFICATION IS OFF (verify_host: false): any "
                   "certificate trusted by the CA store is accepted for {}; a man in the middle "
                   "with such a certificate can read this feed's credentials",
                   config_.name, target_.url.host);
    }
  }

  void notify_recovered() {
    feed_stats st = stats();
    stale_notice n;
    n.feed = index_;
    n.name = config_.name;
    n.which = config_.which;
    n.recovered = true;
    n.stale_after = watchdog_.stale_after();
    n.market = watchdog_.market();
    n.last_event_time = st.last_event_time;
    n.utc = utc();
    spdlog::info("feed {}: receiving again after a stale spell", config_.name);
    listener_.on_stale(n);
  }

  // Sleeps for `d` unless stopped first. False if stopping.
  net::awaitable<bool> sleep(rules::time_ns d) {
    sleep_timer_.expires_after(to_chrono(d));
    co_await sleep_timer_.async_wait(use_tuple);
    co_return !stopping_ && !co_await cancelled();
  }

  net::awaitable<void> back_off(const failure& why) {
    const rules::time_ns delay = backoff_.next_delay(why.cls);
    const std::string reason = scrub_text(why.reason);
    update([&](feed_stats& st) {
      st.state = feed_state::backing_off;
      st.next_attempt_in = delay;
      st.last_error = reason;
      st.last_failure = why.cls;
      if (why.cls == failure_class::fatal) ++st.fatal_failures;
      if (why.cls == failure_class::throttled) ++st.throttled;
    });
    if (why.cls == failure_class::fatal) {
      spdlog::error("feed {}: {}. This will not heal by retrying: fix the configuration or the "
                    "account. Next attempt in {}", config_.name, reason, seconds_text(delay));
    } else {
      std::uint64_t held = 0;
      if (reconnect_log_.allow(mono(), held)) {
        spdlog::warn("feed {}: {} ({}); reconnecting in {} (attempt {}){}", config_.name, reason,
                     to_string(why.cls), seconds_text(delay), backoff_.attempts(),
                     held ? fmt::format("; {} similar lines held back", held) : std::string());
      }
    }
    co_await sleep(delay);
  }

  net::awaitable<void> connect_loop() {
    co_await net::this_coro::throw_if_cancelled(false);  // cancellation is checked by hand
    std::unique_ptr<connection> conn;
    bool unexpected = false;
    while (!stopping_) {
      if (!setup_error_.empty()) {
        // Named, not a temporary: GCC 12 destroys temporaries inside co_await twice.
        const failure setup{failure_class::fatal, setup_error_};
        co_await back_off(setup);
        continue;
      }
      try {
        if (!conn) {
          set_state(feed_state::connecting);
          update([&](feed_stats& st) { ++st.connect_attempts; });
          conn = make_connection();
          current_ = conn.get();
          failure why;
          const bool ok = co_await conn->open(why);
          if (!ok) {
            current_ = nullptr;
            conn.reset();
            if (stopping_) break;
            co_await back_off(why);
            continue;
          }
        }
        current_ = conn.get();
        spdlog::info("feed {}: connected to {}", config_.name, target_.log_url);
        const connection_end end = co_await conn->serve();
        current_ = nullptr;
        conn.reset();
        update([&](feed_stats& st) {
          st.connected = false;
          st.authenticated = false;
          st.healthy = false;
          st.connected_since = 0;
        });
        switch (end.kind) {
          case end_kind::stopped:
            co_return;
          case end_kind::rotate:
            update([&](feed_stats& st) { ++st.planned_reconnects; });
            spdlog::info("feed {}: planned reconnect: switching to the new connection",
                         config_.name);
            conn = std::move(successor_);
            break;
          case end_kind::reconnect_now:
            update([&](feed_stats& st) { ++st.planned_reconnects; });
            // Not a tight loop even if the server keeps announcing shutdowns.
            if (!co_await sleep(k_min_reconnect_delay)) co_return;
            break;
          case end_kind::stale: {
            update([&](feed_stats& st) { ++st.stale_reconnects; });
            const failure stale{failure_class::transient, "stale: reconnecting"};
            co_await back_off(stale);
            break;
          }
          case end_kind::failed:
            co_await back_off(end.why);
            break;
        }
      } catch (const std::exception& e) {
        // Nothing in the session should throw; if something does, the feed must survive it.
        current_ = nullptr;
        conn.reset();
        spdlog::error("feed {}: unexpected error: {}", config_.name, scrub_text(e.what()));
        unexpected = true;
      }
      if (unexpected) {  // co_await is not allowed inside a handler
        unexpected = false;
        if (stopping_) co_return;
        const failure error{failure_class::transient, "unexpected error"};
        co_await back_off(error);
      }
    }
  }

  net::awaitable<void> watchdog_loop() {
    // A few checks per threshold, at most one per second, at least every 50 ms.
    const rules::time_ns tick =
        watchdog_.enabled()
            ? std::clamp<rules::time_ns>(watchdog_.stale_after() / 5, 50 * rules::k_ns_per_ms,
                                         rules::k_ns_per_s)
            : rules::k_ns_per_s;
    co_await net::this_coro::throw_if_cancelled(false);
    for (;;) {
      // Once stopping, wait for connect_loop to finish its closing handshake: returning now
      // would make `||` cancel it.
      watchdog_timer_.expires_after(to_chrono(stopping_ ? rules::k_ns_per_hour : tick));
      co_await watchdog_timer_.async_wait(use_tuple);
      if (co_await cancelled()) co_return;
      if (stopping_) continue;
      if (recorder_) recorder_->flush();
      const auto verdict = watchdog_.check(mono(), utc());
      if (verdict == staleness_watchdog::verdict::fresh) continue;
      const bool serving = current_ != nullptr && current_->serving();
      if (verdict == staleness_watchdog::verdict::stale) {
        feed_stats st = stats();
        update([&](feed_stats& s) { ++s.stale; });
        stale_notice n;
        n.feed = index_;
        n.name = config_.name;
        n.which = config_.which;
        n.silent_for = watchdog_.silent_for();
        n.stale_after = watchdog_.stale_after();
        n.market = watchdog_.market();
        n.last_event_time = st.last_event_time;
        n.utc = utc();
        spdlog::warn("feed {}: stale: no message for {} while {} is open (stale_after {}); {}",
                     config_.name, seconds_text(n.silent_for), n.market,
                     seconds_text(n.stale_after),
                     serving ? "reconnecting" : "already reconnecting");
        listener_.on_stale(n);
      }
      if (serving) {
        current_->finish({end_kind::stale, {failure_class::transient, "stale"}, true});
      }
    }
  }

  strand_type strand_;
  std::size_t index_;
  const session_config& config_;
  feed_listener& listener_;
  std::shared_ptr<const clock> time_;
  connect_target target_;
  std::string setup_error_;
  std::optional<ssl::context> tls_;
  frame_parser parser_;
  std::vector<rules::event> events_;
  parse_result parsed_;
  staleness_watchdog watchdog_;
  reconnect_backoff backoff_;
  std::unique_ptr<capture_writer> recorder_;
  std::atomic<std::uint64_t> record_errors_{0};
  net::steady_timer sleep_timer_;
  net::steady_timer watchdog_timer_;
  std::chrono::milliseconds max_read_pause_;
  std::chrono::microseconds backlog_recheck_;
  std::atomic<bool> paused_{false};
  connection* current_ = nullptr;
  std::unique_ptr<connection> successor_;
  bool stopping_ = false;
  log_limiter parse_log_, vendor_log_, reconnect_log_, binary_log_;
  mutable std::mutex stats_mutex_;
  feed_stats stats_;
};

template <class Ws>
class ws_connection final : public connection {
  static constexpr bool k_tls = std::is_same_v<Ws, tls_ws>;

 public:
  template <class... Args>
  ws_connection(session& s, Args&&... args)
      : s_(s),
        cfg_(s.config()),
        ws_(std::forward<Args>(args)...),
        resolver_(s.strand()),
        wake_(s.strand()),
        tick_(s.strand()),
        backlog_timer_(s.strand()),
        vendor_(s.config()),
        health_(s.config().healthy_after) {}

  bool serving() const override { return serving_; }

  void resume_reading() override { backlog_timer_.cancel(); }

  void finish(connection_end end) override {
    if (!finishing_) finishing_ = std::move(end);
    if (!serving_ || finishing_->abortive) {
      // Still opening: nothing to close politely. Cancel whatever step is in flight.
      resolver_.cancel();
      beast::get_lowest_layer(ws_).close();
    }
    wake_.cancel();
    tick_.cancel();
    backlog_timer_.cancel();  // a read paused for the listener ends now
  }

  net::awaitable<bool> open(failure& why) override {
    const connect_target& t = s_.target();
    const std::string where = t.url.host + ":" + t.url.port;
    net::steady_timer deadline(s_.strand());
    deadline.expires_after(to_chrono(cfg_.connect_timeout));
    auto resolved = co_await (resolver_.async_resolve(t.url.host, t.url.port, use_tuple) ||
                              deadline.async_wait(use_tuple));
    if (finishing_) co_return fail(why, failure_class::transient, "stopped");
    if (resolved.index() == 1) {
      co_return fail(why, failure_class::transient,
                     "resolving " + t.url.host + " timed out after " +
                         seconds_text(cfg_.connect_timeout));
    }
    auto [rec, results] = std::get<0>(std::move(resolved));
    if (rec) co_return fail(why, failure_class::transient, "cannot resolve " + t.url.host + ": " + rec.message());

    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(to_chrono(cfg_.connect_timeout));
    auto [cec, endpoint] = co_await tcp_layer.async_connect(results, use_tuple);
    if (finishing_) co_return fail(why, failure_class::transient, "stopped");
    if (cec) {
      co_return fail(why, failure_class::transient,
                     "connecting to " + where + " " +
                         (cec == beast::error::timeout ? "timed out" : "failed: " + cec.message()));
    }
    (void)endpoint;
    tcp_layer.socket().set_option(tcp::no_delay(true));

    if constexpr (k_tls) {
      auto& tls = ws_.next_layer();
      boost::system::error_code not_ip;
      (void)net::ip::make_address(t.url.host, not_ip);
      const bool is_ip = !not_ip;
      // SNI: virtual hosts (and CDNs in front of every vendor) pick the certificate by it.
      if (!is_ip && !SSL_set_tlsext_host_name(tls.native_handle(), t.url.host.c_str())) {
        co_return fail(why, failure_class::transient, "cannot set TLS SNI");
      }
      tls.set_verify_mode(ssl::verify_peer);
      if (cfg_.verify_host) tls.set_verify_callback(ssl::host_name_verification(t.url.host));
      tcp_layer.expires_after(to_chrono(cfg_.handshake_timeout));
      auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
      if (finishing_) co_return fail(why, failure_class::transient, "stopped");
      if (hec) {
        // A certificate the trust store rejects will not fix itself: treat it like bad keys.
        const bool verify = hec.category() == net::error::get_ssl_category() &&
                            ERR_GET_LIB(hec.value()) == ERR_LIB_SSL &&
                            ERR_GET_REASON(hec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED;
        co_return fail(why, verify ? failure_class::fatal : failure_class::transient,
                       "TLS handshake with " + where + " failed: " + hec.message() +
                           (verify ? " (check ca_file / verify_host)" : ""));
      }
    }
    tcp_layer.expires_never();  // the WebSocket timeouts own the deadlines from here

    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = to_chrono(cfg_.handshake_timeout);
    if (cfg_.idle_timeout > 0) {
      timeouts.idle_timeout = to_chrono(cfg_.idle_timeout);
      timeouts.keep_alive_pings = true;  // Beast pings at idle/2 if we have not pinged
    } else {
      timeouts.idle_timeout = websocket::stream_base::none();
      timeouts.keep_alive_pings = false;
    }
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, k_user_agent); }));
    websocket::permessage_deflate deflate;
    deflate.client_enable = cfg_.compression;
    ws_.set_option(deflate);
    ws_.read_message_max(cfg_.max_frame_bytes);
    ws_.auto_fragment(true);
    ws_.write_buffer_bytes(k_alpaca_max_frame_bytes);  // outgoing frames <= 32 KiB
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) s_.on_server_ping();
    });

    websocket::response_type response;
    const std::string host = t.url.host_header();
    const std::string request_target = t.url.target();
    auto [wec] = co_await ws_.async_handshake(response, host, request_target, use_tuple);
    if (finishing_) co_return fail(why, failure_class::transient, "stopped");
    if (wec == websocket::error::upgrade_declined) {
      const int status = static_cast<int>(response.result_int());
      co_return fail(why, classify_upgrade_status(status),
                     "WebSocket upgrade refused by " + t.log_url + ": HTTP " +
                         std::to_string(status) + " " + std::string(response.reason()));
    }
    if (wec) {
      co_return fail(why, failure_class::transient,
                     "WebSocket handshake with " + t.log_url + " failed: " + wec.message());
    }
    co_return true;
  }

  net::awaitable<connection_end> serve() override {
    serving_ = true;
    opened_at_ = s_.mono();
    next_ping_ = opened_at_ + cfg_.ping_interval;
    s_.on_open(s_.utc());
    health_.on_connected();
    apply(vendor_.on_open());
    after_step();
    connection_end end;
    try {
      auto result = co_await (read_loop() || write_loop() || supervise());
      end = std::visit([](connection_end& e) { return std::move(e); }, result);
    } catch (const std::exception& e) {
      end = {end_kind::failed, {failure_class::transient, std::string("session error: ") + e.what()}};
    }
    if (finishing_) end = *finishing_;
    serving_ = false;
    co_return end;
  }

 private:
  static bool fail(failure& why, failure_class cls, std::string reason) {
    why = failure{cls, std::move(reason)};
    return false;
  }

  void enqueue(std::string message) {
    outq_.push_back(std::move(message));
    wake_.cancel();
  }

  void apply(session_step&& step) {
    s_.log_step(step);
    for (std::string& m : step.send) enqueue(std::move(m));
    if (step.fail) finish({end_kind::failed, std::move(*step.fail)});
    if (step.reconnect_now) finish({end_kind::reconnect_now, {failure_class::transient, "server shutdown"}});
  }

  // Mirrors the vendor phase into the stats and the health tracker.
  void after_step() {
    const rules::time_ns now = s_.mono();
    if (vendor_.authenticated() && !authenticated_) {
      authenticated_ = true;
      health_.on_authenticated(now);
      s_.on_authenticated(vendor_.desired_count());
      // News and generic sources can be quiet for hours: an acknowledged subscription is the
      // proof of working they can give.
      if (cfg_.which == dialect::alpaca_news || cfg_.which == dialect::generic) {
        health_.on_data(now);
      }
    }
    feed_state state = feed_state::authenticating;
    switch (vendor_.phase()) {
      case session_phase::awaiting_greeting:
      case session_phase::authenticating:
        state = feed_state::authenticating;
        break;
      case session_phase::subscribing:
        state = feed_state::subscribing;
        break;
      case session_phase::streaming:
        state = feed_state::streaming;
        break;
    }
    const std::size_t acked = vendor_.acknowledged_count();
    s_.update([&](feed_stats& st) {
      st.state = state;
      st.subscribed = acked;
    });
  }

  connection_end read_failure(const boost::system::error_code& ec) {
    if (finishing_) return *finishing_;
    if (ec == websocket::error::closed) {
      const websocket::close_reason& r = ws_.reason();
      const auto code = static_cast<int>(r.code);
      // 1008 policy (Polygon evicting a second connection) and 1013 try-again-later ask us
      // to wait; anything else is a plain restart.
      const failure_class cls =
          code == 1008 || code == 1013 ? failure_class::throttled : failure_class::transient;
      return {end_kind::failed,
              {cls, "server closed the connection (code " + std::to_string(code) +
                        (r.reason.empty() ? "" : ": " + std::string(r.reason.c_str())) + ")"}};
    }
    if (ec == websocket::error::message_too_big) {
      s_.on_oversized();
      return {end_kind::failed,
              {failure_class::transient,
               "a message exceeded max_frame_bytes (" + std::to_string(cfg_.max_frame_bytes) +
                   " bytes)"}};
    }
    if (ec == beast::error::timeout) {
      return {end_kind::failed,
              {failure_class::transient,
               "nothing received, not even a pong, for idle_timeout (" +
                   seconds_text(cfg_.idle_timeout) + ")"}};
    }
    return {end_kind::failed, {failure_class::transient, "read failed: " + ec.message()}};
  }

  net::awaitable<connection_end> read_loop() {
    co_await net::this_coro::throw_if_cancelled(false);
    for (;;) {
      buffer_.clear();
      auto [ec, bytes] = co_await ws_.async_read(buffer_, use_tuple);
      if (ec) {
        connection_end end = read_failure(ec);
        finish(end);  // the writer has nothing left to do
        co_return end;
      }
      if (!ws_.got_text()) {
        s_.on_binary_frame(bytes);
        continue;
      }
      // Room for the parser's padding after the message, in the buffer itself, so the frame is
      // parsed where Beast put it rather than copied into the parser's padded buffer. The
      // buffer keeps its capacity from message to message: prepare() only reallocates (and
      // moves the message) when one comes within the padding of the largest so far. Spaces,
      // as frame_parser::parse() pads.
      const net::mutable_buffer padding = buffer_.prepare(k_frame_padding);
      std::memset(padding.data(), ' ', padding.size());
      const std::string_view frame(static_cast<const char*>(buffer_.cdata().data()),
                                   buffer_.size());
      const parse_result& parsed = s_.process_frame(frame, /*padded=*/true);
      apply(vendor_.on_frame(frame, parsed));
      if (parsed.events > 0) health_.on_data(s_.mono());
      after_step();
      if (s_.consumer_backlogged()) co_await wait_for_consumer();
    }
  }

  // Backpressure: leave the socket unread while the engine works off its backlog (the other
  // sessions on this thread keep running meanwhile), for at most max_read_pause; TCP's window
  // then slows the sender. A dropped event costs an alert, a moment's delay costs nothing.
  // The listener ends the wait with live_feeds::resume_reading() as soon as it has caught up
  // (the timer's cancel); backlog_recheck is only the fallback for listeners that never do.
  // `paused` is raised before backlogged() is asked again, so a resume_reading() racing with
  // this check still finds the session paused and wakes it.
  net::awaitable<void> wait_for_consumer() {
    const auto until = std::chrono::steady_clock::now() + s_.max_read_pause();
    s_.set_paused(true);
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (finishing_ || now >= until || !s_.consumer_backlogged()) break;
      backlog_timer_.expires_at(std::min(until, now + s_.backlog_recheck()));
      co_await backlog_timer_.async_wait(use_tuple);
      if (co_await cancelled()) break;
    }
    s_.set_paused(false);
  }

  net::awaitable<connection_end> write_loop() {
    const double rate = send_rate_limit(cfg_.which);
    const rules::time_ns spacing =
        rate > 0 ? static_cast<rules::time_ns>(rules::k_ns_per_s / rate) : 0;
    co_await net::this_coro::throw_if_cancelled(false);
    for (;;) {
      if (finishing_ && finishing_->abortive) co_return *finishing_;
      if (finishing_) {
        // The closing handshake, bounded by handshake_timeout (Beast's timeout option).
        const websocket::close_reason reason(finishing_->kind == end_kind::stopped
                                                 ? websocket::close_code::going_away
                                                 : websocket::close_code::normal);
        co_await ws_.async_close(reason, use_tuple);
        co_return *finishing_;
      }
      const rules::time_ns now = s_.mono();
      const bool ping_due = cfg_.ping_interval > 0 && now >= next_ping_;
      if (!outq_.empty() || ping_due) {
        if (spacing > 0 && now < next_send_) {
          // Binance counts every incoming message (pings too) against 5 per second.
          wake_.expires_after(to_chrono(next_send_ - now));
          co_await wake_.async_wait(use_tuple);
          if (co_await cancelled()) co_return stopped_end();
          continue;
        }
        boost::system::error_code ec;
        if (!outq_.empty()) {
          const std::string message = std::move(outq_.front());
          outq_.pop_front();
          ws_.text(true);
          std::size_t written = 0;
          std::tie(ec, written) = co_await ws_.async_write(net::buffer(message), use_tuple);
        } else {
          next_ping_ = now + cfg_.ping_interval;
          std::tie(ec) = co_await ws_.async_ping(websocket::ping_data{}, use_tuple);
        }
        if (ec) {
          connection_end end = finishing_ ? *finishing_
                                          : connection_end{end_kind::failed,
                                                           {failure_class::transient,
                                                            "write failed: " + ec.message()}};
          co_return end;
        }
        if (spacing > 0) next_send_ = std::max(now, next_send_) + spacing;
        continue;
      }
      const rules::time_ns wait =
          cfg_.ping_interval > 0 ? next_ping_ - now : rules::k_ns_per_hour;
      wake_.expires_after(to_chrono(wait));
      co_await wake_.async_wait(use_tuple);  // cancelled by enqueue() and finish()
      if (co_await cancelled()) co_return stopped_end();
    }
  }

  net::awaitable<connection_end> supervise() {
    const rules::time_ns tick =
        std::clamp<rules::time_ns>(std::min(cfg_.auth_timeout, cfg_.healthy_after) / 5,
                                   20 * rules::k_ns_per_ms, 250 * rules::k_ns_per_ms);
    bool rotating = false;
    co_await net::this_coro::throw_if_cancelled(false);
    for (;;) {
      tick_.expires_after(to_chrono(tick));
      co_await tick_.async_wait(use_tuple);
      if (co_await cancelled()) co_return stopped_end();
      if (finishing_) continue;  // the writer is closing; it ends the group
      const rules::time_ns now = s_.mono();
      if (!vendor_.authenticated() && now - opened_at_ >= cfg_.auth_timeout) {
        finish({end_kind::failed,
                {failure_class::transient,
                 std::string(vendor_.phase() == session_phase::awaiting_greeting
                                 ? "no greeting"
                                 : "not authenticated") +
                     " within auth_timeout (" + seconds_text(cfg_.auth_timeout) + ")"},
                true});
        continue;
      }
      if (health_.check(now)) s_.on_healthy();
      if (cfg_.max_connection_age > 0 && !rotating && now - opened_at_ >= cfg_.max_connection_age) {
        // Open the replacement first, then close this one (Binance ends connections at 24 h).
        rotating = true;
        spdlog::info("feed {}: connection is {} old: opening its replacement", cfg_.name,
                     seconds_text(now - opened_at_));
        std::unique_ptr<connection> next = s_.make_connection();
        failure why;
        const bool ok = co_await next->open(why);
        if (co_await cancelled()) co_return stopped_end();
        if (ok && !finishing_) {
          s_.adopt_successor(std::move(next));
          finish({end_kind::rotate, {}});
        } else if (!ok) {
          spdlog::warn("feed {}: replacement connection failed ({}); keeping this one for now",
                       cfg_.name, s_.scrub_text(why.reason));
          opened_at_ = now - cfg_.max_connection_age + std::min<rules::time_ns>(
                                                            cfg_.max_connection_age,
                                                            60 * rules::k_ns_per_s);
          rotating = false;
        }
      }
    }
  }

  connection_end stopped_end() const {
    return finishing_ ? *finishing_ : connection_end{end_kind::stopped, {}};
  }

  session& s_;
  const session_config& cfg_;
  Ws ws_;
  tcp::resolver resolver_;
  net::steady_timer wake_;
  net::steady_timer tick_;
  net::steady_timer backlog_timer_;  // wait_for_consumer()
  beast::flat_buffer buffer_;
  std::deque<std::string> outq_;
  vendor_session vendor_;
  health_tracker health_;
  std::optional<connection_end> finishing_;
  bool serving_ = false;
  bool authenticated_ = false;
  rules::time_ns opened_at_ = 0;
  rules::time_ns next_ping_ = 0;
  rules::time_ns next_send_ = 0;
};

std::unique_ptr<connection> session::make_connection() {
  if (target_.url.tls) return std::make_unique<ws_connection<tls_ws>>(*this, strand_, *tls_);
  return std::make_unique<ws_connection<plain_ws>>(*this, strand_);
}

}  // namespace

struct live_feeds::impl {
  impl(std::vector<session_config> c, feed_listener& l, live_options o)
      : configs(std::move(c)), listener(l), options(std::move(o)) {
    if (!options.time) options.time = std::make_shared<system_clock>();
    for (std::size_t i = 0; i < configs.size(); ++i) {
      sessions.push_back(
          std::make_shared<session>(io, i, configs[i], listener, options, options.time));
    }
  }

  ~impl() {
    // Sessions hold I/O objects of `io`: release ours while `io` lives. Coroutine frames that
    // a forced stop left behind still own theirs; they go when `io` is destroyed.
    sessions.clear();
  }

  std::vector<session_config> configs;  // sessions keep references into it: never resized
  feed_listener& listener;
  live_options options;
  net::io_context io{1};
  std::vector<std::shared_ptr<session>> sessions;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable done;
  std::size_t active = 0;
  bool started = false;
  bool stopped = false;
};

live_feeds::live_feeds(std::vector<session_config> feeds, feed_listener& listener,
                       live_options options)
    : impl_(std::make_unique<impl>(std::move(feeds), listener, std::move(options))) {}

live_feeds::~live_feeds() { stop(std::chrono::milliseconds(2000)); }

void live_feeds::start() {
  impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.active = m.sessions.size();
  for (const auto& s : m.sessions) {
    net::co_spawn(s->strand(), session::run(s), [&m, name = s->config().name](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("feed {}: session ended by an error: {}", name, ex.what());
        } catch (...) {
          spdlog::error("feed {}: session ended by an unknown error", name);
        }
      }
      std::lock_guard lock(m.mutex);
      --m.active;
      m.done.notify_all();
    });
  }
  m.thread = std::thread([&m] {
    pthread_setname_np(pthread_self(), "as-feeds-io");  // for top, perf and the benchmark
    m.io.run();
  });
}

void live_feeds::stop(std::chrono::milliseconds deadline) {
  impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  for (const auto& s : m.sessions) net::post(s->strand(), [s] { s->stop(); });
  {
    std::unique_lock lock(m.mutex);
    if (!m.done.wait_for(lock, deadline, [&] { return m.active == 0; })) {
      spdlog::warn("feeds: {} session(s) did not close within {} ms; abandoning them", m.active,
                   deadline.count());
    }
  }
  m.io.stop();
  if (m.thread.joinable()) m.thread.join();
}

std::vector<feed_stats> live_feeds::snapshot() const {
  std::vector<feed_stats> out;
  out.reserve(impl_->sessions.size());
  for (const auto& s : impl_->sessions) out.push_back(s->stats());
  return out;
}

const std::vector<session_config>& live_feeds::configs() const noexcept { return impl_->configs; }

void live_feeds::resume_reading() {
  for (const auto& s : impl_->sessions) {
    if (!s->paused()) continue;
    // After stop() the handler is never run, only destroyed with the io_context: a weak
    // reference keeps it from owning the session there.
    net::post(s->strand(), [weak = std::weak_ptr<session>(s)] {
      if (auto self = weak.lock()) self->resume_reading();
    });
  }
}

}  // namespace aftershock::feeds
