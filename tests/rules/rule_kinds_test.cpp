// One test group per rule kind (issue 4, part 2), sessions (part 3) and bad data (part 4): what
// each rule fires on, what it must not fire on, and the baseline it names. Every kind's day is a
// function so the determinism test at the end can replay all of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "engine_harness.h"

namespace aftershock::rules {
namespace {

using namespace test_support;
using testing::HasSubstr;

// Monday 2025-01-27, US regular session 14:30Z-21:00Z; the previous close is Friday's.
const char* const k_monday_open = "2025-01-27T14:30:00Z";

// ---------------------------------------------------------------------------------------------
// prev_close_move

rules_config prev_close_config() {
  rule_spec r = make_rule("prev_close_move", rule_kind::prev_close_move, 5);
  r.escalation_pct = {10, 15};
  r.critical_pct = 10;
  return config_with({r});
}

void prev_close_day(harness& h) {
  h.friday_close("NVDA", 100);
  h.friday_close("AMD", 100);
  h.trade("NVDA", 96.0, "2025-01-27T14:31:00Z");  // -4%: below the threshold
  h.trade("NVDA", 94.5, "2025-01-27T14:32:00Z");  // -5.5%: level 5
  h.trade("NVDA", 94.0, "2025-01-27T14:33:00Z");
  h.trade("NVDA", 89.5, "2025-01-27T14:34:00Z");  // -10.5%: level 10
  h.trade("NVDA", 89.0, "2025-01-27T14:35:00Z");
  h.trade("NVDA", 84.9, "2025-01-27T14:36:00Z");  // -15.1%: level 15
  h.trade("NVDA", 80.0, "2025-01-27T14:37:00Z");  // no level beyond 15
  h.trade("AMD", 105.5, "2025-01-27T14:40:00Z");  // +5.5%
}

TEST(prev_close_move, escalates_5_then_10_then_15_each_once) {
  harness h(prev_close_config());
  prev_close_day(h);
  std::vector<alert> nvda;
  for (const auto& a : h.all) {
    if (a.symbol == "NVDA") nvda.push_back(a);
  }
  ASSERT_EQ(nvda.size(), 3u);
  const double levels[] = {5, 10, 15};
  const severity severities[] = {severity::warning, severity::critical, severity::critical};
  const char* times[] = {"2025-01-27T14:32:00Z", "2025-01-27T14:34:00Z", "2025-01-27T14:36:00Z"};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(nvda[i].status, alert_status::firing);
    EXPECT_EQ(nvda[i].kind, "move");
    EXPECT_EQ(nvda[i].direction, "down");
    EXPECT_DOUBLE_EQ(nvda[i].threshold_pct, levels[i]);
    EXPECT_EQ(nvda[i].level, severities[i]);
    EXPECT_EQ(nvda[i].event_time, at(times[i]));
    ASSERT_TRUE(nvda[i].base);
    EXPECT_EQ(nvda[i].base->kind, "prev_close");
    EXPECT_DOUBLE_EQ(nvda[i].base->price, 100.0);
    EXPECT_THAT(nvda[i].base->description, HasSubstr("previous close 100.00 (2025-01-24, XNAS)"));
    EXPECT_EQ(nvda[i].fingerprint, nvda[0].fingerprint);
  }
  EXPECT_NE(nvda[0].id, nvda[1].id);
  EXPECT_NE(nvda[1].id, nvda[2].id);
  EXPECT_NEAR(*nvda[2].change_pct, -15.1, 1e-9);
}

TEST(prev_close_move, fires_up_too_under_its_own_fingerprint) {
  harness h(prev_close_config());
  prev_close_day(h);
  std::vector<alert> amd;
  for (const auto& a : h.all) {
    if (a.symbol == "AMD") amd.push_back(a);
  }
  ASSERT_EQ(amd.size(), 1u);
  EXPECT_EQ(amd[0].direction, "up");
  EXPECT_NEAR(*amd[0].change_pct, 5.5, 1e-9);
  EXPECT_EQ(amd[0].level, severity::warning);
  EXPECT_NE(amd[0].fingerprint, h.all[0].fingerprint);
}

TEST(prev_close_move, a_jump_past_two_levels_fires_once_at_the_highest) {
  harness h(prev_close_config());
  h.friday_close();
  auto fired = h.trade("NVDA", 88.0, "2025-01-27T14:31:00Z");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_DOUBLE_EQ(fired[0].threshold_pct, 10);
  EXPECT_EQ(fired[0].level, severity::critical);
  EXPECT_TRUE(h.trade("NVDA", 87.0, "2025-01-27T14:32:00Z").empty());
}

// ---------------------------------------------------------------------------------------------
// window_move

rules_config window_config() {
  rule_spec r = make_rule("fast_move_15m", rule_kind::window_move, 3);
  r.window = 15 * k_ns_per_min;
  return config_with({r});
}

void window_day(harness& h) {
  h.trade("AMD", 100.0, "2025-01-27T14:30:00Z");
  h.trade("AMD", 100.5, "2025-01-27T14:31:00Z");  // the window high
  h.trade("AMD", 99.0, "2025-01-27T14:32:00Z");
  h.trade("AMD", 98.0, "2025-01-27T14:33:00Z");
  h.trade("AMD", 97.4, "2025-01-27T14:34:00Z");  // -3.08% from 100.5
  // MU: the low at 14:30 has left a 15-minute window by 14:46.
  h.trade("MU", 97.0, "2025-01-27T14:30:00Z");
  h.trade("MU", 100.5, "2025-01-27T14:46:00Z");
  // MRVL: the same rise inside the window.
  h.trade("MRVL", 97.0, "2025-01-27T14:30:00Z");
  h.trade("MRVL", 100.5, "2025-01-27T14:44:00Z");
}

TEST(window_move, names_the_window_high_it_fell_from) {
  harness h(window_config());
  window_day(h);
  std::vector<alert> amd;
  for (const auto& a : h.all) {
    if (a.symbol == "AMD") amd.push_back(a);
  }
  ASSERT_EQ(amd.size(), 1u);
  const alert& a = amd[0];
  EXPECT_EQ(a.kind, "fast_move");
  EXPECT_EQ(a.direction, "down");
  EXPECT_EQ(a.window, 15 * k_ns_per_min);
  EXPECT_EQ(a.event_time, at("2025-01-27T14:34:00Z"));
  ASSERT_TRUE(a.base);
  EXPECT_EQ(a.base->kind, "window_high");
  EXPECT_DOUBLE_EQ(a.base->price, 100.5);
  EXPECT_EQ(a.base->time, at("2025-01-27T14:31:00Z"));
  EXPECT_THAT(a.base->description, HasSubstr("high 100.50 at 09:31 EST within the last 15m"));
  EXPECT_NEAR(*a.change_pct, (97.4 / 100.5 - 1) * 100, 1e-9);
}

TEST(window_move, names_the_window_low_it_rose_from_and_forgets_older_prices) {
  harness h(window_config());
  window_day(h);
  for (const auto& a : h.all) EXPECT_NE(a.symbol, "MU") << a.summary;  // 97 left the window
  std::vector<alert> mrvl;
  for (const auto& a : h.all) {
    if (a.symbol == "MRVL") mrvl.push_back(a);
  }
  ASSERT_EQ(mrvl.size(), 1u);
  EXPECT_EQ(mrvl[0].direction, "up");
  EXPECT_EQ(mrvl[0].base->kind, "window_low");
  EXPECT_DOUBLE_EQ(mrvl[0].base->price, 97.0);
  EXPECT_THAT(mrvl[0].base->description, HasSubstr("low 97.00"));
}

// ---------------------------------------------------------------------------------------------
// zscore_move

rules_config zscore_config(std::size_t min_history = 30) {
  rule_spec r = make_rule("zscore_15m", rule_kind::zscore_move, 2);
  r.window = 15 * k_ns_per_min;
  r.z_threshold = 4;
  r.min_history = min_history;
  r.history = 390;
  return config_with({r});
}

// One print a minute from the open for `minutes`: NVDA calm (0.02% wiggles), AMD volatile
// (1.5% wiggles); both then print 102.5, +2.5% from their price 15 minutes earlier (100).
void zscore_day_for(harness& h, int minutes) {
  time_ns t = at(k_monday_open);
  for (int i = 0; i < minutes; ++i, t += k_ns_per_min) {
    h.trade("NVDA", i % 2 ? 100.0 : 100.02, t);
    h.trade("AMD", i % 2 ? 100.0 : 101.5, t);
  }
  h.trade("NVDA", 102.5, t);
  h.trade("AMD", 102.5, t);
}
void zscore_day(harness& h) { zscore_day_for(h, 60); }

TEST(zscore_move, fires_on_a_move_large_for_a_calm_symbol) {
  harness h(zscore_config());
  zscore_day(h);
  ASSERT_EQ(h.all.size(), 1u);
  const alert& a = h.all[0];
  EXPECT_EQ(a.symbol, "NVDA");
  EXPECT_EQ(a.kind, "zscore_move");
  EXPECT_EQ(a.direction, "up");
  EXPECT_EQ(a.window, 15 * k_ns_per_min);
  ASSERT_TRUE(a.base);
  EXPECT_EQ(a.base->kind, "zscore");
  EXPECT_DOUBLE_EQ(a.base->price, 100.0);
  EXPECT_THAT(a.base->description, HasSubstr("one-minute volatility"));
  EXPECT_NEAR(*a.change_pct, 2.5, 1e-9);
}

TEST(zscore_move, ignores_the_same_move_on_a_volatile_symbol) {
  harness h(zscore_config());
  zscore_day(h);
  for (const auto& a : h.all) EXPECT_NE(a.symbol, "AMD") << a.summary;
}

TEST(zscore_move, waits_for_min_history) {
  {
    harness h(zscore_config(30));
    zscore_day_for(h, 20);  // 19 one-minute returns
    EXPECT_TRUE(h.all.empty());
  }
  harness h(zscore_config(10));
  zscore_day_for(h, 20);
  ASSERT_EQ(h.all.size(), 1u);
  EXPECT_EQ(h.all[0].symbol, "NVDA");
}

// ---------------------------------------------------------------------------------------------
// volume_spike

rules_config volume_config() {
  rule_spec r = make_rule("volume_spike", rule_kind::volume_spike, 5);
  r.volume_factor = 3;
  r.bucket = 30 * k_ns_per_min;
  r.min_days = 3;
  return config_with({r});
}

// AAPL, constant price: each day 10,000 shares in the opening half hour (09:30-10:00 EST) and
// 1,000 in 10:00-10:30; on the last day `last_day_slot_size` per trade in 10:00-10:30.
void volume_days(harness& h, int history_days, double last_day_slot_size) {
  const time_ns first_open = at(k_monday_open);
  for (int d = 0; d <= history_days; ++d) {
    const time_ns open = first_open + d * k_ns_per_day;
    const bool last = d == history_days;
    for (int k = 0; k < 10; ++k) h.trade("AAPL", 100, open + k * 2 * k_ns_per_min, 0, 1000);
    for (int k = 0; k < 10; ++k) {
      h.trade("AAPL", 100, open + 30 * k_ns_per_min + k * 2 * k_ns_per_min, 0,
              last ? last_day_slot_size : 100);
    }
    if (last) h.trade("AAPL", 100, open + 50 * k_ns_per_min, 0, last_day_slot_size);
    h.trade("AAPL", 100, open + 60 * k_ns_per_min, 0, 100);  // closes the 10:00 slot
  }
}
void volume_day(harness& h) { volume_days(h, 3, 300); }

TEST(volume_spike, fires_against_the_typical_volume_of_that_slot) {
  harness h(volume_config());
  volume_day(h);
  // The opening half hour's 10,000 is typical for that slot: no alert there.
  ASSERT_EQ(h.all.size(), 1u);
  const alert& a = h.all[0];
  EXPECT_EQ(a.kind, "volume_spike");
  EXPECT_EQ(a.symbol, "AAPL");
  EXPECT_EQ(a.level, severity::info);
  EXPECT_EQ(a.event_time, at("2025-01-30T15:18:00Z"));  // the trade that reached 3x
  ASSERT_TRUE(a.base);
  EXPECT_EQ(a.base->kind, "typical_volume");
  EXPECT_DOUBLE_EQ(a.base->price, 1000);
  EXPECT_THAT(a.base->description, HasSubstr("10:00-10:30 EST over 3 days"));
  std::map<std::string, double> facts(a.facts.begin(), a.facts.end());
  EXPECT_DOUBLE_EQ(facts["volume"], 3000);
  EXPECT_DOUBLE_EQ(facts["ratio"], 3.0);
  // Once per slot: the next trade in the same slot is counted, not said again.
  EXPECT_GE(h.eng.stats().suppressed_frequency, 1u);
  expect_suppressions_add_up(h.eng.stats());
}

TEST(volume_spike, not_before_min_days_of_history) {
  harness h(volume_config());
  volume_days(h, 2, 1000);  // 10x the slot's typical volume, but only two days known
  EXPECT_TRUE(h.all.empty());
}

// ---------------------------------------------------------------------------------------------
// opening_gap

rules_config gap_config() {
  return config_with({make_rule("opening_gap", rule_kind::opening_gap, 5)});
}

void gap_day(harness& h) {
  h.friday_close("NVDA", 100);
  h.friday_close("AMD", 100);
  h.friday_close("MU", 100);
  h.trade("NVDA", 108.0, "2025-01-27T09:30:00Z");  // pre-market (04:30 EST)
  h.trade("NVDA", 106.0, "2025-01-27T14:30:00Z");  // the regular open
  h.trade("AMD", 102.0, "2025-01-27T14:30:00Z");   // opens +2% ...
  h.trade("AMD", 106.0, "2025-01-27T14:35:00Z");   // ... then rallies: not a gap
  h.trade("MU", 94.0, "2025-01-27T14:30:05Z");
}

TEST(opening_gap, judges_the_regular_open_only) {
  harness h(gap_config());
  gap_day(h);
  ASSERT_EQ(h.all.size(), 2u);
  const alert& up = h.all[0];
  EXPECT_EQ(up.symbol, "NVDA");
  EXPECT_EQ(up.kind, "gap");
  EXPECT_EQ(up.direction, "up");
  EXPECT_EQ(up.event_time, at("2025-01-27T14:30:00Z"));
  EXPECT_NEAR(*up.change_pct, 6.0, 1e-9);
  EXPECT_EQ(up.base->kind, "prev_close");
  EXPECT_THAT(up.base->description, HasSubstr("opened at 106.00"));
  const alert& down = h.all[1];
  EXPECT_EQ(down.symbol, "MU");
  EXPECT_EQ(down.direction, "down");
  EXPECT_NEAR(*down.change_pct, -6.0, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// price_limit

rules_config limit_config() {
  return config_with({make_rule("price_limit", rule_kind::price_limit, 5)});
}

void limit_day(harness& h) {
  for (const char* s : {"000977.SZ", "300766.SZ", "688256.SS", "830799.BJ"}) {
    h.china_friday_close(s, 20.0);
  }
  h.china_friday_close("600519.SS", 1500.0);
  // Monday 09:31 CST onwards.
  h.trade("000977.SZ", 22.00, "2025-01-27T01:31:00Z");    // main board +10%: at its limit
  h.trade("300766.SZ", 22.00, "2025-01-27T01:31:00Z");    // ChiNext +10%: not at its limit
  h.trade("300766.SZ", 24.00, "2025-01-27T01:32:00Z");    // ChiNext +20%
  h.trade("688256.SS", 24.00, "2025-01-27T01:33:00Z");    // STAR +20%
  h.trade("830799.BJ", 24.00, "2025-01-27T01:34:00Z");    // Beijing +20%: not at its limit
  h.trade("830799.BJ", 26.00, "2025-01-27T01:35:00Z");    // Beijing +30%
  h.trade("600519.SS", 1350.00, "2025-01-27T01:36:00Z");  // main board -10%: limit-down
}

TEST(price_limit, each_board_at_its_own_limit) {
  harness h(limit_config());
  limit_day(h);
  ASSERT_EQ(h.all.size(), 5u);
  struct expected {
    const char* symbol;
    const char* direction;
    double pct;
    const char* limits;
  } want[] = {
      {"000977.SZ", "up", 10, "limits 18.00 / 22.00 (±10%)"},
      {"300766.SZ", "up", 20, "limits 16.00 / 24.00 (±20%)"},
      {"688256.SS", "up", 20, "limits 16.00 / 24.00 (±20%)"},
      {"830799.BJ", "up", 30, "limits 14.00 / 26.00 (±30%)"},
      {"600519.SS", "down", 10, "limits 1350.00 / 1650.00 (±10%)"},
  };
  for (std::size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(want[i].symbol);
    const alert& a = h.all[i];
    EXPECT_EQ(a.symbol, want[i].symbol);
    EXPECT_EQ(a.kind, "limit_hit");
    EXPECT_EQ(a.direction, want[i].direction);
    EXPECT_EQ(a.level, severity::critical);
    EXPECT_DOUBLE_EQ(a.threshold_pct, want[i].pct);
    ASSERT_TRUE(a.base);
    EXPECT_EQ(a.base->kind, "prev_close");
    EXPECT_THAT(a.base->description, HasSubstr(want[i].limits));
    EXPECT_THAT(a.summary, HasSubstr(std::string(want[i].direction) == "up" ? "at limit-up"
                                                                            : "at limit-down"));
  }
  EXPECT_EQ(h.all[1].event_time, at("2025-01-27T01:32:00Z"));  // ChiNext only at +20%
  EXPECT_EQ(h.all[3].event_time, at("2025-01-27T01:35:00Z"));  // Beijing only at +30%
}

TEST(price_limit, limit_prices_are_rounded_to_the_tick) {
  harness h(limit_config());
  h.china_friday_close("000977.SZ", 13.37);  // limit-up 14.707 rounds to 14.71
  EXPECT_TRUE(h.trade("000977.SZ", 14.70, "2025-01-27T01:31:00Z").empty());
  EXPECT_EQ(h.trade("000977.SZ", 14.71, "2025-01-27T01:32:00Z").size(), 1u);
}

TEST(price_limit, exceptions_override_the_board_including_no_limit) {
  rules_config c = limit_config();
  c.price_limit_exceptions = {{"600519.SS", 5.0}, {"300766.SZ", std::nullopt}};
  auto compiled = compile(c);
  ASSERT_TRUE(compiled);
  EXPECT_EQ(compiled->price_limit_pct("600519.SS"), 5.0);
  EXPECT_EQ(compiled->price_limit_pct("300766.SZ"), std::nullopt);
  EXPECT_EQ(compiled->price_limit_pct("300999.SZ"), 20.0);
  EXPECT_EQ(compiled->price_limit_pct("000977.SZ"), 10.0);
  EXPECT_EQ(compiled->price_limit_pct("688256.SS"), 20.0);
  EXPECT_EQ(compiled->price_limit_pct("830799.BJ"), 30.0);
  EXPECT_EQ(compiled->price_limit_pct("NVDA"), std::nullopt);
  harness h(compiled);
  h.china_friday_close("600519.SS", 1500.0);
  h.china_friday_close("300766.SZ", 20.0);
  auto fired = h.trade("600519.SS", 1575.0, "2025-01-27T01:31:00Z");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_DOUBLE_EQ(fired[0].threshold_pct, 5);
  EXPECT_TRUE(h.trade("300766.SZ", 26.0, "2025-01-27T01:31:00Z").empty());  // +30%, no limit
}

TEST(price_limit, us_symbols_have_no_limit) {
  harness h(limit_config());
  h.friday_close("NVDA", 100);
  EXPECT_TRUE(h.trade("NVDA", 130.0, "2025-01-27T14:31:00Z").empty());
}

// ---------------------------------------------------------------------------------------------
// trading_halt

rules_config halt_config() {
  return config_with({make_rule("trading_halt", rule_kind::trading_halt, 5)});
}

void halt_day(harness& h) {
  h.trade("NVDA", 100.0, "2025-01-27T14:40:00Z");
  h.status("NVDA", "H", "Trading Halt", "2025-01-27T15:00:00Z", "LUDP");
  h.status("NVDA", "H", "Trading Halt", "2025-01-27T15:01:00Z", "LUDP");  // repeated
  h.status("NVDA", "T", "Trading Resumption", "2025-01-27T15:10:00Z");
}

TEST(trading_halt, halt_is_critical_and_resume_resolves_it) {
  harness h(halt_config());
  halt_day(h);
  ASSERT_EQ(h.all.size(), 2u);
  const alert& halt = h.all[0];
  EXPECT_EQ(halt.status, alert_status::firing);
  EXPECT_EQ(halt.kind, "halt");
  EXPECT_EQ(halt.level, severity::critical);
  EXPECT_FALSE(halt.change_pct);
  EXPECT_EQ(halt.event_time, at("2025-01-27T15:00:00Z"));
  EXPECT_THAT(halt.summary, HasSubstr("trading halted"));
  EXPECT_THAT(halt.summary, HasSubstr("LUDP"));
  const alert& resume = h.all[1];
  EXPECT_EQ(resume.status, alert_status::resolved);
  EXPECT_EQ(resume.kind, "halt");
  EXPECT_EQ(resume.fingerprint, halt.fingerprint);
  EXPECT_EQ(resume.level, severity::critical);
  EXPECT_EQ(resume.event_time, at("2025-01-27T15:10:00Z"));
}

TEST(trading_halt, a_resume_without_a_halt_says_nothing) {
  harness h(halt_config());
  EXPECT_TRUE(h.status("NVDA", "T", "Trading Resumption", "2025-01-27T15:10:00Z").empty());
}

// ---------------------------------------------------------------------------------------------
// luld

rules_config luld_config() { return config_with({make_rule("luld", rule_kind::luld, 5)}); }

void luld_day(harness& h) {
  h.friday_close("NVDA", 100);
  h.feed(luld_band{"NVDA", 105.0, 95.0, "A", at("2025-01-27T14:35:00Z")});
  h.trade("NVDA", 100.0, "2025-01-27T14:36:00Z");
  h.trade("NVDA", 104.99, "2025-01-27T14:36:30Z");  // inside the band
  h.trade("NVDA", 105.0, "2025-01-27T14:37:00Z");   // at the upper band
  h.trade("NVDA", 100.0, "2025-01-27T14:38:00Z");   // back inside: resolved
  h.trade("NVDA", 94.9, "2025-01-27T14:39:00Z");    // through the lower band
}

TEST(luld, price_at_a_band_fires_and_leaving_it_resolves) {
  harness h(luld_config());
  luld_day(h);
  ASSERT_EQ(h.all.size(), 3u);
  const alert& up = h.all[0];
  EXPECT_EQ(up.kind, "luld");
  EXPECT_EQ(up.direction, "up");
  EXPECT_EQ(up.event_time, at("2025-01-27T14:37:00Z"));
  ASSERT_TRUE(up.base);
  EXPECT_EQ(up.base->kind, "luld_band");
  EXPECT_DOUBLE_EQ(up.base->price, 105.0);
  EXPECT_THAT(up.base->description, HasSubstr("LULD band 95.00 - 105.00"));
  EXPECT_THAT(up.summary, HasSubstr("at the LULD upper band"));
  EXPECT_EQ(h.all[1].status, alert_status::resolved);
  EXPECT_EQ(h.all[1].fingerprint, up.fingerprint);
  const alert& down = h.all[2];
  EXPECT_EQ(down.direction, "down");
  EXPECT_DOUBLE_EQ(down.base->price, 95.0);
  EXPECT_THAT(down.summary, HasSubstr("at the LULD lower band"));
}

TEST(luld, no_band_no_alert) {
  harness h(luld_config());
  h.friday_close("NVDA", 100);
  EXPECT_TRUE(h.trade("NVDA", 130.0, "2025-01-27T14:36:00Z").empty());
}

// ---------------------------------------------------------------------------------------------
// basket_breadth

rules_config breadth_config() {
  rule_spec r = make_rule("basket_breadth", rule_kind::basket_breadth, 3);
  r.min_members = 3;
  return config_with({r});
}

void breadth_day(harness& h) {
  for (const char* s : {"NVDA", "AMD", "AVGO", "MU", "MRVL", "TSM"}) h.friday_close(s, 100);
  h.trade("NVDA", 96.5, "2025-01-27T14:40:00Z");
  h.trade("AMD", 96.5, "2025-01-27T14:41:00Z");
  h.trade("MRVL", 104.0, "2025-01-27T14:41:30Z");  // up: does not count toward a fall
  h.trade("AVGO", 96.5, "2025-01-27T14:42:00Z");   // third member down 3.5%
  h.trade("MU", 96.0, "2025-01-27T14:43:00Z");     // a fourth: same grouped condition
}

TEST(basket_breadth, three_members_down_give_one_grouped_alert) {
  harness h(breadth_config());
  breadth_day(h);
  ASSERT_EQ(h.all.size(), 1u);
  const alert& a = h.all[0];
  EXPECT_EQ(a.kind, "basket_move");
  EXPECT_TRUE(a.symbol.empty());
  EXPECT_EQ(a.name, "ai_semis");
  EXPECT_EQ(a.direction, "down");
  EXPECT_THAT(a.symbols, testing::ElementsAre("AMD", "AVGO", "NVDA"));
  EXPECT_EQ(a.event_time, at("2025-01-27T14:42:00Z"));
  EXPECT_NEAR(*a.change_pct, -3.5, 1e-9);
  ASSERT_TRUE(a.base);
  EXPECT_THAT(a.base->description, HasSubstr("3 of 6 members of ai_semis moved at least 3%"));
  EXPECT_THAT(a.summary, HasSubstr("AMD, AVGO, NVDA"));
}

TEST(basket_breadth, members_recovering_resolve_the_grouped_alert) {
  harness h(breadth_config());
  breadth_day(h);
  ASSERT_EQ(h.all.size(), 1u);
  for (const char* s : {"NVDA", "AMD", "AVGO", "MU"}) h.trade(s, 99.5, "2025-01-27T15:30:00Z");
  auto done = resolved(h.all);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].fingerprint, h.all[0].fingerprint);
  EXPECT_EQ(done[0].name, "ai_semis");
  EXPECT_EQ(done[0].direction, "down");
  EXPECT_EQ(firing(h.all).size(), 1u);
}

TEST(basket_breadth, yesterdays_moves_do_not_count_today) {
  harness h(breadth_config());
  for (const char* s : {"NVDA", "AMD", "AVGO"}) h.friday_close(s, 100);
  h.trade("NVDA", 96.0, "2025-01-27T14:40:00Z");  // Monday, and closes there
  h.trade("NVDA", 96.0, "2025-01-27T20:59:00Z");
  h.trade("AMD", 100.0, "2025-01-27T20:59:00Z");
  h.trade("AVGO", 100.0, "2025-01-27T20:59:00Z");
  h.trade("AMD", 96.0, "2025-01-28T14:40:00Z");  // Tuesday
  h.trade("AVGO", 96.0, "2025-01-28T14:41:00Z");
  EXPECT_TRUE(firing(h.all).empty()) << to_json(h.all[0]);
}

TEST(basket_breadth, two_members_are_not_breadth) {
  harness h(breadth_config());
  for (const char* s : {"NVDA", "AMD", "AVGO"}) h.friday_close(s, 100);
  h.trade("NVDA", 90.0, "2025-01-27T14:40:00Z");
  h.trade("AMD", 90.0, "2025-01-27T14:41:00Z");
  h.trade("AVGO", 98.0, "2025-01-27T14:42:00Z");
  EXPECT_TRUE(h.all.empty());
}

// ---------------------------------------------------------------------------------------------
// unexplained_move

rules_config unexplained_config() {
  // As deployed: unexplained_move first, so it speaks when nothing explains the move and
  // prev_close_move speaks (citing the headline) when something does.
  return config_with({make_rule("unexplained_move", rule_kind::unexplained_move, 5),
                      make_rule("prev_close_move", rule_kind::prev_close_move, 5)});
}

void unexplained_day(harness& h) {
  h.friday_close("NVDA", 100);
  h.friday_close("AMD", 100);
  h.headline("amd-1", "Advanced Micro Devices Slides After Guidance Cut", "2025-01-27T13:00:00Z");
  h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  h.trade("AMD", 94.0, "2025-01-27T15:01:00Z");
}

TEST(unexplained_move, fires_only_without_a_linked_headline) {
  harness h(unexplained_config());
  unexplained_day(h);
  ASSERT_EQ(h.all.size(), 2u);
  const alert& nvda = h.all[0];
  EXPECT_EQ(nvda.symbol, "NVDA");
  EXPECT_EQ(nvda.rule, "unexplained_move");
  EXPECT_EQ(nvda.kind, "unexplained_move");
  EXPECT_TRUE(nvda.headlines.empty());
  EXPECT_THAT(nvda.summary, HasSubstr("no linked headline yet"));
  const alert& amd = h.all[1];
  EXPECT_EQ(amd.symbol, "AMD");
  EXPECT_EQ(amd.rule, "prev_close_move");
  ASSERT_EQ(amd.headlines.size(), 1u);
  EXPECT_EQ(amd.headlines[0].id, "amd-1");
  const engine_stats& s = h.eng.stats();
  EXPECT_EQ(s.suppressed_explained, 1u);  // AMD's unexplained_move
  EXPECT_EQ(s.suppressed_duplicate, 1u);  // NVDA's prev_close_move on the same print
  expect_suppressions_add_up(s);
}

TEST(unexplained_move, alone_it_is_suppressed_and_counted_when_explained) {
  harness h(config_with({make_rule("unexplained_move", rule_kind::unexplained_move, 5)}));
  h.friday_close("AMD", 100);
  h.headline("amd-1", "Advanced Micro Devices Slides", "2025-01-27T13:00:00Z");
  EXPECT_TRUE(h.trade("AMD", 94.0, "2025-01-27T15:00:00Z").empty());
  EXPECT_EQ(h.eng.stats().suppressed_explained, 1u);
  EXPECT_EQ(h.eng.stats().suppressed, 1u);
}

// ---------------------------------------------------------------------------------------------
// Sessions

TEST(sessions, a_rule_limited_to_regular_does_not_fire_pre_market) {
  rule_spec r = make_rule("prev_close_move", rule_kind::prev_close_move, 5);
  r.sessions = {session_kind::regular};
  harness h(config_with({r}));
  h.friday_close();
  EXPECT_TRUE(h.trade("NVDA", 92.0, "2025-01-27T09:30:00Z").empty());  // 04:30 EST
  EXPECT_TRUE(h.trade("NVDA", 92.0, "2025-01-27T14:29:59Z").empty());  // 09:29:59 EST
  auto fired = h.trade("NVDA", 92.0, "2025-01-27T14:30:00Z");          // the open
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].event_time, at("2025-01-27T14:30:00Z"));
}

