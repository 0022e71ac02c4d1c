// When each captured frame is due during playback: the capture's own spacing (`at`) scaled by
// the speed factor, with long silences (nights, weekends) compressed to at most max_gap of
// capture time, so a three-day capture can play in about a minute. Pure: it returns offsets
// from the start of playback and never reads a clock; the server adds them to its own start
// time. One instance per playback: not thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "rules/time.h"

namespace aftershock::feedsim {

struct pacing {
  /// Capture seconds per real second: 1 = real time, 60 = a minute per second. Ignored with
  /// as_fast_as_possible.
  double speed = 1.0;
  /// --speed max: every frame is due at once; clients set the pace (backpressure).
  bool as_fast_as_possible = false;
  /// A gap between consecutive frames longer than this counts as this long; 0 = no limit.
  rules::time_ns max_gap = 0;
};

/// Parses --speed: "max", or a positive factor such as "1", "60", "0.5", "10x".
std::optional<pacing> parse_speed(std::string_view text);

class pacer {
 public:
  explicit pacer(pacing p) : pacing_(p) {}

  /// The offset from playback start at which the frame captured at `at` is due. Frames must
  /// be passed in playback order; an `at` earlier than the previous one (a capture that steps
  /// back) is due at the same time as the previous frame. Never decreases.
  rules::time_ns due(rules::time_ns at);

  /// Capture time covered so far, after gap compression.
  rules::time_ns compressed_elapsed() const noexcept { return elapsed_; }
  /// Capture time skipped by gap compression so far.
  rules::time_ns skipped() const noexcept { return skipped_; }

 private:
  pacing pacing_;
  bool started_ = false;
  rules::time_ns previous_at_ = 0;
  rules::time_ns elapsed_ = 0;
  rules::time_ns skipped_ = 0;
};

}  // namespace aftershock::feedsim
