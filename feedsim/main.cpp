// aftershock-feedsim: serves capture files as the vendors' WebSocket feeds (see server.h), and
// `aftershock-feedsim generate` writes synthetic market days for benchmarks (generator.h).
// Command-line parsing and file reading only; the work is in the library and server.cpp.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "feeds/capture_reader.h"
#include "feedsim/generator.h"
#include "feedsim/pacer.h"
#include "feedsim/server.h"
#include "rules/time.h"

namespace {

using namespace aftershock;
using feedsim::server_options;

constexpr int k_exit_usage = 2;

// Seconds as a number ("0.5", "90") or a duration with a unit ("500ms", "2h").
std::optional<rules::time_ns> parse_seconds(std::string_view text) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    return static_cast<rules::time_ns>(std::llround(seconds * 1e9));
  }
  return rules::parse_duration(text);
}

bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (h.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) return false;
  host = std::string(h);
  port = static_cast<std::uint16_t>(value);
  return true;
}

// Reads a whole capture in one go: a generated benchmark day is more than a gigabyte, so no
// stream copies; the slack lets the capture reader append its parser padding in place.
bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  std::string text;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long size = std::ftell(f);
    if (size > 0) text.reserve(static_cast<std::size_t>(size) + 4096);
    std::rewind(f);
  }
  char chunk[1 << 16];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    error = path + ": read error";
    return false;
  }
  out = std::move(text);
  return true;
}

