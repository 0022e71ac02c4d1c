// `aftershockd run`'s machinery: every configured feed into the rules engine, alerts out to a
// sink. Threads: the feed sessions on one I/O thread (feeds::live_feeds); the engine alone on
// its own thread (it is single-threaded and nothing else touches it); between them a bounded
// queue of parsed events, one item per frame, whose drops are counted per feed, never silent.
// While the engine is behind (run_options::pause_reading_above, max_queue_wait) the sessions
// pause reading, so TCP slows the senders down before anything has to be dropped, and a frame
// waits in the queue for at most about a millisecond even at saturation.
//
// Built to grow: snapshot() returns plain structs (feed states and counters, queue, engine)
// for metrics and systemd status; replace_rules() hands an already validated rule set to the
// engine thread (SIGHUP: validate, then swap). Signals stay with the caller (cmd_run.cpp).
//
// Thread-safety: start(), stop() from one controlling thread; snapshot(), replace_rules()
// from any thread. The sink's publish() and flush() are called from the engine thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config_loader.h"
#include "exporters/alert_sink.h"
#include "feeds/live_feeds.h"
#include "feeds/secret.h"
#include "rules/engine.h"
#include "telemetry/metrics.h"

namespace aftershock::daemon {

struct run_options {
  std::string record_dir;               // capture v1 recording; empty = off
  std::string feed_host;                // HOST:PORT replacing every feed URL's host (demo, tests)
  std::size_t queue_capacity = 65536;   // frames waiting for the engine before drops
  // Backpressure through TCP (feeds::feed_listener::backlogged): the sessions pause reading
  // while more than `pause_reading_above` events wait for the engine, or while the oldest
  // frame waiting has waited longer than `max_queue_wait`, so a burst queues in the sockets
  // rather than in memory, a frame's wait for the engine stays bounded at saturation, and
  // nothing is dropped unless the engine stalls for longer than feeds.max_read_pause. The
  // engine thread wakes the sessions (feeds::live_feeds::resume_reading) once under half of
  // both bounds is left. Defaults: measured with bench/ingest_bench (docs/performance.md,
  // "Latency at saturation"). 0 = that bound is off; both 0 = never pause (drop when full).
  std::uint64_t pause_reading_above = 256;
  std::chrono::microseconds max_queue_wait{100};
  // Benchmarks only: false = the engine never wakes paused sessions, they poll every
  // feeds.backlog_recheck instead (the behaviour before the wake-up, for comparison).
  bool wake_paused_readers = true;
  feeds::live_options feeds;            // clock / random injection for tests
  // Called on the engine thread at the top of every loop turn (at least every 200 ms while the
  // engine makes progress): the systemd watchdog's keep-alive, so a hung engine stops it.
  std::function<void()> engine_heartbeat;
  // Tests only ($AFTERSHOCK_TEST_HANG_ENGINE_AFTER): once the engine has processed this many
  // events it stops making progress (sleeps until stop()), as a hung engine would. 0 = never.
  std::uint64_t hang_engine_after = 0;
  // Prometheus metrics (telemetry/): the engine thread counts alerts and headline matches and
  // copies the engine's counters and prices into them (telemetry::engine_probe). Null = none.
  telemetry::metrics* metrics = nullptr;
};

/// Latencies in a log-linear histogram (8 buckets per power of two, so a quantile is within
/// 12.5% of the truth), from 1 ns to over an hour. record() from one thread; summary() from
/// any thread (relaxed atomics: a summary taken while recording may be a few samples behind).
class latency_histogram {
 public:
  struct summary {
    std::uint64_t count = 0;
    std::uint64_t p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  };
  void record(std::int64_t ns) noexcept;
  summary summarize() const noexcept;

 private:
  static constexpr int k_sub = 8;
  static constexpr int k_buckets = 40 * k_sub;
  static std::size_t bucket_of(std::uint64_t ns) noexcept;
  static std::uint64_t upper_bound_of(std::size_t bucket) noexcept;
  std::atomic<std::uint64_t> counts_[k_buckets] = {};
  std::atomic<std::uint64_t> max_{0};
};

/// One feed's state as the runner sees it: the session's counters plus the queue drops.
struct feed_snapshot {
  feeds::feed_stats session;
  std::uint64_t dropped_frames = 0;  // frames whose events the full queue refused
  std::uint64_t dropped_events = 0;
};

struct runner_snapshot {
  std::vector<feed_snapshot> feeds;
  std::size_t queue_capacity = 0;
  std::size_t queue_depth = 0;
  std::size_t queue_high_water = 0;
  std::uint64_t queue_dropped = 0;
  std::uint64_t read_pauses = 0;   // times the sessions paused reading for a backlogged engine
  std::uint64_t read_resumes = 0;  // times the engine woke them (the rest: backlog_recheck)
  rules::engine_stats engine;
  std::uint64_t alerts_published = 0;  // everything handed to the sink
  std::uint64_t stale_alerts = 0;      // feed_stale firings among them
  std::uint64_t rule_reloads = 0;
  // From a frame's hand-off by its session (read and parsed) to the engine having processed
  // all its events, and to each alert it raised leaving the engine (before the sinks).
  latency_histogram::summary frame_to_engine;
  latency_histogram::summary frame_to_alert;
};

/// Turns the config's feeds into session configs: dialect, URL (with the host override),
/// secrets resolved from `secrets`, defaults per dialect, and the market hours that decide
/// staleness (`market:`, else every exchange the feed's symbols trade on; binance: always).
/// Problems go to `errors` (startup is refused); literals where a reference belongs go to
/// `warnings`.
std::vector<feeds::session_config> make_session_configs(
    const daemon_config& config, const std::shared_ptr<const rules::compiled_rules>& rules,
    const std::string& feed_host, const feeds::secret_source& secrets,
    std::vector<std::string>& errors, std::vector<std::string>& warnings);

/// The alert a stale feed raises (and, recovered, resolves): kind "feed_stale", no symbol, no
/// change, event_time the last known market time (the engine's watermark, else the feed's last
/// event time, else the wall clock), and a summary naming the feed and its silence.
rules::alert make_feed_stale_alert(const feeds::stale_notice& notice, rules::time_ns watermark);

class live_runner {
 public:
  /// The sink must outlive the runner.
  live_runner(std::shared_ptr<const rules::compiled_rules> rules,
              std::vector<feeds::session_config> feeds, exporters::alert_sink& sink,
              run_options options);
  ~live_runner();
  live_runner(const live_runner&) = delete;
  live_runner& operator=(const live_runner&) = delete;

  /// Starts the engine thread, then the feeds.
  void start();

  /// Stops reading the feeds, drains the queue through the engine, flushes the engine's
  /// held-back digests and the sink. Bounded by `deadline` overall. Idempotent.
  void stop(std::chrono::milliseconds deadline);

  /// Hands a validated rule set to the engine (engine::replace_rules on its own thread).
  void replace_rules(std::shared_ptr<const rules::compiled_rules> rules);

  runner_snapshot snapshot() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::daemon
