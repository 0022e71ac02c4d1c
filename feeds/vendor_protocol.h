// The vendors' session protocols as pure logic (feeds.md §1-5): where to connect, what to send
// after the socket opens and after each control message (greeting, auth, subscribe), how to
// reconcile the subscription acks, and which failures are fatal, throttled or transient.
// No I/O: the Beast session (live_feeds.cpp) moves the bytes and does what a step says, so
// every vendor's sequence is unit-tested without sockets. A vendor_session belongs to one
// connection on one strand: not thread-safe. Free functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/frame_parser.h"
#include "feeds/reconnect.h"
#include "feeds/session_config.h"
#include "feeds/ws_url.h"

namespace aftershock::feeds {

// ---- channels ---------------------------------------------------------------------------------

/// The channel names a dialect accepts in the config (trades, quotes, bars, news ...).
std::vector<std::string> known_channels(dialect d);
/// What a feed subscribes to when its config lists no channels.
std::vector<std::string> default_channels(dialect d);
/// Empty if `channel` is valid for the dialect; otherwise a message listing the valid ones.
std::string check_channel(dialect d, std::string_view channel);

/// Dialect defaults: staleness threshold (feeds.md §6: Binance 60 s, Alpaca ~3 x its 54 s
/// pings, Finnhub a few minutes; generic sources may be quiet for hours, so off) and the
/// planned reconnect age (Binance closes connections at 24 h; renew at 23 h).
rules::time_ns default_stale_after(dialect d) noexcept;
rules::time_ns default_max_connection_age(dialect d) noexcept;
/// Whether the dialect needs a key (Alpaca, Polygon, Finnhub) and a secret (Alpaca).
bool needs_key(dialect d) noexcept;
bool needs_secret(dialect d) noexcept;

// ---- where to connect -------------------------------------------------------------------------

struct connect_target {
  ws_url url;           // what the client connects to (may carry Finnhub's token)
  std::string log_url;  // the same with credentials redacted: the only form ever logged
};

/// The URL to connect to: Finnhub gets ?token=KEY; Binance in url mode gets its streams in
/// the path (/ws/<stream> for one, /stream?streams=a/b for several) unless the configured URL
/// already names them. nullopt with a reason for an unusable URL.
std::optional<connect_target> make_connect_target(const session_config& config,
                                                  std::string* error);

// ---- messages ---------------------------------------------------------------------------------

/// Channel (as the vendor names it: "trades", "updatedBars", "T", "AM") -> symbols.
using channel_set = std::map<std::string, std::vector<std::string>>;

/// The desired subscription in the vendor's own channel names.
channel_set desired_subscription(const session_config& config);

std::string alpaca_auth_message(const secret& key, const secret& key_secret);
/// One subscribe with the full set. Large sets go out as one message in several WebSocket
/// frames of at most k_alpaca_max_frame_bytes (the session sets Beast's write buffer to it), as
/// alpaca-py does: the server has rejected large single frames with 1009.
std::string alpaca_subscribe_message(const channel_set& desired);
inline constexpr std::size_t k_alpaca_max_frame_bytes = 32 * 1024;

std::string polygon_auth_message(const secret& key);
/// {"action":"subscribe","params":"T.NVDA,Q.NVDA,AM.NVDA"}: every item carries its prefix.
std::string polygon_subscribe_message(const channel_set& desired);

/// One {"type":"subscribe"|"subscribe-news","symbol":...} per symbol (Finnhub has no batch).
std::vector<std::string> finnhub_subscribe_messages(const channel_set& desired);

/// "btcusdt@trade", "ethusdt@aggTrade": symbols lowercased as Binance requires.
std::vector<std::string> binance_streams(const channel_set& desired);
/// SUBSCRIBE requests of at most `per_message` streams each, ids from `first_id`.
std::vector<std::string> binance_subscribe_messages(const std::vector<std::string>& streams,
                                                    std::size_t per_message, long first_id);
inline constexpr std::size_t k_binance_streams_per_message = 100;
/// Binance counts every incoming message (pings and pongs too) against 5 per second per
/// connection; we send at most this many per second.
inline constexpr double k_binance_messages_per_second = 4.0;

/// Messages per second a dialect allows us to send (0 = no limit).
double send_rate_limit(dialect d) noexcept;

// ---- acks ---------------------------------------------------------------------------------------

/// The full current set from an Alpaca [{"T":"subscription",...}] frame, or nullopt if the
/// frame holds no subscription message.
std::optional<channel_set> parse_alpaca_subscription(std::string_view frame);

struct reconcile_result {
  std::size_t desired = 0;        // symbol x channel pairs asked for
  std::size_t acknowledged = 0;   // of those, present in the ack (or covered by "*")
  std::vector<std::string> missing;  // "trades:NVDA" for each pair the ack lacks
};
/// Compares the full-state ack with what we asked for.
reconcile_result reconcile(const channel_set& desired, const channel_set& acknowledged);

// ---- failures ---------------------------------------------------------------------------------

struct failure {
  failure_class cls = failure_class::transient;
  std::string reason;  // for logs; never contains credentials
};

/// HTTP status of a refused WebSocket upgrade: 429 throttled, other 4xx fatal, else transient.
failure_class classify_upgrade_status(int http_status) noexcept;

// ---- the per-connection protocol ------------------------------------------------------------

enum class session_phase : std::uint8_t {
  awaiting_greeting,  // Alpaca and Polygon speak first
  authenticating,     // auth sent
  subscribing,        // subscription sent, no ack or data yet
  streaming,
};

/// What the session must do after an input.
struct session_step {
  std::vector<std::string> send;      // text messages to queue, in order
  std::optional<failure> fail;        // end this connection and back off by its class
  bool reconnect_now = false;         // planned: reconnect at once (Binance serverShutdown)
  std::vector<std::string> warnings;  // vendor errors worth a (rate-limited) log line
  std::vector<std::string> notes;     // milestones for an info line (authenticated ...)
};

class vendor_session {
 public:
  /// The config must outlive the session (it holds the credentials).
  explicit vendor_session(const session_config& config);

  /// The WebSocket is open.
  session_step on_open();
  /// A text frame and what the dialect parser made of it.
  session_step on_frame(std::string_view frame, const parse_result& parsed);

  session_phase phase() const noexcept { return phase_; }
  bool authenticated() const noexcept { return authenticated_; }
  /// Symbol x channel pairs asked for, and how many the vendor acknowledged (no-ack vendors:
  /// all, once sent).
  std::size_t desired_count() const noexcept { return desired_count_; }
  std::size_t acknowledged_count() const noexcept { return acknowledged_; }

 private:
  session_step subscribe();
  void on_control(const control_message& c, std::string_view frame, session_step& step);

  const session_config& config_;
  channel_set desired_;
  std::size_t desired_count_ = 0;
  session_phase phase_ = session_phase::awaiting_greeting;
  bool authenticated_ = false;
  std::size_t acknowledged_ = 0;
  std::vector<std::size_t> binance_pending_;  // stream counts of unacknowledged SUBSCRIBEs
};

}  // namespace aftershock::feeds
