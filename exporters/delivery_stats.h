// Counters of the outbox and each destination as plain values: a snapshot copied out under a
// lock, so a metrics exporter on another thread can read them while delivery runs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "exporters/journal.h"

namespace aftershock::exporters {

/// Delivery latency (alert queued to 2xx received), Prometheus-style cumulative-ready buckets.
struct latency_histogram {
  static constexpr std::array<double, 14> bounds_s{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
  std::array<std::uint64_t, bounds_s.size() + 1>
      counts{};  // per bucket (not cumulative); last +Inf
  double sum_s = 0;
  std::uint64_t count = 0;
  void observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds_s.size() && seconds > bounds_s[i]) ++i;
    ++counts[i];
    sum_s += seconds;
    ++count;
  }
};

struct outbox_stats {
  bool durable = false;          // false: memory only (no state directory) or degraded
  std::size_t depth = 0;         // undelivered alerts (for any destination)
  std::uint64_t bytes = 0;       // their encoded size
  double oldest_age_s = 0;       // age of the oldest undelivered alert (wall clock)
  std::uint64_t appended = 0;    // alerts journaled
  std::uint64_t duplicates = 0;  // alert ids already waiting (replays, restarts)
  std::uint64_t unrouted = 0;    // alerts no destination takes
  std::array<std::uint64_t, 3> dropped_overflow{};  // by severity (info, warning, critical)
  std::uint64_t recovered = 0;                      // undelivered alerts found at startup
  std::uint64_t recovered_orphans = 0;              // ... for destinations no longer configured
  std::uint64_t corrupt_records = 0;                // intact frames that did not decode
  std::uint64_t torn_tails = 0;                     // crashes' torn last records cut off at startup
  std::uint64_t torn_bytes = 0;
  journal_stats journal;
};

struct destination_stats {
  std::string name;
  std::string type;
  std::string endpoint;  // redacted: scheme://host/…
  std::uint64_t requests = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t alerts_delivered = 0;
  std::uint64_t alerts_rejected = 0;  // the platform refused them for good (counted drops)
  std::uint64_t rate_limited = 0;     // 429 responses
  std::uint64_t retries = 0;          // 5xx, 408, auth errors and transport errors
  std::uint64_t timeouts = 0;         // of the retries: deadline passed
  std::uint64_t resends = 0;          // Alertmanager re-sends while firing
  std::size_t depth = 0;              // alerts waiting for this destination
  double oldest_age_s = 0;
  latency_histogram latency;
  std::vector<double> recent_latency_s;  // the last (up to 4096) samples, oldest first
};

struct delivery_snapshot {
  outbox_stats outbox;
  std::vector<destination_stats> destinations;
};

}  // namespace aftershock::exporters
