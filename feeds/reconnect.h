// When to reconnect: exponential backoff with full jitter, classified by why the last
// connection ended, and the health test that decides when a session has earned a reset.
// Pure over the injected random source and the times passed in; one instance per session,
// not thread-safe (the session's strand owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "rules/time.h"

namespace aftershock::feeds {

/// Why a connection ended, as far as retrying goes.
enum class failure_class : std::uint8_t {
  transient,  // network error, timeout, server restart, 5xx: retry with exponential backoff
  throttled,  // the vendor says "too many" (Alpaca 406, Polygon max_connections, HTTP 429):
              // retry, but never soon (a stale session holds the slot for ~90 s)
  fatal,      // the vendor refuses us (bad keys, plan, HTTP 4xx): no retry loop will fix it; a
              // person has to. Retry rarely (fatal_retry) so a fixed key is picked up.
};
const char* to_string(failure_class c) noexcept;

struct backoff_config {
  rules::time_ns base = 1 * rules::k_ns_per_s;    // first ceiling
  rules::time_ns cap = 60 * rules::k_ns_per_s;    // largest ceiling for transient failures
  rules::time_ns fatal_retry = 15 * rules::k_ns_per_min;  // delay after a fatal failure
};

/// Never reconnect sooner than this, whatever the configuration or the random draw says:
/// full jitter can draw 0, and a tight reconnect loop gets an IP banned (Binance: 300
/// connection attempts per 5 minutes).
inline constexpr rules::time_ns k_min_reconnect_delay = 100 * rules::k_ns_per_ms;

class reconnect_backoff {
 public:
  /// Uniform 64-bit random numbers (std::mt19937_64 in production, a fixed sequence in tests).
  using random_source = std::function<std::uint64_t()>;

  reconnect_backoff(backoff_config config, random_source random);

  /// The delay before the next attempt, and counts the attempt.
  /// - transient: full jitter, uniform in [0, min(cap, base * 2^n)] (n = attempts so far);
  /// - throttled: two steps up the ladder at once, then "equal jitter" in [c/2, c], so the
  ///   delay is never short even on a lucky draw;
  /// - fatal: uniform in [fatal_retry/2, fatal_retry].
  /// Every delay is at least k_min_reconnect_delay.
  rules::time_ns next_delay(failure_class why);

  /// Back to the first step: only after a session proved healthy (health_tracker).
  void reset() noexcept { attempts_ = 0; }
  unsigned attempts() const noexcept { return attempts_; }
  const backoff_config& config() const noexcept { return config_; }

 private:
  rules::time_ns ceiling() const noexcept;
  rules::time_ns uniform(rules::time_ns lo, rules::time_ns hi);

  backoff_config config_;
  random_source random_;
  unsigned attempts_ = 0;
};

/// Decides when a connection has been healthy long enough to reset the backoff: it must be
/// authenticated AND have delivered data, and have stayed up `healthy_after` since both held.
/// Authentication alone is not enough: Polygon authenticates, subscribes and only then evicts
/// a second connection (max_connections), and a reset there would make a tight loop.
class health_tracker {
 public:
  explicit health_tracker(rules::time_ns healthy_after) : healthy_after_(healthy_after) {}

  void on_connected() noexcept { *this = health_tracker(healthy_after_); }
  void on_authenticated(rules::time_ns now) noexcept;
  void on_data(rules::time_ns now) noexcept;
  /// True exactly once per connection: the first check at which the connection qualifies.
  bool check(rules::time_ns now) noexcept;
  bool healthy() const noexcept { return reported_; }

 private:
  rules::time_ns healthy_after_;
  rules::time_ns authenticated_at_ = -1;
  rules::time_ns data_at_ = -1;
  bool reported_ = false;
};

}  // namespace aftershock::feeds
