// The daemon's Prometheus metrics: one object holding every aftershock_* series, rendered in
// the text exposition format (prometheus-cpp's data model and TextSerializer).
//
// Two kinds of series, on purpose:
//   - instruments updated as things happen, on the engine thread through engine_probe (alerts
//     fired by rule and severity, headline matches, the event-to-alert latency histogram) and
//     by the daemon (config reloads, build and rules info): prometheus-cpp families;
//   - state read at scrape time from snapshots the other components already keep (feed
//     sessions, the engine queue, the engine's counters and prices, the outbox and each
//     destination): built fresh by collect(), so a counter is exactly what its owner counted.
// The rules engine knows nothing of this (it stays pure); the daemon hands in the sources.
//
// Names follow Prometheus conventions (aftershock_ prefix, _total counters, base units:
// seconds, ratios); `promtool check metrics` has nothing to say about the output
// (tests/telemetry). Label cardinality is bounded: feeds, destinations, rules, themes and
// baskets come from the config; symbols are the universe plus at most max_extra_symbols others.
//
// Thread-safety: every method may be called from any thread. Sources are called from the
// scraping thread and must be thread-safe themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "exporters/delivery_stats.h"
#include "rules/compiled_rules.h"
#include "rules/engine.h"

namespace aftershock::telemetry {

/// One feed as the metrics see it, whatever drives it (live sessions, or a capture replay).
struct feed_sample {
  std::string name;
  std::string dialect;
  bool connected = false;
  bool authenticated = false;
  bool healthy = false;
  std::uint64_t messages = 0;      // frames and server pings received
  std::uint64_t events = 0;        // market events parsed from them
  std::uint64_t parse_errors = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t bytes = 0;
  std::uint64_t stale_episodes = 0;
  std::uint64_t dropped_events = 0;  // refused by the full engine queue
  double last_message_age_s = 0;     // since the last message (or since start if none yet)
  double event_time_lag_s = 0;       // receive time minus event time, for the last frame
};

/// The ingestion side at one instant: the feeds and the queue in front of the engine.
struct pipeline_sample {
  std::vector<feed_sample> feeds;
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
  std::uint64_t queue_dropped_frames = 0;
};

/// One symbol's price for the per-symbol series.
struct price_sample {
  std::string symbol;
  std::string exchange;  // MIC
  rules::engine::price_view view;
};

struct build_info {
  std::string version;
  std::string commit;
  std::string build_type;
  std::string compiler;
};

struct metrics_options {
  std::size_t max_extra_symbols = 64;  // symbols outside the universe with their own series
  build_info build;
  std::string mode = "run";            // "run" or "replay": a label on build_info
};

class metrics final : public prometheus::Collectable {
 public:
  explicit metrics(metrics_options options);
  ~metrics() override;
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  const metrics_options& options() const noexcept { return options_; }

  // ---- sources, read at scrape time (set them before serving) ----------------------------
  void set_pipeline_source(std::function<pipeline_sample()> source);
  void set_delivery_source(std::function<exporters::delivery_snapshot()> source);
  /// More families read at scrape time (the cluster roles' consumer lag, redeliveries, dedup
  /// hits: cluster/role_metrics.h). The source must be thread-safe.
  void set_extra_source(std::function<std::vector<prometheus::MetricFamily>()> source);

  // ---- configuration ----------------------------------------------------------------------
  /// The rules now loaded: the config hash (info gauge), baskets' members, symbols' names.
  void set_rules(const std::string& config_hash, const rules::compiled_rules& rules);
  /// A reload attempt (SIGHUP): counted by outcome; success also stamps the time.
  void record_reload(bool ok);

  // ---- the engine thread (through engine_probe) -------------------------------------------
  void count_alert(const rules::alert& a);
  void count_headline(const rules::match_result& matches);
  void observe_event_to_alert(double seconds);
  /// Engine counters and prices, copied on the engine thread (engine_probe::tick); prices
  /// are already bounded (the universe plus the cap), `unexported` counts the symbols left out.
  void store_engine(const rules::engine_stats& stats, const rules::news_stats& news,
                    std::vector<price_sample> prices, std::size_t unexported);
  /// The engine thread is alive (its loop turned): for /healthz.
  void engine_heartbeat();
  /// Seconds since the last heartbeat (0 if none was ever given: the caller has no engine
  /// thread to watch).
  double engine_silence_seconds() const;

  // ---- exposition -------------------------------------------------------------------------
  std::vector<prometheus::MetricFamily> Collect() const override;
  /// The text exposition format (what /metrics serves).
  std::string render() const;

 private:
  std::vector<prometheus::MetricFamily> collect_state() const;

  metrics_options options_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* alerts_fired_ = nullptr;
  prometheus::Family<prometheus::Counter>* alerts_resolved_ = nullptr;
  prometheus::Family<prometheus::Counter>* entity_matches_ = nullptr;
  prometheus::Family<prometheus::Counter>* theme_matches_ = nullptr;
  prometheus::Family<prometheus::Counter>* reloads_ = nullptr;
  prometheus::Family<prometheus::Gauge>* last_reload_ = nullptr;
  prometheus::Family<prometheus::Gauge>* last_reload_ok_ = nullptr;
  prometheus::Family<prometheus::Gauge>* rules_info_ = nullptr;
  prometheus::Family<prometheus::Gauge>* basket_members_ = nullptr;
  prometheus::Family<prometheus::Gauge>* symbol_info_ = nullptr;
  prometheus::Histogram* event_to_alert_ = nullptr;

  mutable std::mutex mutex_;  // guards everything below
  std::function<pipeline_sample()> pipeline_;
  std::function<exporters::delivery_snapshot()> delivery_;
  std::function<std::vector<prometheus::MetricFamily>()> extra_;
  std::vector<prometheus::Gauge*> rules_series_;  // info gauges to remove on the next set_rules
  bool have_engine_ = false;
  rules::engine_stats engine_;
  rules::news_stats news_;
  std::vector<price_sample> prices_;
  std::size_t unexported_symbols_ = 0;
  std::atomic<std::int64_t> heartbeat_ns_{0};  // steady clock
};

}  // namespace aftershock::telemetry