TEST(sessions, a_rule_without_sessions_fires_pre_market) {
  harness h(config_with({make_rule("prev_close_move", rule_kind::prev_close_move, 5)}));
  h.friday_close();
  EXPECT_EQ(h.trade("NVDA", 92.0, "2025-01-27T09:30:00Z").size(), 1u);
}

TEST(sessions, a_pre_market_only_rule_is_quiet_in_the_regular_session) {
  rule_spec r = make_rule("premarket_move", rule_kind::prev_close_move, 5);
  r.sessions = {session_kind::pre_market};
  harness h(config_with({r}));
  h.friday_close();
  EXPECT_TRUE(h.trade("NVDA", 92.0, "2025-01-27T14:30:00Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 92.0, "2025-01-27T21:30:00Z").empty());  // after hours
}

// ---------------------------------------------------------------------------------------------
// Bad data: outliers, confirmation, duplicates, out-of-order prints, corrections and cancels

// Deployed defaults: a print 5% from the last one is held for the next print to judge, and a
// condition must be seen by one more observation before it fires.
rules_config bad_data_config() {
  rule_spec prev = make_rule("prev_close_move", rule_kind::prev_close_move, 5);
  prev.confirm = 1;
  rule_spec fast = make_rule("fast_move_15m", rule_kind::window_move, 3);
  fast.window = 15 * k_ns_per_min;
  fast.confirm = 1;
  rules_config c = config_with({prev, fast});
  c.outlier_pct = 5;
  return c;
}

// Flat prints around 100 every 20 s from the open, with `bad` replacing print `bad_at`.
void flat_with_bad_tick(harness& h, double bad, int bad_at, int prints = 60) {
  h.friday_close("NVDA", 100);
  time_ns t = at(k_monday_open);
  for (int i = 0; i < prints; ++i, t += 20 * k_ns_per_s) {
    h.trade("NVDA", i == bad_at ? bad : (i % 2 ? 100.05 : 99.95), t, 1000 + i);
  }
}

TEST(bad_data, a_lone_print_at_one_percent_of_the_price_never_fires) {
  harness h(bad_data_config());
  flat_with_bad_tick(h, 1.00, 20);
  EXPECT_TRUE(h.all.empty()) << h.all[0].summary;
  EXPECT_EQ(h.eng.stats().outliers, 1u);
  engine::price_view v;
  ASSERT_TRUE(h.eng.price_of("NVDA", v));
  EXPECT_GT(v.last, 99.0);
}

TEST(bad_data, a_lone_plus_twelve_percent_print_never_fires_nor_pollutes_the_window) {
  harness h(bad_data_config());
  // The flat prints after the tick would be -10.7% from a 112 window high if it got in.
  flat_with_bad_tick(h, 112.0, 10);
  EXPECT_TRUE(h.all.empty()) << h.all[0].summary;
  EXPECT_EQ(h.eng.stats().outliers, 1u);
  // A real rise afterwards is measured from the real window low, not the bad tick.
  time_ns t = at("2025-01-27T14:50:00Z");
  for (double p = 100.5; p <= 103.6; p += 0.5, t += 30 * k_ns_per_s) h.trade("NVDA", p, t);
  auto fired = firing(h.all);
  ASSERT_FALSE(fired.empty());
  EXPECT_EQ(fired[0].rule, "fast_move_15m");
  EXPECT_EQ(fired[0].direction, "up");
  EXPECT_EQ(fired[0].base->kind, "window_low");
  EXPECT_NEAR(fired[0].base->price, 100.0, 0.06);
}

TEST(bad_data, a_lone_low_tick_does_not_become_the_window_low) {
  harness h(bad_data_config());
  flat_with_bad_tick(h, 88.0, 30);
  EXPECT_TRUE(h.all.empty()) << h.all[0].summary;
  EXPECT_EQ(h.eng.stats().outliers, 1u);
}

// The deployed rules hold prints 5% away (outlier_pct) but fire fast moves at 4%: a lone tick
// 4.4% away is accepted as a print, and must still not become the window's high.
TEST(bad_data, a_lone_tick_just_under_the_outlier_hold_never_fires_the_deployed_rules) {
  harness h(desk_config());
  flat_with_bad_tick(h, 104.5, 20);
  EXPECT_TRUE(h.all.empty()) << to_json(h.all[0]);
}

TEST(bad_data, a_real_jump_confirmed_by_the_next_print_fires) {
  harness h(bad_data_config());
  h.friday_close("NVDA", 100);
  EXPECT_TRUE(h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 112.0, "2025-01-27T14:30:10Z").empty());  // held
  auto fired = h.trade("NVDA", 112.3, "2025-01-27T14:30:20Z");          // agrees
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "prev_close_move");  // the window rule spoke for the same print
  EXPECT_EQ(fired[0].direction, "up");
  EXPECT_NEAR(*fired[0].change_pct, 12.3, 1e-9);
  EXPECT_EQ(fired[0].event_time, at("2025-01-27T14:30:20Z"));
  EXPECT_EQ(h.eng.stats().outliers, 0u);
}

