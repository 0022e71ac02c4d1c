#include "feedsim/pacer.h"

#include <charconv>
#include <cmath>

namespace aftershock::feedsim {

std::optional<pacing> parse_speed(std::string_view text) {
  pacing p;
  if (text == "max") {
    p.as_fast_as_possible = true;
    return p;
  }
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) text.remove_suffix(1);
  double speed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), speed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(speed) ||
      speed <= 0) {
    return std::nullopt;
  }
  p.speed = speed;
  return p;
}

rules::time_ns pacer::due(rules::time_ns at) {
  if (!started_) {
    started_ = true;
    previous_at_ = at;
    return 0;
  }
  rules::time_ns gap = at - previous_at_;
  if (gap < 0) {
    gap = 0;  // a capture that steps back: keep file order, do not wait
  } else {
    previous_at_ = at;
  }
  if (pacing_.max_gap > 0 && gap > pacing_.max_gap) {
    skipped_ += gap - pacing_.max_gap;
    gap = pacing_.max_gap;
  }
  elapsed_ += gap;
  if (pacing_.as_fast_as_possible) return 0;
  return static_cast<rules::time_ns>(std::llround(static_cast<double>(elapsed_) / pacing_.speed));
}

}  // namespace aftershock::feedsim
