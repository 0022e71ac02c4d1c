// What the metrics learn on the engine's own thread: after each event, the alerts it caused
// (by rule and severity, and how long after the frame arrived) and the headline matches of a
// new headline; now and then (tick), a copy of the engine's counters and of the per-symbol
// prices. The engine stays pure: it is only read, between events, by the thread that owns it.
//
// Per-symbol series are bounded: every universe symbol, plus the first max_extra_symbols
// others seen; the rest are counted (aftershock_symbols_unexported).
//
// Thread-safety: one probe per engine, used only on that engine's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "rules/engine.h"
#include "telemetry/metrics.h"

namespace aftershock::telemetry {

class engine_probe {
 public:
  using clock = std::chrono::steady_clock;

  /// `interval`: how often tick() copies the engine's state (prices are a map walk).
  explicit engine_probe(metrics& m, std::chrono::milliseconds interval = std::chrono::seconds(1));

  /// After engine.process(e, alerts): counts what it produced. `received`: when the frame
  /// carrying `e` arrived (live) or its processing began (replay).
  void after_event(const rules::engine& engine, const rules::event& e,
                   const std::vector<rules::alert>& alerts, clock::time_point received);

  /// Alerts made outside process() (engine flush, feed_stale): counted, no latency.
  void count_alerts(const std::vector<rules::alert>& alerts);
  void count_alert(const rules::alert& a);

  /// Copies counters and prices when `interval` has passed (or `force`); marks the engine
  /// thread alive. Call it once per loop turn and at the end.
  void tick(const rules::engine& engine, bool force = false);

 private:
  metrics& metrics_;
  std::chrono::milliseconds interval_;
  clock::time_point next_copy_{};
  std::uint64_t headlines_seen_ = 0;  // news_stats headlines + updates at the last look
  std::set<std::string> extra_symbols_;
};

}  // namespace aftershock::telemetry
