#include "feeds/reconnect.h"

#include <algorithm>
#include <limits>

namespace aftershock::feeds {

const char* to_string(failure_class c) noexcept {
  switch (c) {
    case failure_class::transient:
      return "transient";
    case failure_class::throttled:
      return "throttled";
    case failure_class::fatal:
      return "fatal";
  }
  return "unknown";
}

reconnect_backoff::reconnect_backoff(backoff_config config, random_source random)
    : config_(config), random_(std::move(random)) {
  config_.base = std::max(config_.base, rules::time_ns{1});
  config_.cap = std::max(config_.cap, config_.base);
  config_.fatal_retry = std::max(config_.fatal_retry, k_min_reconnect_delay);
}

rules::time_ns reconnect_backoff::ceiling() const noexcept {
  // base * 2^attempts without overflow: stop doubling once past the cap.
  rules::time_ns c = config_.base;
  for (unsigned i = 0; i < attempts_ && c < config_.cap; ++i) c *= 2;
  return std::min(c, config_.cap);
}

rules::time_ns reconnect_backoff::uniform(rules::time_ns lo, rules::time_ns hi) {
  if (hi <= lo) return lo;
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  // Modulo bias is at most span / 2^64: irrelevant for delays.
  return lo + static_cast<rules::time_ns>(random_() % span);
}

rules::time_ns reconnect_backoff::next_delay(failure_class why) {
  rules::time_ns delay = 0;
  switch (why) {
    case failure_class::transient:
      delay = uniform(0, ceiling());
      attempts_ = std::min(attempts_ + 1, 64u);
      break;
    case failure_class::throttled: {
      attempts_ = std::min(attempts_ + 2, 64u);
      const rules::time_ns c = ceiling();
      delay = uniform(c / 2, c);
      break;
    }
    case failure_class::fatal:
      attempts_ = std::min(attempts_ + 1, 64u);
      delay = uniform(config_.fatal_retry / 2, config_.fatal_retry);
      break;
  }
  return std::max(delay, k_min_reconnect_delay);
}

void health_tracker::on_authenticated(rules::time_ns now) noexcept {
  if (authenticated_at_ < 0) authenticated_at_ = now;
}

void health_tracker::on_data(rules::time_ns now) noexcept {
  if (data_at_ < 0) data_at_ = now;
}

bool health_tracker::check(rules::time_ns now) noexcept {
  if (reported_ || authenticated_at_ < 0 || data_at_ < 0) return false;
  const rules::time_ns since = std::max(authenticated_at_, data_at_);
  if (now - since < healthy_after_) return false;
  reported_ = true;
  return true;
}

}  // namespace aftershock::feeds
