// Feed samples for the metrics from the two things that read feeds: live sessions
// (feeds::feed_stats, converted at scrape time) and a capture replay (replay_feeds, which
// counts as it reads).
//
// Thread-safety: sample_of is a pure function; replay_feeds' on_frame()/finish() are called
// by the replaying thread and sample() by any thread (a mutex guards the counts).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "feeds/frame_parser.h"
#include "feeds/session_config.h"
#include "rules/time.h"
#include "telemetry/metrics.h"

namespace aftershock::telemetry {

/// A live session's counters as a feed_sample. `now`: wall clock (UTC ns); `started`: when the
/// session started (the age of a feed that never spoke runs from there).
feed_sample sample_of(const feeds::feed_stats& s, std::uint64_t dropped_events,
                      rules::time_ns now, rules::time_ns started);

/// The feeds of a capture replay: one per dialect read, "connected" while the replay runs.
/// Ages are on the replay's clock (the newest `at` read), so they mean what they would have
/// meant live at that moment.
class replay_feeds {
 public:
  void on_frame(feeds::dialect which, rules::time_ns received, std::size_t bytes,
                std::size_t events, std::size_t rejected, rules::time_ns newest_event_time);
  void finish();
  pipeline_sample sample() const;

 private:
  struct counts {
    std::uint64_t messages = 0, events = 0, parse_errors = 0, bytes = 0;
    rules::time_ns last_received = 0;
    rules::time_ns lag = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, counts> feeds_;
  rules::time_ns clock_ = 0;
  bool finished_ = false;
};

}  // namespace aftershock::telemetry