int serve_main(int argc, char** argv) {
  CLI::App app{
      "aftershock-feedsim - serves capture files as the vendors' WebSocket feeds.\n\n"
      "Each capture record is served on the endpoint of its dialect, with the vendor's handshake:\n"
      "  Alpaca  /v2/iex /v2/sip /v2/delayed_sip /v2/test, /v1beta1/news  (JSON or msgpack)\n"
      "  Polygon /stocks    Finnhub /?token=KEY    generic /generic\n"
      "  Binance /ws/<stream>, /stream?streams=a@trade/b@trade\n"
      "The first line on stdout is `listening HOST:PORT`. Playback starts once --wait-for clients\n"
      "have subscribed and sent nothing for --settle. Faults apply to every connection (counters\n"
      "restart on each), or to the first K connections of each endpoint family with\n"
      "--fault-connections K.\n\n"
      "  aftershock-feedsim generate --help   writes synthetic captures for benchmarks",
      "aftershock-feedsim"};

  server_options opt;
  std::vector<std::string> captures;
  std::string listen = "127.0.0.1:0", speed = "1", max_gap, from, start_timeout, auth_timeout,
              ping_interval, pong_timeout, log_level = "info", play_in, settle;
  bool no_deflate = false;

  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: ephemeral)")
      ->capture_default_str();
  app.add_option("--speed", speed,
                 "Playback speed: a factor (1 = real time, 60 = a minute per second) or max "
                 "(as fast as the slowest client reads)")
      ->capture_default_str();
  app.add_option("--play-in", play_in,
                 "Pick the speed factor so the capture (after --max-gap) plays in about this "
                 "long (seconds, or 90s, 2m ...); replaces --speed");
  app.add_option("--max-gap", max_gap,
                 "Compress silences longer than this (seconds, or 500ms, 1m ...) of capture time");
  app.add_option("--from", from, "Skip records captured before this RFC 3339 time");
  app.add_option("--wait-for", opt.wait_for, "Start playback once N clients have subscribed")
      ->capture_default_str();
  app.add_option("--settle", settle,
                 "Before playback, also wait until clients have sent nothing for this long, so "
                 "subscriptions sent in several messages are complete (default 250ms; 0: off)");
  app.add_option("--start-timeout", start_timeout,
                 "Exit with code 3 if playback has not started within this time");
  app.add_flag("--exit-when-done", opt.exit_when_done,
               "Exit (code 0) once the last frame has been sent to every client");
  app.add_flag("--ordered", opt.ordered,
               "Keep the capture's order across connections: before switching to another "
               "endpoint, wait until the clients answered a ping sent after their frames "
               "(for exact live-vs-replay comparisons)");
  app.add_option("--tls-cert", opt.tls_cert, "PEM certificate (chain): serve wss")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", opt.tls_key, "PEM private key for --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--key", opt.protocol.key,
                 "The only API key accepted (Alpaca key id, Polygon/Finnhub key); default: any "
                 "non-empty");
  app.add_option("--secret", opt.protocol.secret,
                 "The only Alpaca secret accepted; default: any non-empty");
  app.add_option("--connection-limit", opt.protocol.connection_limit,
                 "Authenticated connections per key and endpoint (Alpaca 406, Polygon "
                 "max_connections); 0 = no limit")
      ->capture_default_str();
  app.add_option("--auth-timeout", auth_timeout, "Alpaca 404 / Polygon auth_timeout after (10s)");
  app.add_option("--ping-interval", ping_interval,
                 "Server keepalive for every vendor (default: Alpaca 54s, Finnhub 60s JSON ping, "
                 "Binance 20s); 0 = off");
  app.add_option("--pong-timeout", pong_timeout,
                 "Binance: cut a client that has not answered a ping for this long (60s)");
  app.add_option("--drop-after", opt.faults.drop_after,
                 "Fault: cut the TCP connection after N data frames");
  app.add_option("--stall-after", opt.faults.stall_after,
                 "Fault: after N data frames send nothing and answer nothing, socket left open");
  app.add_option("--garbage-every", opt.faults.garbage_every,
                 "Fault: after every N data frames, a frame that is not JSON (msgpack: not "
                 "msgpack)");
  app.add_option("--oversize-every", opt.faults.oversize_every,
                 "Fault: after every N data frames, a frame of --oversize-bytes");
  app.add_option("--oversize-bytes", opt.faults.oversize_bytes, "Size of oversize frames")
      ->capture_default_str();
  app.add_option("--server-shutdown-after", opt.faults.shutdown_after,
                 "Fault (Binance): serverShutdown after N data frames, then close 1001");
  app.add_flag("--reject-auth", opt.faults.reject_auth,
               "Fault: refuse every authentication (Alpaca 402, Polygon auth_failed, Finnhub 401)");
  app.add_option("--fault-connections", opt.faults.connections,
                 "Faults hit only the first K connections of each endpoint family; 0 = all")
      ->capture_default_str();
  app.add_option("--max-queue", opt.max_queue_bytes,
                 "Timed playback: cut a client with more than this many bytes queued")
      ->capture_default_str();
  app.add_flag("--no-deflate", no_deflate, "Refuse permessage-deflate");
  app.add_option("--deflate-level", opt.deflate_level,
                 "permessage-deflate compression level, 1 (fastest) to 9 (smallest)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  app.add_option("captures", captures, "Capture v1 files (merged in `at` order)")
      ->required()
      ->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);

  // Every problem at once.
  std::vector<std::string> errors;
  if (!parse_listen(listen, opt.host, opt.port)) {
    errors.push_back("--listen: expected HOST:PORT, got " + listen);
  }
  if (auto p = feedsim::parse_speed(speed)) {
    opt.pace = *p;
  } else {
    errors.push_back("--speed: expected a positive factor or max, got " + speed);
  }
  auto seconds_option = [&](const std::string& text, const char* name, rules::time_ns& out) {
    if (text.empty()) return;
    if (auto v = parse_seconds(text)) {
      out = *v;
    } else {
      errors.push_back(std::string(name) + ": expected seconds or a duration, got " + text);
    }
  };
  seconds_option(max_gap, "--max-gap", opt.pace.max_gap);
  seconds_option(start_timeout, "--start-timeout", opt.start_timeout);
  seconds_option(settle, "--settle", opt.settle);
  seconds_option(auth_timeout, "--auth-timeout", opt.protocol.auth_timeout);
  seconds_option(ping_interval, "--ping-interval", opt.protocol.ping_interval);
  seconds_option(pong_timeout, "--pong-timeout", opt.protocol.pong_timeout);
  if (!from.empty()) {
    if (auto t = rules::parse_rfc3339(from)) {
      opt.from = *t;
    } else {
      errors.push_back("--from: expected an RFC 3339 time, got " + from);
    }
  }
  if (opt.tls_cert.empty() != opt.tls_key.empty()) {
    errors.emplace_back("--tls-cert and --tls-key go together");
  }
  if (opt.wait_for == 0) errors.emplace_back("--wait-for must be at least 1");
  opt.deflate = !no_deflate;
  const auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    errors.push_back("--log-level: unknown level " + log_level);
  }
  spdlog::set_level(level);

  rules::time_ns play_in_ns = 0;
  seconds_option(play_in, "--play-in", play_in_ns);
  if (!play_in.empty() && play_in_ns <= 0) errors.emplace_back("--play-in must be positive");
  feeds::capture_reader reader;
  feeds::capture_reader probe;  // --play-in: a first pass to measure the capture's span
  for (const auto& path : captures) {
    std::string text, error;
    if (!read_file(path, text, error)) {
      errors.push_back(error);
      continue;
    }
    if (play_in_ns > 0) probe.add(path, text);
    reader.add(path, std::move(text));
  }
  if (play_in_ns > 0 && errors.empty()) {
    feedsim::pacer span(feedsim::pacing{1.0, false, opt.pace.max_gap});
    rules::time_ns last = 0;
    feeds::capture_record record;
    while (probe.next(record)) {
      if (opt.from > 0 && record.received < opt.from) continue;
      last = span.due(record.received);
    }
    opt.pace.as_fast_as_possible = false;
    opt.pace.speed = std::max(1.0, static_cast<double>(last) / static_cast<double>(play_in_ns));
    spdlog::info("--play-in {}: {} of capture time (after --max-gap) at speed {:.0f}x",
                 rules::format_duration(play_in_ns), rules::format_duration(last),
                 opt.pace.speed);
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "aftershock-feedsim: %s\n", e.c_str());
    return k_exit_usage;
  }
  return feedsim::run_server(opt, std::move(reader));
}

