// Turns one WebSocket text frame in a vendor dialect into market events: a pure function of the
// bytes (no I/O, no clock). One parser per thread: it reuses a simdjson parser and a padded
// buffer, so it is not thread-safe; use one instance per session or replay thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/event.h"

namespace aftershock::feeds {

enum class dialect : std::uint8_t {
  alpaca_stocks,
  alpaca_news,
  finnhub,
  polygon_stocks,
  binance,
  generic,
};
inline constexpr std::size_t k_dialect_count = 6;

/// "alpaca-stocks" ... "generic"; nullopt for an unknown name.
std::optional<dialect> dialect_from_name(std::string_view name) noexcept;
const char* to_string(dialect d) noexcept;

/// Why a frame (or an element of a batched frame) was rejected. Values, never exceptions.
enum class parse_error : std::uint8_t {
  none = 0,
  invalid_json,      // not JSON at all, or truncated
  unexpected_shape,  // JSON, but not the dialect's framing (object where an array belongs ...)
  missing_field,     // a required field is absent
  bad_value,         // a field has the wrong type or an impossible value (NaN, negative price,
                     // unparsable time)
};
const char* to_string(parse_error e) noexcept;

/// A non-data message the session layer acts on (greeting, auth result, acks, pings ...).
struct control_message {
  enum class kind : std::uint8_t {
    greeting,         // Alpaca success/connected, Polygon status connected
    authenticated,    // Alpaca success/authenticated, Polygon auth_success
    auth_failed,      // Alpaca 402, Polygon auth_failed
    subscription,     // subscription ack (Alpaca full set, Polygon per item, Binance result)
    error,            // vendor error with code and message
    ping,             // Finnhub {"type":"ping"}
    server_shutdown,  // Binance serverShutdown event
    connection_limit, // Alpaca 406, Polygon max_connections
    other_status,     // any other status text
  };
  kind what = kind::other_status;
  int code = 0;          // vendor error code (Alpaca 402, 406 ...), 0 if none
  std::string message;   // vendor text, for logs
};

/// What one parse() call found. A batched frame may hold good and bad elements: good ones are
/// emitted, bad ones counted in `rejected` with the first reason in `error`.
struct parse_result {
  std::size_t events = 0;      // events appended to the output
  std::size_t rejected = 0;    // elements (or the whole frame) skipped as malformed
  std::size_t ignored = 0;     // well-formed elements of types we do not use (imbalances ...)
  parse_error error = parse_error::none;  // first error seen, none if rejected == 0
  std::vector<control_message> controls;
};

class frame_parser {
 public:
  explicit frame_parser(dialect d);
  ~frame_parser();
  frame_parser(frame_parser&&) noexcept;
  frame_parser& operator=(frame_parser&&) noexcept;

  dialect which() const noexcept;

  /// Parses a frame and appends its events to `out`. Never throws on bad input.
  parse_result parse(std::string_view frame, std::vector<rules::event>& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::feeds
