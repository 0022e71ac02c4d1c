// What one live feed session needs, resolved: the dialect, where to connect, what to
// subscribe, credentials as secrets, every deadline, and the market whose hours decide
// staleness; plus the counters a session exposes as a plain snapshot. Plain aggregates; safe to
// copy and to move between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "feeds/frame_parser.h"
#include "feeds/reconnect.h"
#include "feeds/secret.h"
#include "feeds/staleness.h"
#include "rules/time.h"

namespace aftershock::feeds {

/// Binance: put the streams in the URL (/ws/<s>@trade, /stream?streams=...) or send SUBSCRIBE.
enum class subscribe_mode : std::uint8_t { url, message };

struct session_config {
  std::string name;  // "alpaca-stocks-sip": logs, metrics, capture file names
  dialect which = dialect::generic;
  std::string url;   // ws:// or wss://, without credentials (Finnhub's token is added here)
  std::vector<std::string> symbols;
  std::vector<std::string> channels;  // validated per dialect; empty means the dialect default
  secret key;                         // Alpaca key id, Polygon and Finnhub API key
  secret key_secret;                  // Alpaca secret key
  std::string subscribe_message;      // generic: sent as is after connecting (optional)
  subscribe_mode binance_mode = subscribe_mode::url;

  // TLS
  std::string ca_file;       // extra trust anchors (PEM) on top of the system store
  bool verify_host = true;   // host-name verification; off only with a loud warning

  // WebSocket
  bool compression = true;   // offer permessage-deflate
  std::size_t max_frame_bytes = 4u << 20;  // larger messages are counted and the session reconnects

  // Deadlines and liveness
  rules::time_ns connect_timeout = 10 * rules::k_ns_per_s;    // resolve + TCP connect
  rules::time_ns handshake_timeout = 10 * rules::k_ns_per_s;  // TLS and WebSocket handshakes
  rules::time_ns auth_timeout = 10 * rules::k_ns_per_s;       // open -> authenticated
  rules::time_ns idle_timeout = 30 * rules::k_ns_per_s;       // nothing at all received (not even
                                                              // a pong): the socket is dead
  rules::time_ns ping_interval = 10 * rules::k_ns_per_s;      // our WebSocket pings; 0 = none
  rules::time_ns stale_after = 0;           // staleness watchdog; 0 = off
  std::shared_ptr<const market_hours> market;  // null = always open
  rules::time_ns max_connection_age = 0;    // planned reconnect (Binance: 23 h); 0 = none
  rules::time_ns healthy_after = 30 * rules::k_ns_per_s;  // healthy this long resets the backoff
  backoff_config backoff;
};

enum class feed_state : std::uint8_t {
  idle,            // not started
  connecting,      // resolve, TCP, TLS, WebSocket handshake
  authenticating,  // open, waiting for greeting / auth result
  subscribing,     // authenticated, subscription sent
  streaming,       // data may flow
  backing_off,     // waiting to reconnect
  stopped,
};
const char* to_string(feed_state s) noexcept;

/// One session's counters and state, copied out for metrics, logs and tests.
struct feed_stats {
  std::string name;
  dialect which = dialect::generic;
  feed_state state = feed_state::idle;
  bool connected = false;      // WebSocket open
  bool authenticated = false;  // vendor accepted us (or no auth in this dialect)
  bool healthy = false;        // authenticated, data seen, up for healthy_after
  std::uint64_t connect_attempts = 0;
  std::uint64_t connects = 0;         // WebSocket handshakes that succeeded
  std::uint64_t reconnects = 0;       // connections after the first
  std::uint64_t planned_reconnects = 0;  // max_connection_age rotations, serverShutdown
  std::uint64_t frames = 0;           // text frames received
  std::uint64_t binary_frames = 0;    // ignored (msgpack is not enabled)
  std::uint64_t bytes = 0;
  std::uint64_t server_pings = 0;     // WebSocket pings from the server (answered by Beast)
  std::uint64_t messages = 0;         // frames + server pings: what staleness watches
  std::uint64_t events = 0;           // parsed market events handed on
  std::uint64_t controls = 0;         // vendor control messages
  std::uint64_t parse_errors = 0;     // frames or batch elements rejected by the parser
  std::uint64_t oversized_frames = 0; // over max_frame_bytes: counted, then reconnect
  std::uint64_t vendor_errors = 0;    // vendor error messages (logged)
  std::uint64_t fatal_failures = 0;   // bad keys, refused plan, HTTP 4xx on upgrade
  std::uint64_t throttled = 0;        // 406 / max_connections / 429
  std::uint64_t stale = 0;            // stale episodes (feed_stale alerts)
  std::uint64_t stale_reconnects = 0; // reconnects forced by the watchdog
  std::uint64_t record_errors = 0;    // capture lines that could not be written
  std::uint64_t subscribed = 0;       // symbols x channels the vendor acknowledged (if it acks)
  std::uint64_t desired = 0;          // symbols x channels we asked for
  rules::time_ns connected_since = 0;    // UTC ns of the current connection's open, 0 if none
  rules::time_ns last_message_at = 0;    // UTC ns of the last inbound frame or server ping
  rules::time_ns last_event_time = 0;    // market time of the newest event
  rules::time_ns event_time_lag = 0;     // receive time - event time, for the last frame
  rules::time_ns next_attempt_in = 0;    // when backing off: the delay chosen
  std::string last_error;                // redacted, for logs and status
  failure_class last_failure = failure_class::transient;
};

}  // namespace aftershock::feeds