int generate_main(int argc, char** argv) {
  CLI::App app{
      "aftershock-feedsim generate - writes a synthetic market day as a capture v1 file:\n"
      "Alpaca-style frames of A to B events (trades, some quotes and minute bars) over N\n"
      "symbols, plus an alpaca-news headline every K events. The same options and seed give\n"
      "the same bytes.",
      "aftershock-feedsim generate"};
  feedsim::generator_options opt;
  std::string per_frame = "1..10", out, start, duration;
  app.add_option("--symbols", opt.symbols, "Number of symbols")->capture_default_str();
  app.add_option("--events", opt.events, "Market events to write")->capture_default_str();
  app.add_option("--per-frame", per_frame, "Events per frame, A..B")->capture_default_str();
  app.add_option("--headline-every", opt.headline_every, "One headline per K events; 0 = none")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "Random seed")->capture_default_str();
  app.add_option("--start", start, "First frame's time (RFC 3339; default 2025-01-27T14:30:00Z)");
  app.add_option("--duration", duration, "Time the events span (default 390m)");
  app.add_option("--out", out, "Output file (- for stdout)")->required();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> errors;
  if (auto r = feedsim::parse_range(per_frame)) {
    opt.per_frame_min = r->first;
    opt.per_frame_max = r->second;
  } else {
    errors.push_back("--per-frame: expected A..B with 1 <= A <= B, got " + per_frame);
  }
  if (!start.empty()) {
    if (auto t = rules::parse_rfc3339(start)) {
      opt.start = *t;
    } else {
      errors.push_back("--start: expected an RFC 3339 time, got " + start);
    }
  }
  if (!duration.empty()) {
    if (auto d = rules::parse_duration(duration)) {
      opt.duration = *d;
    } else {
      errors.push_back("--duration: expected a duration such as 390m, got " + duration);
    }
  }
  for (auto& e : feedsim::validate(opt)) errors.push_back(std::move(e));
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "aftershock-feedsim generate: %s\n", e.c_str());
    return k_exit_usage;
  }

  std::FILE* file = out == "-" ? stdout : std::fopen(out.c_str(), "wb");
  if (file == nullptr) {
    std::fprintf(stderr, "aftershock-feedsim generate: %s: %s\n", out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  const auto began = std::chrono::steady_clock::now();
  feedsim::generator_stats stats;
  const bool ok = feedsim::generate_capture(
      opt,
      [&](std::string_view chunk) {
        return std::fwrite(chunk.data(), 1, chunk.size(), file) == chunk.size();
      },
      stats);
  const bool closed = file == stdout ? std::fflush(file) == 0 : std::fclose(file) == 0;
  if (!ok || !closed) {
    std::fprintf(stderr, "aftershock-feedsim generate: writing %s failed: %s\n", out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::fprintf(stderr,
               "wrote %llu events (%llu trades, %llu quotes, %llu bars) and %llu headlines in "
               "%llu frames, %.1f MB, in %.2f s (%.2f M events/s)\n",
               static_cast<unsigned long long>(stats.events),
               static_cast<unsigned long long>(stats.trades),
               static_cast<unsigned long long>(stats.quotes),
               static_cast<unsigned long long>(stats.bars),
               static_cast<unsigned long long>(stats.headlines),
               static_cast<unsigned long long>(stats.frames), static_cast<double>(stats.bytes) / 1e6,
               secs, static_cast<double>(stats.events) / secs / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("feedsim");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (argc > 1 && std::string_view(argv[1]) == "generate") {
    return generate_main(argc - 1, argv + 1);
  }
  return serve_main(argc, argv);
}