TEST(bad_data, a_crash_that_keeps_going_confirms_each_step) {
  harness h(bad_data_config());
  h.friday_close("NVDA", 100);
  h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z");
  EXPECT_TRUE(h.trade("NVDA", 90.0, "2025-01-27T14:30:10Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 81.0, "2025-01-27T14:30:20Z").empty());
  auto fired = h.trade("NVDA", 80.5, "2025-01-27T14:30:30Z");
  ASSERT_FALSE(fired.empty());
  EXPECT_EQ(fired[0].direction, "down");
  EXPECT_EQ(h.eng.stats().outliers, 0u);
}

TEST(bad_data, one_print_over_the_threshold_needs_another_to_agree) {
  rules_config c = bad_data_config();
  c.rules.pop_back();  // prev_close_move alone: the window rule would see 96 as a fall from 99
  harness h(c);
  h.friday_close("NVDA", 100);
  h.trade("NVDA", 99.0, "2025-01-27T14:30:00Z");
  EXPECT_TRUE(h.trade("NVDA", 94.5, "2025-01-27T14:30:10Z").empty());  // -5.5%: once
  EXPECT_TRUE(h.trade("NVDA", 96.0, "2025-01-27T14:30:20Z").empty());  // not again
  EXPECT_GE(h.eng.stats().unconfirmed, 1u);
  EXPECT_TRUE(h.trade("NVDA", 94.5, "2025-01-27T14:30:30Z").empty());
  EXPECT_EQ(h.trade("NVDA", 94.4, "2025-01-27T14:30:40Z").size(), 1u);
}

TEST(bad_data, a_duplicate_trade_is_counted_and_does_not_confirm) {
  rules_config c = config_with({make_rule("prev_close_move", rule_kind::prev_close_move, 5)});
  c.rules[0].confirm = 1;
  harness h(c);
  h.trade("NVDA", 100.0, "2025-01-24T20:59:59Z", 1);
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z", 10).empty());
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z", 10).empty());  // the same print again
  EXPECT_EQ(h.eng.stats().duplicates, 1u);
  EXPECT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:01Z", 11).size(), 1u);
}

TEST(bad_data, an_out_of_order_print_is_counted_and_does_not_confirm_or_move_the_price) {
  rules_config c = config_with({make_rule("prev_close_move", rule_kind::prev_close_move, 5)});
  c.rules[0].confirm = 1;
  harness h(c);
  h.friday_close();
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T14:59:00Z").empty());  // late
  EXPECT_EQ(h.eng.stats().out_of_order, 1u);
  engine::price_view v;
  ASSERT_TRUE(h.eng.price_of("NVDA", v));
  EXPECT_EQ(v.time, at("2025-01-27T15:00:00Z"));
  EXPECT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:01:00Z").size(), 1u);
}

trade_correction correction(const char* sym, std::int64_t id, double from, double to,
                            std::int64_t new_id, const char* when) {
  trade_correction c;
  c.symbol = sym;
  c.original_id = id;
  c.original_price = from;
  c.original_size = 100;
  c.corrected_id = new_id;
  c.corrected_price = to;
  c.corrected_size = 100;
  c.time = at(when);
  return c;
}
trade_cancel cancel(const char* sym, std::int64_t id, double price, const char* when) {
  trade_cancel x;
  x.symbol = sym;
  x.id = id;
  x.price = price;
  x.size = 100;
  x.time = at(when);
  return x;
}

TEST(corrections, a_corrected_close_changes_the_previous_close) {
  harness h(prev_close_config());
  h.trade("NVDA", 101.0, "2025-01-24T20:30:00Z", 1);
  h.trade("NVDA", 110.0, "2025-01-24T20:59:59Z", 2);  // wrong
  h.feed(correction("NVDA", 2, 110.0, 100.0, 3, "2025-01-24T21:05:00Z"));
  EXPECT_EQ(h.eng.stats().corrections, 1u);
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T14:31:00Z", 10);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_DOUBLE_EQ(fired[0].base->price, 100.0);
  EXPECT_NEAR(*fired[0].change_pct, -6.0, 1e-9);
  EXPECT_EQ(fired[0].level, severity::warning);  // not the -14.5% the wrong print implied
}

TEST(corrections, a_cancelled_close_falls_back_to_the_print_before_it) {
  harness h(prev_close_config());
  h.trade("NVDA", 101.0, "2025-01-24T20:30:00Z", 1);
  h.trade("NVDA", 110.0, "2025-01-24T20:59:59Z", 2);
  h.feed(cancel("NVDA", 2, 110.0, "2025-01-24T21:05:00Z"));
  EXPECT_EQ(h.eng.stats().cancels, 1u);
  auto fired = h.trade("NVDA", 95.5, "2025-01-27T14:31:00Z", 10);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_DOUBLE_EQ(fired[0].base->price, 101.0);
  EXPECT_DOUBLE_EQ(fired[0].threshold_pct, 5);
}

TEST(corrections, a_close_corrected_after_the_next_days_first_print_still_corrects_the_close) {
  harness h(prev_close_config());
  h.trade("NVDA", 101.0, "2025-01-24T20:30:00Z", 1);
  h.trade("NVDA", 110.0, "2025-01-24T20:59:59Z", 2);
  h.trade("NVDA", 100.0, "2025-01-27T09:00:00Z", 3);  // Monday pre-market: the close rolls
  h.feed(correction("NVDA", 2, 110.0, 100.0, 4, "2025-01-27T09:01:00Z"));
  EXPECT_EQ(h.eng.stats().corrections, 1u);
  engine::price_view v;
  ASSERT_TRUE(h.eng.price_of("NVDA", v));
  EXPECT_DOUBLE_EQ(v.prev_close, 100.0);
}

// Window rule, confirmation on: two 103.5 prints among flat 100s (two, because the window
// takes the median of three prints and ignores a lone one) make the flat prints after them
// -3.4% from the window high, unless the prints are withdrawn.
std::vector<alert> window_after_withdrawn_print(const std::vector<event>& withdraw) {
  rules_config c = bad_data_config();
  c.rules.erase(c.rules.begin());  // the window rule alone
  harness h(c);
  h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z", 1);
  h.trade("NVDA", 100.0, "2025-01-27T14:31:00Z", 2);
  h.trade("NVDA", 103.5, "2025-01-27T14:32:00Z", 50);
  h.trade("NVDA", 103.5, "2025-01-27T14:32:10Z", 54);
  for (const auto& w : withdraw) h.feed(w);
  h.trade("NVDA", 100.0, "2025-01-27T14:33:00Z", 55);
  h.trade("NVDA", 100.0, "2025-01-27T14:34:00Z", 56);
  h.trade("NVDA", 100.0, "2025-01-27T14:35:00Z", 57);
  std::vector<alert> falls;  // the rise to 103.5 is real enough; only the fall back is the trap
  for (const auto& a : h.all) {
    if (a.direction == "down") falls.push_back(a);
  }
  return falls;
}

TEST(corrections, a_cancelled_print_leaves_the_window) {
  ASSERT_FALSE(window_after_withdrawn_print({}).empty());  // the trap is real
  EXPECT_TRUE(window_after_withdrawn_print({event{cancel("NVDA", 50, 103.5, "2025-01-27T14:32:30Z")},
                                            event{cancel("NVDA", 54, 103.5, "2025-01-27T14:32:31Z")}})
                  .empty());
}

TEST(corrections, a_corrected_print_moves_the_window) {
  EXPECT_TRUE(window_after_withdrawn_print(
                  {event{correction("NVDA", 50, 103.5, 100.1, 60, "2025-01-27T14:32:30Z")},
                   event{correction("NVDA", 54, 103.5, 100.1, 61, "2025-01-27T14:32:31Z")}})
                  .empty());
}

TEST(corrections, a_cancel_restarts_a_confirmation_in_progress) {
  rules_config c = config_with({make_rule("prev_close_move", rule_kind::prev_close_move, 5)});
  c.rules[0].confirm = 1;
  harness h(c);
  h.trade("NVDA", 100.0, "2025-01-24T20:59:59Z", 1);
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z", 20).empty());
  h.feed(cancel("NVDA", 20, 94.0, "2025-01-27T15:00:05Z"));
  EXPECT_TRUE(h.trade("NVDA", 94.0, "2025-01-27T15:00:10Z", 21).empty());  // first of its own
  EXPECT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:20Z", 22).size(), 1u);
}

TEST(corrections, a_cancelled_outlier_cannot_be_confirmed) {
  auto run = [](bool cancel_it) {
    rules_config c = prev_close_config();
    c.outlier_pct = 5;
    harness h(c);
    h.friday_close("NVDA", 100);
    h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z", 1);
    h.trade("NVDA", 112.0, "2025-01-27T14:30:10Z", 30);  // held
    if (cancel_it) h.feed(cancel("NVDA", 30, 112.0, "2025-01-27T14:30:15Z"));
    return h.trade("NVDA", 112.1, "2025-01-27T14:30:20Z", 31);
  };
  EXPECT_EQ(run(false).size(), 1u);  // 112.1 confirms the held 112
  EXPECT_TRUE(run(true).empty());    // nothing left to confirm: 112.1 is held in turn
}

// ---------------------------------------------------------------------------------------------
// Determinism across every kind

struct kind_day {
  const char* name;
  rules_config (*config)();
  void (*day)(harness&);
};

const kind_day k_days[] = {
    {"prev_close", prev_close_config, prev_close_day},
    {"window", window_config, window_day},
    {"zscore", [] { return zscore_config(); }, zscore_day},
    {"volume", volume_config, volume_day},
    {"gap", gap_config, gap_day},
    {"limit", limit_config, limit_day},
    {"halt", halt_config, halt_day},
    {"luld", luld_config, luld_day},
    {"breadth", breadth_config, breadth_day},
    {"unexplained", unexplained_config, unexplained_day},
};

TEST(determinism, every_rule_kind_replays_to_byte_identical_json) {
  std::set<std::string> kinds;
  for (const auto& d : k_days) {
    SCOPED_TRACE(d.name);
    auto run = [&] {
      harness h(d.config());
      d.day(h);
      h.flush();
      for (const auto& a : h.all) kinds.insert(a.kind);
      return json_lines(h.all);
    };
    const std::string first = run();
    EXPECT_FALSE(first.empty());
    EXPECT_EQ(first, run());
  }
  EXPECT_THAT(kinds, testing::IsSupersetOf({"move", "fast_move", "zscore_move", "volume_spike",
                                            "gap", "limit_hit", "halt", "luld", "basket_move",
                                            "unexplained_move"}));
}

TEST(determinism, all_kinds_in_one_engine_replay_identically) {
  rules_config all = base_config();
  for (const auto& d : k_days) {
    for (const auto& r : d.config().rules) {
      if (std::none_of(all.rules.begin(), all.rules.end(),
                       [&](const rule_spec& x) { return x.name == r.name; })) {
        all.rules.push_back(r);
      }
    }
  }
  auto run = [&] {
    harness h(all);
    for (const auto& d : k_days) d.day(h);
    h.flush();
    return json_lines(h.all);
  };
  const std::string first = run();
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, run());
}

}  // namespace
}  // namespace aftershock::rules
