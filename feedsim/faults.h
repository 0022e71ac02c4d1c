// Fault injection, per connection: what to do to one client after each data frame it was sent
// (cut it, stall it, slip in a frame that is not JSON or one too big to accept, announce a
// Binance shutdown) and whether to refuse its authentication. Counters start afresh on every
// connection, so a client that reconnects meets the same faults again, unless
// fault_options::connections limits them to the first K connections of each endpoint family
// (K = 1: the first connection fails, the reconnect streams normally).
// Pure; one fault_plan per connection, not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "feeds/frame_parser.h"
#include "rules/time.h"

namespace aftershock::feedsim {

struct fault_options {
  std::size_t drop_after = 0;      // cut the TCP connection (no close frame) after N data frames
  std::size_t stall_after = 0;     // after N data frames send nothing more, answer no pings, but
                                   // keep the socket open
  std::size_t garbage_every = 0;   // after every N data frames, one frame that is not JSON
                                   // (binary clients: not msgpack)
  std::size_t oversize_every = 0;  // after every N data frames, one frame of oversize_bytes
  std::size_t oversize_bytes = 5u << 20;
  std::size_t shutdown_after = 0;  // Binance: {"e":"serverShutdown"} after N data frames, then
                                   // a close (1001)
  bool reject_auth = false;        // every auth fails (Alpaca 402, Polygon auth_failed, Finnhub 401)
  std::size_t connections = 0;     // faults hit the first K connections of each endpoint
                                   // family (Alpaca stocks, news, Polygon ...); 0 = every one

  bool any() const noexcept {
    return drop_after || stall_after || garbage_every || oversize_every || shutdown_after ||
           reject_auth;
  }
};

enum class fault_action : std::uint8_t {
  garbage,          // send garbage_frame()
  oversize,         // send oversize_frame()
  server_shutdown,  // send server_shutdown_frame(), then close with 1001
  drop,             // cut the connection
  stall,            // stop sending and reading
};
const char* to_string(fault_action a) noexcept;

class fault_plan {
 public:
  fault_plan() = default;  // no faults
  /// `connection_number`: 1 for the first connection of its endpoint family, 2 for the next ...
  fault_plan(const fault_options& options, std::size_t connection_number);

  bool active() const noexcept { return active_; }
  bool reject_auth() const noexcept { return active_ && options_.reject_auth; }
  std::size_t oversize_bytes() const noexcept { return options_.oversize_bytes; }

  /// Call once a data frame has been queued for the client; appends the faults to inject now,
  /// in order (injected frames first, a terminal action last).
  void after_data_frame(std::vector<fault_action>& out);
  /// A terminal fault fired: the connection sends no more data.
  bool finished() const noexcept { return finished_; }
  std::size_t data_frames() const noexcept { return data_frames_; }

 private:
  fault_options options_;
  bool active_ = false;
  bool finished_ = false;
  std::size_t data_frames_ = 0;
};

/// Valid UTF-8 text that no JSON parser accepts; for binary (msgpack) clients a byte msgpack
/// reserves (0xc1) and never assigns.
std::string garbage_frame(bool binary);

/// A frame of exactly `bytes` bytes (when `bytes` is large enough to hold the wrapper) that is
/// valid JSON in the dialect's framing, of a message type no client knows ("feedsim_padding"),
/// so a client that accepts frames this large ignores it.
std::string oversize_frame(feeds::dialect d, std::size_t bytes);

/// Binance's maintenance notice {"e":"serverShutdown","E":<ms>}; wrapped as the
/// "!serverShutdown" stream for combined clients.
std::string server_shutdown_frame(bool combined, rules::time_ns event_time);

}  // namespace aftershock::feedsim
