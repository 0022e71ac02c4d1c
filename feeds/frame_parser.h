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
#include "rules/time.h"

namespace aftershock::feeds {

/// Frames above this size are rejected unparsed (parse_error::too_large). News bodies can exceed
/// 1 MiB, so the bound is generous; it exists so one hostile frame cannot pin gigabytes in the
/// parser's reusable buffers.
inline constexpr std::size_t k_max_frame_bytes = 64u << 20;

/// Readable bytes frame_parser::parse_padded() needs after a frame (simdjson's padding).
inline constexpr std::size_t k_frame_padding = 64;

/// Event times outside [k_earliest_event_time, k_latest_event_time) are rejected as bad values:
/// 1990-01-01T00:00:00Z to 2201-01-01T00:00:00Z. A time outside this window is a unit mix-up
/// (seconds read as milliseconds ...) or garbage, and would poison the rules' watermark.
inline constexpr rules::time_ns k_earliest_event_time = 631'152'000 * rules::k_ns_per_s;
inline constexpr rules::time_ns k_latest_event_time = 7'289'654'400 * rules::k_ns_per_s;

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

/// The simdjson kernel the dialect parsers' On-Demand walk was compiled for ("fallback" unless
/// the build targets AVX2), for benchmarks. Stage 1 (indexing) and string unescaping dispatch at
/// run time to the best kernel of the machine whatever this says (simdjson 3.0.1 calls them
/// through get_active_implementation()); number parsing and the walk itself are compiled in.
const char* parser_kernel_name() noexcept;

/// Why a frame (or an element of a batched frame) was rejected. Values, never exceptions.
enum class parse_error : std::uint8_t {
  none = 0,
  invalid_json,      // not JSON at all, or truncated
  unexpected_shape,  // JSON, but not the dialect's framing (object where an array belongs ...)
  missing_field,     // a required field is absent
  bad_value,         // a field has the wrong type or an impossible value (NaN, negative price,
                     // unparsable time)
  too_large,         // the frame is longer than k_max_frame_bytes (not parsed at all)
};
const char* to_string(parse_error e) noexcept;

/// A non-data message the session layer acts on (greeting, auth result, acks, pings ...).
struct control_message {
  enum class kind : std::uint8_t {
    greeting,          // Alpaca success/connected, Polygon status connected
    authenticated,     // Alpaca success/authenticated, Polygon auth_success
    auth_failed,       // Alpaca 402, Polygon auth_failed
    subscription,      // subscription ack (Alpaca full set, Polygon per item, Binance result)
    error,             // vendor error with code and message
    ping,              // Finnhub {"type":"ping"}
    server_shutdown,   // Binance serverShutdown event
    connection_limit,  // Alpaca 406, Polygon max_connections
    other_status,      // any other status text
  };
  kind what = kind::other_status;
  int code = 0;         // vendor error code (Alpaca 402, 406 ...), 0 if none
  std::string message;  // vendor text, for logs
};

/// What one parse() call found. A batched frame may hold good and bad elements: good ones are
/// emitted, bad ones counted in `rejected` with the first reason in `error`.
struct parse_result {
  std::size_t events = 0;    // events appended to the output
  std::size_t rejected = 0;  // elements (or the whole frame) skipped as malformed
  std::size_t ignored = 0;   // well-formed elements of types we do not use (imbalances ...)
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
  ///
  /// Framing errors (not JSON, truncated, trailing bytes, wrong top-level type) reject the whole
  /// frame: nothing is appended and rejected == 1. Otherwise each element stands alone: a bad one
  /// is counted in `rejected`, an unknown message type in `ignored`, and the rest are emitted.
  /// Conventions across dialects:
  /// - times are UTC nanoseconds inside [k_earliest_event_time, k_latest_event_time);
  /// - a bar is labelled by `start`; `end` is when it became final: start + 1 min for Alpaca
  ///   minute and updated bars, the vendor's `e` for Polygon. Alpaca daily bars are running
  ///   snapshots whose time the message does not give, so their `end` equals `start`;
  /// - prices are finite and > 0 (quote sides may be 0: no interest); sizes finite and >= 0;
  ///   symbols 1..32 bytes; headlines non-empty;
  /// - values the events do not keep (conditions, exchange codes, unknown keys) are skipped
  ///   unvalidated, as on-demand parsing does.
  parse_result parse(std::string_view frame, std::vector<rules::event>& out);

  /// As parse(), for a frame that already has k_frame_padding readable bytes after it in
  /// memory (any content): parsed where it lies, without the copy into the parser's own padded
  /// buffer. Replay uses it for frames inside a capture's text (capture_record::padded).
  parse_result parse_padded(std::string_view frame, std::vector<rules::event>& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::feeds
