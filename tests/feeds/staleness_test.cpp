// Unit tests for feeds::staleness_watchdog with a fake clock: silence counts only while the
// feed's market is open (a real XNAS calendar and a simple fake), one alert per episode, a
// reconnect nudge per further stale_after, recovery on the next message. No sleeps.
#include "feeds/staleness.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "rules/compiled_rules.h"

namespace aftershock::feeds {
namespace {

using rules::k_ns_per_min;
using rules::k_ns_per_s;
using rules::time_ns;
using verdict = staleness_watchdog::verdict;

time_ns at(const char* rfc3339) { return rules::parse_rfc3339(rfc3339).value(); }

// A fake clock the test moves by hand: monotonic and UTC advance together.
struct fake_clock final : clock {
  time_ns mono = 1'000 * k_ns_per_s;
  time_ns wall = 0;
  time_ns monotonic() const override { return mono; }
  time_ns utc() const override { return wall; }
  void advance(time_ns d) {
    mono += d;
    wall += d;
  }
};

// Open while a flag says so.
struct switch_hours final : market_hours {
  bool open = true;
  bool is_open(time_ns) const override { return open; }
  std::string describe() const override { return "TEST"; }
};

std::shared_ptr<const rules::compiled_rules> nyse_rules() {
  rules::rules_config cfg;
  cfg.default_exchange = "XNYS";
  rules::exchange_spec ex;
  ex.mic = "XNYS";
  ex.time_zone = "America/New_York";
  ex.tz_rule = "EST5EDT,M3.2.0,M11.1.0";
  ex.pre_market = {{4 * 60, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 16 * 60}};
  ex.after_hours = {{16 * 60, 20 * 60}};
  cfg.exchanges.push_back(ex);
  rules::rule_spec r;
  r.name = "move";
  r.threshold_pct = 5;
  cfg.rules.push_back(r);
  std::vector<rules::config_problem> problems;
  auto compiled = rules::compiled_rules::compile(cfg, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message;
  return compiled;
}

TEST(staleness, silent_past_the_threshold_while_open_is_stale_once) {
  fake_clock c;
  staleness_watchdog w(90 * k_ns_per_s, std::make_shared<always_open>(), c.monotonic());
  c.advance(89 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  c.advance(1 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::stale);
  EXPECT_EQ(w.silent_for(), 90 * k_ns_per_s);
  EXPECT_TRUE(w.in_episode());
  // Still silent: no second alert until another stale_after has gone by, then a nudge only.
  c.advance(30 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  c.advance(60 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::still_stale);
  EXPECT_EQ(w.silent_for(), 180 * k_ns_per_s);
  // A message ends the episode and reports recovery once.
  EXPECT_TRUE(w.on_message(c.monotonic()));
  EXPECT_FALSE(w.in_episode());
  EXPECT_FALSE(w.on_message(c.monotonic()));
  c.advance(89 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
}

TEST(staleness, every_message_resets_the_silence) {
  fake_clock c;
  staleness_watchdog w(10 * k_ns_per_s, nullptr, c.monotonic());
  for (int i = 0; i < 100; ++i) {
    c.advance(9 * k_ns_per_s);
    EXPECT_FALSE(w.on_message(c.monotonic()));
    EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  }
}

TEST(staleness, closed_market_silence_does_not_count) {
  fake_clock c;
  auto hours = std::make_shared<switch_hours>();
  staleness_watchdog w(60 * k_ns_per_s, hours, c.monotonic());
  hours->open = false;
  // A whole night of silence.
  for (int i = 0; i < 600; ++i) {
    c.advance(1 * k_ns_per_min);
    ASSERT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  }
  // The market opens: silence counts from the opening, not from the last message.
  hours->open = true;
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  c.advance(59 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  c.advance(1 * k_ns_per_s);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::stale);
  EXPECT_EQ(w.silent_for(), 60 * k_ns_per_s);
}

TEST(staleness, disabled_never_fires) {
  fake_clock c;
  staleness_watchdog w(0, nullptr, c.monotonic());
  c.advance(24 * 60 * k_ns_per_min);
  EXPECT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh);
  EXPECT_FALSE(w.enabled());
}

TEST(staleness, nyse_calendar_overnight_is_not_stale_but_the_session_is) {
  auto rules = nyse_rules();
  ASSERT_TRUE(rules);
  auto hours = std::make_shared<calendar_hours>(rules, 0);
  EXPECT_EQ(hours->describe(), "XNYS");
  fake_clock c;
  // Monday 2025-01-27, 20:30 New York (after hours are over at 20:00): closed.
  c.wall = at("2025-01-28T01:30:00Z");
  staleness_watchdog w(120 * k_ns_per_s, hours, c.monotonic());
  w.on_message(c.monotonic());
  // Silent all night until 04:00 New York (09:00Z), when pre-market opens.
  while (c.utc() < at("2025-01-28T09:00:00Z")) {
    c.advance(30 * k_ns_per_s);
    ASSERT_EQ(w.check(c.monotonic(), c.utc()), verdict::fresh)
        << rules::format_rfc3339_s(c.utc());
  }
  EXPECT_TRUE(hours->is_open(c.utc()));
  // Two more minutes of silence into pre-market: stale.
  verdict v = verdict::fresh;
  while (v == verdict::fresh && c.utc() < at("2025-01-28T09:10:00Z")) {
    c.advance(10 * k_ns_per_s);
    v = w.check(c.monotonic(), c.utc());
  }
  EXPECT_EQ(v, verdict::stale);
  EXPECT_EQ(c.utc(), at("2025-01-28T09:02:00Z"));
}

TEST(staleness, weekend_is_closed_and_crypto_is_always_open) {
  auto rules = nyse_rules();
  calendar_hours nyse(rules, 0);
  EXPECT_FALSE(nyse.is_open(at("2025-01-25T15:00:00Z")));  // Saturday
  EXPECT_TRUE(nyse.is_open(at("2025-01-27T15:00:00Z")));   // Monday 10:00 New York
  EXPECT_TRUE(always_open().is_open(at("2025-01-25T15:00:00Z")));
  any_of_hours both({std::make_shared<calendar_hours>(rules, 0), std::make_shared<always_open>()});
  EXPECT_TRUE(both.is_open(at("2025-01-25T15:00:00Z")));
  EXPECT_EQ(both.describe(), "XNYS+always");
}

}  // namespace
}  // namespace aftershock::feeds
