// The server side of each vendor's session protocol (feeds.md §1-5) as a state machine: the
// connection feeds it the client's messages, pongs and the time, and it answers with the
// frames to send and whether to ping, close or cut the connection. No I/O and no clock: the
// Beast server (server.cpp) moves the bytes, so every handshake is unit-tested without sockets.
//
//   Alpaca   greeting [{"T":"success","msg":"connected"}]; auth -> authenticated | 402 (and
//            close); 401 subscribe before auth; 403 second auth; 404 no auth within the
//            timeout (and close); 406 over the connection limit (and close); 400 bad request;
//            acks with the full current set per channel. Header auth (APCA-API-KEY-ID/
//            APCA-API-SECRET-KEY) authenticates at once.
//   Polygon  status connected; auth -> auth_success | auth_failed (and close); one success per
//            subscribed item; max_connections (and close 1008) over the limit; auth_timeout.
//   Finnhub  ?token= checked at the upgrade (401); no greeting; subscribe without acks;
//            {"type":"ping"} every ping interval (default 60 s).
//   Binance  SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with
//            {"result":..,"id":..}; a WebSocket ping every 20 s and a cut after 60 s without a pong.
//   generic  no handshake; everything is sent.
//
// One instance per connection, on that connection's executor: not thread-safe. The
// connection_registry is shared by every connection of a server (same single thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "feedsim/endpoint.h"
#include "feedsim/json_value.h"
#include "feedsim/subscriptions.h"
#include "rules/time.h"

namespace aftershock::feedsim {

/// Counts authenticated connections per endpoint path and key, for the vendors' one-connection
/// limits (Alpaca 406, Polygon max_connections). Single-threaded.
class connection_registry {
 public:
  /// Registers one more connection for (path, key) unless `limit` (> 0) are already there.
  bool try_add(std::string_view path, std::string_view key, std::size_t limit);
  void remove(std::string_view path, std::string_view key);
  std::size_t count(std::string_view path, std::string_view key) const;

 private:
  std::map<std::string, std::size_t, std::less<>> counts_;
};

struct protocol_config {
  /// The credentials the simulator accepts: the Alpaca key id (Polygon and Finnhub: the API
  /// key) and the Alpaca secret. Empty accepts any non-empty value.
  std::string key;
  std::string secret;
  /// Refuse every authentication on this connection (fault injection: --reject-auth).
  bool reject_auth = false;
  /// Authenticated connections allowed per key and endpoint path; 0 = no limit.
  std::size_t connection_limit = 0;
  rules::time_ns auth_timeout = 10 * rules::k_ns_per_s;
  /// Server keepalive: Alpaca WebSocket pings (54 s, as observed), Finnhub JSON pings (60 s),
  /// Binance WebSocket pings (20 s). A negative value keeps these defaults; 0 turns pings off.
  rules::time_ns ping_interval = -1;
  /// Binance cuts a client that has not answered a ping for this long (default 60 s; with a
  /// ping_interval set, three intervals).
  rules::time_ns pong_timeout = -1;
};

/// What the upgrade request said that the protocol cares about.
struct handshake_info {
  bool msgpack = false;     // Content-Type: application/msgpack (Alpaca)
  std::string header_key;   // APCA-API-KEY-ID
  std::string header_secret;  // APCA-API-SECRET-KEY
};

/// What the connection must do after an input.
struct protocol_step {
  enum class ending : std::uint8_t {
    none,
    close,  // send the queued frames, then a close frame with close_code
    abort,  // cut the TCP connection without a close frame
  };
  std::vector<std::string> send;  // JSON frames (the connection re-encodes for msgpack clients)
  bool ws_ping = false;
  ending end = ending::none;
  std::uint16_t close_code = 1000;
  std::string close_reason;
  std::vector<std::string> notes;  // what happened, for the log (auth failed, limit hit ...)
};

class session_protocol {
 public:
  session_protocol(endpoint ep, protocol_config config, connection_registry& registry);
  ~session_protocol();
  session_protocol(const session_protocol&) = delete;
  session_protocol& operator=(const session_protocol&) = delete;

  /// The HTTP status to answer the upgrade with: 101 to accept; 401 for a Finnhub token that
  /// is missing or refused.
  int upgrade_status() const;

  /// The WebSocket is open.
  protocol_step on_open(const handshake_info& info, rules::time_ns now);
  /// A message from the client; nullptr when it could not be parsed (JSON or msgpack).
  protocol_step on_message(const json_value* message, rules::time_ns now);
  /// A pong arrived (Binance liveness).
  void on_pong(rules::time_ns now);
  /// Time passed: auth timeout, keepalive pings, pong deadline. Call at next_deadline().
  protocol_step on_tick(rules::time_ns now);
  /// When on_tick next has something to do; nullopt when nothing is scheduled.
  std::optional<rules::time_ns> next_deadline() const;

  /// Data may flow: the handshake is done and the client subscribed to something.
  bool streaming() const;
  bool authenticated() const noexcept { return authenticated_; }
  /// The session ended (closed by the protocol): the connection sends nothing more.
  bool ended() const noexcept { return ended_; }
  const subscriptions& subs() const noexcept { return subs_; }
  const endpoint& where() const noexcept { return endpoint_; }
  bool msgpack() const noexcept { return msgpack_; }

 private:
  bool credentials_ok(std::string_view key, std::string_view secret) const;
  void authenticate(std::string_view key, protocol_step& step);

  void alpaca_message(const json_value& m, protocol_step& step);
  void alpaca_subscription(const json_value& m, bool add, protocol_step& step);
  std::string alpaca_ack() const;
  static std::string alpaca_error(int code, std::string_view msg);

  void polygon_message(const json_value& m, protocol_step& step);
  static std::string polygon_status(std::string_view status, std::string_view message);

  void finnhub_message(const json_value& m, protocol_step& step);
  void binance_message(const json_value& m, protocol_step& step);

  void end(protocol_step& step, protocol_step::ending how, std::uint16_t code,
           std::string reason);

  endpoint endpoint_;
  protocol_config config_;
  connection_registry& registry_;
  subscriptions subs_;
  bool msgpack_ = false;
  bool opened_ = false;
  bool authenticated_ = false;
  bool registered_ = false;  // counted in the registry under registered_key_
  std::string registered_key_;
  bool ended_ = false;
  rules::time_ns auth_deadline_ = 0;  // 0: none
  rules::time_ns ping_interval_ = 0;  // 0: no pings
  rules::time_ns next_ping_ = 0;
  rules::time_ns pong_timeout_ = 0;
  rules::time_ns unanswered_since_ = 0;  // first ping not yet answered; 0: none
};

}  // namespace aftershock::feedsim
