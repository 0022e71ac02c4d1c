// The simulator's WebSocket server: serves capture files to clients in each vendor's dialect,
// on the vendor's paths, with the vendor's handshake (session_protocol), per-client filtering
// and re-encoding (subscriptions, data_frame), pacing (pacer) and fault injection (faults).
//
// Threading: everything runs on one thread (one io_context, run by run_server), so connection
// state, the registry and the playback need no locks. Each connection has one read and at most
// one write in flight; what it is sent waits in its own queue, and data frames queued together
// go out together (one batch of prepared frames per write). Before listening, run_server
// prepares the capture (playlist) on every core.
//
// Beast and Asio are confined to server.cpp: it is the one translation unit that takes about a
// minute to compile, so nothing else includes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "feeds/capture_reader.h"
#include "feedsim/faults.h"
#include "feedsim/pacer.h"
#include "feedsim/session_protocol.h"
#include "rules/time.h"

namespace aftershock::feedsim {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: ephemeral; the bound port is printed
  pacing pace;
  rules::time_ns from = 0;    // skip records captured before this (0: play everything)
  std::size_t wait_for = 1;   // playback starts once this many clients have subscribed
  rules::time_ns start_timeout = 0;  // give up (exit 3) if playback has not started by then; 0: wait
  /// Playback also waits until no client has sent a message for this long: clients subscribe
  /// in several messages (Finnhub: one per symbol), and the first frames must reach all of it.
  rules::time_ns settle = 250 * rules::k_ns_per_ms;
  bool exit_when_done = false;
  /// Keeps the capture's order across connections on the client's side: before a frame for
  /// another endpoint family than the previous frame's, every client sent frames since then
  /// must answer a WebSocket ping (a client answers only after reading what came before it).
  /// For tests that compare a live run with a replay; costs a round trip per switch.
  bool ordered = false;
  std::string tls_cert, tls_key;  // PEM files; both set = wss
  protocol_config protocol;
  fault_options faults;
  bool deflate = true;  // accept permessage-deflate offers (Alpaca supports it)
  int deflate_level = 1;  // zlib level 1 (fastest) to 9; see server.cpp
  /// Timed playback: a client with more than this queued is cut as a slow client (Alpaca sends
  /// 407 first), as vendors do. --speed max instead waits for the slowest client.
  std::size_t max_queue_bytes = 64u << 20;
  /// --speed max: playback pauses while any client has more than this queued.
  std::size_t window_bytes = 1u << 20;
  std::size_t read_message_max = 4u << 20;  // client messages (subscribes can be large)
  rules::time_ns handshake_timeout = 10 * rules::k_ns_per_s;  // TLS, HTTP upgrade, close
  rules::time_ns write_timeout = 30 * rules::k_ns_per_s;  // one frame stuck this long: cut
};

/// Exit codes of run_server.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_startup = 1;        // cannot listen, bad TLS files
inline constexpr int k_exit_start_timeout = 3;  // nobody subscribed within start_timeout

/// Listens, prints "listening HOST:PORT" as the first line on stdout, and serves `captures`.
/// Returns after the last frame reached every client (exit_when_done) or on SIGINT/SIGTERM.
int run_server(const server_options& options, feeds::capture_reader captures);

}  // namespace aftershock::feedsim
