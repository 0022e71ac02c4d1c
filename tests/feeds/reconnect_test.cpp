// Unit tests for feeds::reconnect_backoff (exponential backoff with full jitter, classified by
// failure) and feeds::health_tracker (when a session has earned a backoff reset). The random
// source is a fixed sequence, so every delay is exact.
#include "feeds/reconnect.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace aftershock::feeds {
namespace {

using rules::k_ns_per_ms;
using rules::k_ns_per_s;
using rules::time_ns;

// Always the same number: r % (span + 1) is then predictable.
reconnect_backoff::random_source constant(std::uint64_t v) {
  return [v] { return v; };
}

constexpr std::uint64_t k_max = std::numeric_limits<std::uint64_t>::max();

TEST(reconnect_backoff, full_jitter_ceiling_doubles_up_to_the_cap) {
  // A draw of span-1 ... hits the top of [0, ceiling]: r % (c + 1) == c when r == c.
  std::vector<time_ns> ceilings;
  std::uint64_t next = 0;
  reconnect_backoff b({1 * k_ns_per_s, 10 * k_ns_per_s, 60 * k_ns_per_s}, [&] { return next; });
  for (int i = 0; i < 6; ++i) {
    // Ask for the largest delay the current ceiling allows.
    const time_ns expected = std::min<time_ns>(k_ns_per_s << i, 10 * k_ns_per_s);
    next = static_cast<std::uint64_t>(expected);
    EXPECT_EQ(b.next_delay(failure_class::transient), expected) << "attempt " << i;
  }
  EXPECT_EQ(b.attempts(), 6u);
}

TEST(reconnect_backoff, full_jitter_can_draw_low_but_never_below_the_floor) {
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 60 * k_ns_per_s}, constant(0));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(b.next_delay(failure_class::transient), k_min_reconnect_delay);
  }
}

TEST(reconnect_backoff, draws_are_uniform_over_the_ceiling) {
  // r = 2.5e8 with ceiling 1 s gives 250 ms.
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 60 * k_ns_per_s},
                      constant(250 * k_ns_per_ms));
  EXPECT_EQ(b.next_delay(failure_class::transient), 250 * k_ns_per_ms);
  // Second attempt: ceiling 2 s, same draw.
  EXPECT_EQ(b.next_delay(failure_class::transient), 250 * k_ns_per_ms);
}

TEST(reconnect_backoff, with_a_real_generator_delays_stay_within_bounds) {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  reconnect_backoff b({100 * k_ns_per_ms, 5 * k_ns_per_s, 60 * k_ns_per_s}, [&] {
    state ^= state << 13;  // xorshift64: deterministic and well spread
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  });
  for (int i = 0; i < 1000; ++i) {
    const time_ns d = b.next_delay(failure_class::transient);
    EXPECT_GE(d, k_min_reconnect_delay);
    EXPECT_LE(d, 5 * k_ns_per_s);
  }
}

TEST(reconnect_backoff, throttled_climbs_two_steps_and_is_never_short) {
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 15 * 60 * k_ns_per_s}, constant(0));
  // Attempts 0 -> 2: ceiling 4 s, equal jitter: at least half of it.
  EXPECT_EQ(b.next_delay(failure_class::throttled), 2 * k_ns_per_s);
  EXPECT_EQ(b.attempts(), 2u);
  // 2 -> 4: ceiling 16 s.
  EXPECT_EQ(b.next_delay(failure_class::throttled), 8 * k_ns_per_s);
  // Capped: 60 s ceiling, at least 30 s.
  b.next_delay(failure_class::throttled);
  b.next_delay(failure_class::throttled);
  EXPECT_EQ(b.next_delay(failure_class::throttled), 30 * k_ns_per_s);
}

TEST(reconnect_backoff, fatal_waits_long_regardless_of_the_cap) {
  const time_ns fatal = 15 * 60 * k_ns_per_s;
  reconnect_backoff low({1 * k_ns_per_s, 60 * k_ns_per_s, fatal}, constant(0));
  EXPECT_EQ(low.next_delay(failure_class::fatal), fatal / 2);
  reconnect_backoff high({1 * k_ns_per_s, 60 * k_ns_per_s, fatal}, constant(k_max));
  const time_ns d = high.next_delay(failure_class::fatal);
  EXPECT_GE(d, fatal / 2);
  EXPECT_LE(d, fatal);
}

TEST(reconnect_backoff, reset_returns_to_the_first_step) {
  std::uint64_t next = 0;
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 60 * k_ns_per_s}, [&] { return next; });
  for (int i = 0; i < 5; ++i) b.next_delay(failure_class::transient);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  next = k_ns_per_s;  // the top of the first ceiling
  EXPECT_EQ(b.next_delay(failure_class::transient), k_ns_per_s);
}

TEST(reconnect_backoff, a_tiny_config_still_cannot_make_a_tight_loop) {
  reconnect_backoff b({1, 1, 1}, constant(k_max));
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(b.next_delay(failure_class::transient), k_min_reconnect_delay);
    EXPECT_GE(b.next_delay(failure_class::fatal), k_min_reconnect_delay);
  }
}

TEST(reconnect_backoff, attempts_do_not_overflow) {
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 60 * k_ns_per_s}, constant(k_max));
  for (int i = 0; i < 500; ++i) {
    const time_ns d = b.next_delay(failure_class::throttled);
    EXPECT_LE(d, 60 * k_ns_per_s);
  }
}

TEST(health_tracker, needs_auth_and_data_and_time) {
  health_tracker h(30 * k_ns_per_s);
  h.on_connected();
  EXPECT_FALSE(h.check(100 * k_ns_per_s));
  h.on_authenticated(1 * k_ns_per_s);
  EXPECT_FALSE(h.check(100 * k_ns_per_s)) << "authenticated but no data";
  h.on_data(10 * k_ns_per_s);
  EXPECT_FALSE(h.check(39 * k_ns_per_s)) << "not yet 30 s since both held";
  EXPECT_TRUE(h.check(40 * k_ns_per_s));
  EXPECT_FALSE(h.check(41 * k_ns_per_s)) << "reported once per connection";
  EXPECT_TRUE(h.healthy());
}

TEST(health_tracker, polygon_eviction_after_auth_never_counts_as_healthy) {
  // Polygon authenticates, acks the subscription, then evicts with max_connections: the
  // connection never delivered data, so the backoff must keep climbing.
  health_tracker h(30 * k_ns_per_s);
  std::uint64_t draws = 0;
  reconnect_backoff b({1 * k_ns_per_s, 60 * k_ns_per_s, 60 * k_ns_per_s}, [&] {
    ++draws;
    return std::uint64_t{0};
  });
  for (int attempt = 0; attempt < 5; ++attempt) {
    h.on_connected();
    h.on_authenticated(0);
    if (h.check(45 * k_ns_per_s)) b.reset();
    b.next_delay(failure_class::throttled);
  }
  EXPECT_EQ(b.attempts(), 10u);
}

TEST(health_tracker, a_new_connection_starts_over) {
  health_tracker h(1 * k_ns_per_s);
  h.on_authenticated(0);
  h.on_data(0);
  EXPECT_TRUE(h.check(2 * k_ns_per_s));
  h.on_connected();
  EXPECT_FALSE(h.healthy());
  EXPECT_FALSE(h.check(10 * k_ns_per_s));
}

}  // namespace
}  // namespace aftershock::feeds
