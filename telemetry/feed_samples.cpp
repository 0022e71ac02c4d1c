#include "telemetry/feed_samples.h"

#include <algorithm>

namespace aftershock::telemetry {

namespace {
double seconds(rules::time_ns ns) { return static_cast<double>(ns) / 1e9; }
}  // namespace

feed_sample sample_of(const feeds::feed_stats& s, std::uint64_t dropped_events,
                      rules::time_ns now, rules::time_ns started) {
  feed_sample f;
  f.name = s.name;
  f.dialect = feeds::to_string(s.which);
  f.connected = s.connected;
  f.authenticated = s.authenticated;
  f.healthy = s.healthy;
  f.messages = s.messages;
  f.events = s.events;
  f.parse_errors = s.parse_errors;
  f.reconnects = s.reconnects;
  f.bytes = s.bytes;
  f.stale_episodes = s.stale;
  f.dropped_events = dropped_events;
  const rules::time_ns since = s.last_message_at > 0 ? s.last_message_at : started;
  f.last_message_age_s = std::max(0.0, seconds(now - since));
  f.event_time_lag_s = seconds(s.event_time_lag);
  return f;
}

void replay_feeds::on_frame(feeds::dialect which, rules::time_ns received, std::size_t bytes,
                            std::size_t events, std::size_t rejected,
                            rules::time_ns newest_event_time) {
  std::lock_guard lock(mutex_);
  counts& c = feeds_[feeds::to_string(which)];
  ++c.messages;
  c.events += events;
  c.parse_errors += rejected;
  c.bytes += bytes;
  c.last_received = std::max(c.last_received, received);
  if (newest_event_time > 0) c.lag = received - newest_event_time;
  clock_ = std::max(clock_, received);
}

void replay_feeds::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
}

pipeline_sample replay_feeds::sample() const {
  std::lock_guard lock(mutex_);
  pipeline_sample p;
  for (const auto& [name, c] : feeds_) {
    feed_sample f;
    f.name = name;
    f.dialect = name;
    f.connected = f.authenticated = f.healthy = !finished_;
    f.messages = c.messages;
    f.events = c.events;
    f.parse_errors = c.parse_errors;
    f.bytes = c.bytes;
    f.last_message_age_s = seconds(clock_ - c.last_received);
    f.event_time_lag_s = seconds(c.lag);
    p.feeds.push_back(std::move(f));
  }
  return p;
}

}  // namespace aftershock::telemetry
