// The shared alert lifecycle (issue 4, part 6) and news linking (part 5): fingerprints,
// hysteresis, cooldown with backoff, trigger frequencies, resolves that repeat what fired,
// suppressions that are counted and never leave a lone resolve, storm digests, lookback and
// lookahead follow-ups, citation ranking and wording.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine_harness.h"

namespace aftershock::rules {
namespace {

using namespace test_support;
using testing::HasSubstr;

rule_spec prev_close_rule(double threshold = 5) {
  rule_spec r = make_rule("prev_close_move", rule_kind::prev_close_move, threshold);
  r.escalation_pct = {10};
  r.critical_pct = 10;
  r.cooldown = k_ns_per_min;
  r.rearm_margin_pct = 1;
  return r;
}

rule_spec window_rule(double threshold = 3) {
  rule_spec r = make_rule("fast_move_15m", rule_kind::window_move, threshold);
  r.window = 15 * k_ns_per_min;
  r.cooldown = k_ns_per_min;
  return r;
}

std::vector<alert> of_symbol(const std::vector<alert>& alerts, const std::string& sym) {
  std::vector<alert> out;
  for (const auto& a : alerts) {
    if (a.symbol == sym) out.push_back(a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

TEST(fingerprint, stable_for_rule_symbol_direction_and_baseline) {
  harness h(config_with({prev_close_rule()}));
  h.friday_close("NVDA", 100);
  h.friday_close("AMD", 100);
  h.trade("NVDA", 94.0, "2025-01-27T14:31:00Z");   // fires
  h.trade("NVDA", 89.0, "2025-01-27T14:32:00Z");   // escalates
  h.trade("NVDA", 99.0, "2025-01-27T14:33:00Z");   // resolves
  h.trade("NVDA", 94.0, "2025-01-27T14:40:00Z");   // fires again
  h.trade("NVDA", 106.0, "2025-01-27T14:41:00Z");  // the other direction
  h.trade("AMD", 94.0, "2025-01-27T14:42:00Z");    // another symbol
  std::vector<alert> down, up;
  for (const auto& a : of_symbol(h.all, "NVDA")) (a.direction == "down" ? down : up).push_back(a);
  ASSERT_EQ(down.size(), 5u);  // fire, escalate, resolve, fire, resolve
  std::set<std::string> ids;
  for (const auto& a : down) {
    EXPECT_EQ(a.fingerprint, down[0].fingerprint) << to_json(a);
    ids.insert(a.id);
  }
  EXPECT_EQ(ids.size(), 5u);  // every firing and resolve has its own id
  EXPECT_EQ(resolved(down).size(), 2u);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_NE(up[0].fingerprint, down[0].fingerprint);
  const auto& nvda = down;
  auto amd = of_symbol(h.all, "AMD");
  ASSERT_EQ(amd.size(), 1u);
  EXPECT_NE(amd[0].fingerprint, nvda[0].fingerprint);

  // Another rule (and baseline) on the same symbol and direction: another fingerprint.
  harness w(config_with({window_rule()}));
  w.trade("NVDA", 100.0, "2025-01-27T14:30:00Z");
  auto fast = w.trade("NVDA", 96.0, "2025-01-27T14:31:00Z");
  ASSERT_EQ(fast.size(), 1u);
  EXPECT_EQ(fast[0].direction, "down");
  EXPECT_NE(fast[0].fingerprint, nvda[0].fingerprint);
}

TEST(fingerprint, survives_a_moving_window_baseline) {
  harness h(config_with({window_rule()}));
  time_ns t = at("2025-01-27T14:30:00Z");
  h.trade("AMD", 100.0, t);
  h.trade("AMD", 103.5, t + 2 * k_ns_per_min);  // +3.5% from the low 100
  for (int m = 3; m <= 18; ++m) h.trade("AMD", 103.5, t + m * k_ns_per_min);  // low rolls up
  h.trade("AMD", 107.2, t + 19 * k_ns_per_min);  // +3.6% from the low 103.5
  auto fired = firing(h.all);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_DOUBLE_EQ(fired[0].base->price, 100.0);
  EXPECT_DOUBLE_EQ(fired[1].base->price, 103.5);
  EXPECT_EQ(fired[0].fingerprint, fired[1].fingerprint);
  auto done = resolved(h.all);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].fingerprint, fired[0].fingerprint);
}

// ---------------------------------------------------------------------------------------------
// Hysteresis and cooldown

TEST(hysteresis, rearms_only_after_retracing_by_the_margin) {
  harness h(config_with({prev_close_rule()}));
  h.friday_close();
  EXPECT_EQ(h.trade("NVDA", 94.5, "2025-01-27T15:00:00Z").size(), 1u);  // -5.5%
  EXPECT_TRUE(h.trade("NVDA", 95.5, "2025-01-27T15:01:00Z").empty());   // -4.5%: still on
  EXPECT_TRUE(h.trade("NVDA", 94.5, "2025-01-27T15:02:00Z").empty());   // not a new cross
  EXPECT_TRUE(h.trade("NVDA", 95.9, "2025-01-27T15:03:00Z").empty());   // -4.1%: still on
  auto off = h.trade("NVDA", 96.1, "2025-01-27T15:04:00Z");             // -3.9%: re-armed
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].status, alert_status::resolved);
  auto again = h.trade("NVDA", 94.5, "2025-01-27T15:10:00Z");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status, alert_status::firing);
  EXPECT_EQ(h.eng.stats().suppressed_frequency, 1u);
  expect_suppressions_add_up(h.eng.stats());
}

TEST(cooldown, grows_by_the_backoff_with_each_refire) {
  rule_spec r = prev_close_rule();
  r.cooldown = 10 * k_ns_per_min;
  r.cooldown_backoff = 3;
  harness h(config_with({r}));
  h.friday_close();
  auto cross = [&](const char* down, const char* back) {
    auto out = h.trade("NVDA", 94.0, down);
    h.trade("NVDA", 97.0, back);
    return firing(out).size();
  };
  EXPECT_EQ(cross("2025-01-27T15:00:00Z", "2025-01-27T15:01:00Z"), 1u);  // cooling 10m
  EXPECT_EQ(cross("2025-01-27T15:05:00Z", "2025-01-27T15:06:00Z"), 0u);  // cooling
  EXPECT_EQ(cross("2025-01-27T15:11:00Z", "2025-01-27T15:12:00Z"), 1u);  // cooling 30m
  EXPECT_EQ(cross("2025-01-27T15:30:00Z", "2025-01-27T15:31:00Z"), 0u);  // cooling
  EXPECT_EQ(cross("2025-01-27T15:42:00Z", "2025-01-27T15:43:00Z"), 1u);  // cooling 90m
  EXPECT_EQ(cross("2025-01-27T17:00:00Z", "2025-01-27T17:01:00Z"), 0u);
  EXPECT_EQ(cross("2025-01-27T17:13:00Z", "2025-01-27T17:14:00Z"), 1u);
  EXPECT_EQ(h.eng.stats().suppressed_cooldown, 3u);
  EXPECT_EQ(resolved(h.all).size(), 4u);  // only firings that spoke are resolved
  expect_suppressions_add_up(h.eng.stats());
}

TEST(cooldown, a_price_flapping_around_the_threshold_all_day_alerts_at_most_three_times) {
  harness h(desk_config());
  h.friday_close();
  time_ns t = at("2025-01-27T14:30:00Z");
  const time_ns close = at("2025-01-27T21:00:00Z");
  for (int i = 0; t < close; ++i, t += 30 * k_ns_per_s) {
    h.trade("NVDA", (i / 2) % 2 ? 96.5 : 94.5, t, 1 + i);  // two prints each side
  }
  const auto fired = firing(h.all);
  EXPECT_GE(fired.size(), 1u);
  EXPECT_LE(fired.size(), 3u);
  for (const auto& a : fired) EXPECT_EQ(a.symbol, "NVDA");
  expect_suppressions_add_up(h.eng.stats());
}

// ---------------------------------------------------------------------------------------------
// Trigger frequencies

TEST(frequency, once_fires_once_per_trading_day) {
  rule_spec r = prev_close_rule();
  r.frequency = trigger_frequency::once;
  harness h(config_with({r}));
  h.friday_close();
  EXPECT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z").size(), 1u);
  h.trade("NVDA", 97.0, "2025-01-27T15:30:00Z");
  EXPECT_TRUE(firing(h.trade("NVDA", 94.0, "2025-01-27T17:00:00Z")).empty());
  EXPECT_TRUE(firing(h.trade("NVDA", 89.0, "2025-01-27T17:01:00Z")).empty());  // not even deeper
  EXPECT_EQ(h.eng.stats().suppressed_frequency, 2u);
  h.trade("NVDA", 100.0, "2025-01-27T20:59:00Z");                               // Monday's close
  EXPECT_EQ(firing(h.trade("NVDA", 94.0, "2025-01-28T15:00:00Z")).size(), 1u);  // a new day
  expect_suppressions_add_up(h.eng.stats());
}

TEST(frequency, once_per_bar_fires_once_in_each_bar_while_it_holds) {
  rule_spec r = prev_close_rule();
  r.frequency = trigger_frequency::once_per_bar;
  r.bar = k_ns_per_min;
  harness h(config_with({r}));
  h.friday_close();
  time_ns t = at("2025-01-27T15:00:00Z");
  for (int i = 0; i < 9; ++i) h.trade("NVDA", 94.0, t + i * 20 * k_ns_per_s);
  auto fired = firing(h.all);
  ASSERT_EQ(fired.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fired[i].event_time, t + i * k_ns_per_min);
  EXPECT_EQ(fired[1].fingerprint, fired[0].fingerprint);
  EXPECT_NE(fired[1].id, fired[0].id);
  EXPECT_EQ(h.eng.stats().suppressed_frequency, 6u);
}

TEST(frequency, every_time_fires_no_more_often_than_min_interval) {
  rule_spec r = prev_close_rule();
  r.frequency = trigger_frequency::every_time;
  r.min_interval = 30 * k_ns_per_s;
  harness h(config_with({r}));
  h.friday_close();
  time_ns t = at("2025-01-27T15:00:00Z");
  for (int i = 0; i < 9; ++i) h.trade("NVDA", 94.0, t + i * 20 * k_ns_per_s);  // 0..160 s
  auto fired = firing(h.all);
  ASSERT_EQ(fired.size(), 5u);  // 0, 40, 80, 120, 160 s
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fired[i].event_time, t + i * 40 * k_ns_per_s);
  EXPECT_EQ(h.eng.stats().suppressed_frequency, 4u);
}

TEST(frequency, on_cross_is_the_default_and_says_it_once) {
  harness h(config_with({prev_close_rule()}));
  h.friday_close();
  time_ns t = at("2025-01-27T15:00:00Z");
  for (int i = 0; i < 9; ++i) h.trade("NVDA", 94.0, t + i * 20 * k_ns_per_s);
  EXPECT_EQ(firing(h.all).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Resolves

TEST(resolve, carries_the_firing_baseline_window_direction_and_severity) {
  rule_spec r = window_rule(3);
  r.escalation_pct = {6};
  r.critical_pct = 6;
  harness h(config_with({r}));
  time_ns t = at("2025-01-27T14:30:00Z");
  h.trade("AMD", 100.0, t);
  h.trade("AMD", 103.5, t + 2 * k_ns_per_min);  // +3.5%: warning
  h.trade("AMD", 106.5, t + 4 * k_ns_per_min);  // +6.5%: critical
  for (int m = 5; m <= 20; ++m) h.trade("AMD", 106.5, t + m * k_ns_per_min);
  auto fired = firing(h.all);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[1].level, severity::critical);
  auto done = resolved(h.all);
  ASSERT_EQ(done.size(), 1u);  // the window low rolled up to 106.5: the move is over
  const alert& x = done[0];
  EXPECT_EQ(x.status, alert_status::resolved);
  EXPECT_EQ(x.fingerprint, fired[0].fingerprint);
  EXPECT_EQ(x.rule, "fast_move_15m");
  EXPECT_EQ(x.symbol, "AMD");
  EXPECT_EQ(x.direction, "up");
  EXPECT_EQ(x.level, severity::critical);
  EXPECT_EQ(x.window, 15 * k_ns_per_min);
  EXPECT_DOUBLE_EQ(x.threshold_pct, 6);
  ASSERT_TRUE(x.base);
  EXPECT_EQ(x.base->kind, "window_low");
  EXPECT_DOUBLE_EQ(x.base->price, 100.0);
  EXPECT_EQ(x.base->time, t);
  EXPECT_EQ(x.base->description, fired[1].base->description);
  EXPECT_NE(x.id, fired[0].id);
}

TEST(resolve, a_new_trading_day_resolves_yesterdays_condition) {
  harness h(config_with({prev_close_rule()}));
  h.friday_close();
  ASSERT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z").size(), 1u);
  h.trade("NVDA", 94.0, "2025-01-27T20:59:00Z");  // closes down
  auto next = h.trade("NVDA", 94.5, "2025-01-28T14:31:00Z");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].status, alert_status::resolved);
  EXPECT_EQ(next[0].fingerprint, h.all[0].fingerprint);
  EXPECT_DOUBLE_EQ(next[0].base->price, 100.0);  // Friday's close, as the firing said
}

TEST(resolve, a_firing_suppressed_as_duplicate_never_resolves_alone) {
  harness h(config_with({prev_close_rule(), window_rule()}));
  h.friday_close();
  h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z");
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T14:31:00Z");  // both rules hold
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "prev_close_move");
  EXPECT_EQ(h.eng.stats().suppressed_duplicate, 1u);
  // Both down conditions re-arm (the rebound itself is a new fast move up).
  auto back = resolved(h.trade("NVDA", 99.0, "2025-01-27T14:40:00Z"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].rule, "prev_close_move");
  expect_suppressions_add_up(h.eng.stats());
}

// ---------------------------------------------------------------------------------------------
// Storms: bursts roll into one digest, never into silence

rules_config storm_config() {
  rules_config c = config_with({prev_close_rule()});
  c.storm = {3, 5 * k_ns_per_min};
  return c;
}

std::string sym(int i) { return "S" + std::to_string(i); }

// Ten symbols drop 6% within ten seconds.
void burst(harness& h) {
  for (int i = 0; i < 10; ++i) h.friday_close(sym(i), 100);
  const time_ns t = at("2025-01-27T15:00:00Z");
  for (int i = 0; i < 10; ++i) h.trade(sym(i), 94.0, t + i * k_ns_per_s);
}

TEST(storm, beyond_the_budget_alerts_roll_into_one_digest_when_the_window_closes) {
  harness h(storm_config());
  burst(h);
  ASSERT_EQ(h.all.size(), 3u);
  EXPECT_EQ(h.eng.stats().suppressed_storm, 7u);
  EXPECT_EQ(h.eng.stats().suppressed, 7u);
  // Not before the window (from the first held alert at 15:00:03) has passed.
  EXPECT_TRUE(h.feed(quote{"S0", 93.9, 94.1, 1, 1, at("2025-01-27T15:05:02Z")}).empty());
  auto digest = h.feed(quote{"S0", 93.9, 94.1, 1, 1, at("2025-01-27T15:05:03Z")});
  ASSERT_EQ(digest.size(), 1u);
  const alert& d = digest[0];
  EXPECT_EQ(d.kind, "digest");
  EXPECT_EQ(d.rule, "prev_close_move");
  EXPECT_EQ(d.status, alert_status::firing);
  EXPECT_THAT(d.symbols, testing::ElementsAre("S3", "S4", "S5", "S6", "S7", "S8", "S9"));
  ASSERT_EQ(d.facts.size(), 1u);
  EXPECT_EQ(d.facts[0].first, "alerts");
  EXPECT_DOUBLE_EQ(d.facts[0].second, 7);
  EXPECT_THAT(d.summary, HasSubstr("7 more prev_close_move alerts within 5m"));
  EXPECT_THAT(d.summary, HasSubstr("S9 -6.00%"));
  EXPECT_EQ(h.eng.stats().digests, 1u);
  // Every symbol was told, alone or in the digest.
  std::set<std::string> told;
  for (const auto& a : h.all) {
    told.insert(a.symbols.begin(), a.symbols.end());
  }
  EXPECT_EQ(told.size(), 10u);
  expect_suppressions_add_up(h.eng.stats());
}

TEST(storm, flush_emits_pending_digests) {
  harness h(storm_config());
  burst(h);
  auto digest = h.flush();
  ASSERT_EQ(digest.size(), 1u);
  EXPECT_EQ(digest[0].kind, "digest");
  EXPECT_TRUE(h.flush().empty());  // said once
}

TEST(storm, firings_held_in_a_digest_never_resolve_alone) {
  harness h(storm_config());
  burst(h);
  h.flush();
  const time_ns t = at("2025-01-27T15:20:00Z");
  for (int i = 0; i < 10; ++i) h.trade(sym(i), 100.0, t + i * k_ns_per_s);
  auto done = resolved(h.all);
  ASSERT_EQ(done.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(done[i].symbol, sym(i));
}

TEST(storm, an_announced_firing_whose_escalation_rolls_into_a_digest_still_resolves) {
  harness h(storm_config());
  burst(h);                                     // S0..S2 announced; the budget is spent until 15:05
  h.trade("S0", 89.0, "2025-01-27T15:01:00Z");  // escalation: held for the digest
  h.flush();
  h.trade("S0", 100.0, "2025-01-27T15:20:00Z");
  auto done = resolved(of_symbol(h.all, "S0"));
  // The receiver holds S0's first firing open: it must hear the resolve.
  ASSERT_EQ(done.size(), 1u);
}

TEST(storm, the_budget_is_per_rule_and_per_window) {
  harness h(storm_config());
  for (int i = 0; i < 6; ++i) h.friday_close(sym(i), 100);
  // Three alerts, then three more after the window: none held.
  for (int i = 0; i < 3; ++i) h.trade(sym(i), 94.0, at("2025-01-27T15:00:00Z") + i * k_ns_per_s);
  for (int i = 3; i < 6; ++i) h.trade(sym(i), 94.0, at("2025-01-27T15:06:00Z") + i * k_ns_per_s);
  EXPECT_EQ(h.all.size(), 6u);
  EXPECT_EQ(h.eng.stats().suppressed_storm, 0u);
  EXPECT_TRUE(h.flush().empty());
}

// ---------------------------------------------------------------------------------------------
// News linking

rules_config news_config() {
  rules_config c = config_with({prev_close_rule()});
  c.news.lookback = 2 * k_ns_per_hour;
  c.news.lookahead = 30 * k_ns_per_min;
  c.news.max_citations = 3;
  return c;
}

TEST(news_linking, cites_headlines_within_the_lookback_only) {
  harness h(news_config());
  h.friday_close();
  h.headline("old", "Nvidia Guidance Disappoints", "2025-01-27T12:59:00Z");  // 2h01m before
  h.headline("recent", "Nvidia Slides Premarket", "2025-01-27T13:01:00Z");
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_EQ(fired[0].headlines.size(), 1u);
  EXPECT_EQ(fired[0].headlines[0].id, "recent");
}

TEST(news_linking, a_direct_headline_after_the_move_gets_a_follow_up_with_the_same_fingerprint) {
  harness h(news_config());
  h.friday_close();
  auto first = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_THAT(first[0].summary, HasSubstr("no linked headline yet"));
  auto follow =
      h.headline("late", "Nvidia Falls As DeepSeek Rattles Chip Stocks", "2025-01-27T15:10:00Z");
  ASSERT_EQ(follow.size(), 1u);
  const alert& f = follow[0];
  EXPECT_EQ(f.status, alert_status::firing);
  EXPECT_EQ(f.fingerprint, first[0].fingerprint);
  EXPECT_EQ(f.follow_up_of, first[0].id);
  EXPECT_NE(f.id, first[0].id);
  ASSERT_FALSE(f.headlines.empty());
  EXPECT_EQ(f.headlines[0].id, "late");
  EXPECT_EQ(f.headlines[0].how, link_kind::direct);
  EXPECT_EQ(f.headlines[0].matched, "Nvidia");
  EXPECT_THAT(f.summary, testing::StartsWith("follow-up, headline at 10:10 EST"));
  EXPECT_THAT(f.summary, HasSubstr("likely cause: Nvidia Falls"));
  EXPECT_EQ(f.event_time, at("2025-01-27T15:10:00Z"));
  EXPECT_DOUBLE_EQ(f.price, 94.0);  // the move as it was
  EXPECT_EQ(h.eng.stats().follow_ups, 1u);
  // The same headline again is not news.
  EXPECT_TRUE(
      h.headline("late", "Nvidia Falls As DeepSeek Rattles Chip Stocks", "2025-01-27T15:10:00Z")
          .empty());
}

TEST(news_linking, an_unexplained_move_gets_its_follow_up_when_the_headline_arrives) {
  rules_config c = news_config();
  c.rules.insert(c.rules.begin(), make_rule("unexplained_move", rule_kind::unexplained_move, 5));
  harness h(c);
  h.friday_close();
  auto first = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].rule, "unexplained_move");
  auto follow = h.headline("late", "Nvidia Falls", "2025-01-27T15:20:00Z");
  ASSERT_EQ(follow.size(), 1u);
  EXPECT_EQ(follow[0].rule, "unexplained_move");
  EXPECT_EQ(follow[0].fingerprint, first[0].fingerprint);
  EXPECT_EQ(follow[0].follow_up_of, first[0].id);
  ASSERT_EQ(follow[0].headlines.size(), 1u);
  EXPECT_EQ(follow[0].headlines[0].id, "late");
  EXPECT_THAT(follow[0].summary, testing::Not(HasSubstr("no linked headline yet")));
}

TEST(news_linking, no_follow_up_beyond_the_lookahead) {
  harness h(news_config());
  h.friday_close();
  ASSERT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z").size(), 1u);
  EXPECT_TRUE(h.headline("late", "Nvidia Falls", "2025-01-27T15:31:00Z").empty());
  EXPECT_EQ(h.eng.stats().follow_ups, 0u);
}

TEST(news_linking, a_theme_headline_after_the_move_gets_no_follow_up) {
  harness h(news_config());
  h.friday_close();
  ASSERT_EQ(h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z").size(), 1u);
  EXPECT_TRUE(h.headline("theme", "DeepSeek Shakes AI Stocks", "2025-01-27T15:05:00Z").empty());
}

TEST(news_linking, ranks_direct_then_feed_tagged_then_theme) {
  rules_config c = news_config();
  c.news.lookback = 72 * k_ns_per_hour;
  harness h(c);
  h.friday_close();
  // Oldest first, so recency alone would give the opposite order.
  h.headline("direct", "Nvidia Supplier Warns", "2025-01-27T08:00:00Z");
  h.headline("tagged", "Chip Stocks Slide Premarket", "2025-01-27T09:00:00Z", {"NVDA"});
  h.headline("theme", "DeepSeek Tops App Store", "2025-01-27T10:00:00Z");
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  const auto& cites = fired[0].headlines;
  ASSERT_EQ(cites.size(), 3u);
  EXPECT_EQ(cites[0].id, "direct");
  EXPECT_EQ(cites[0].how, link_kind::direct);
  EXPECT_EQ(cites[1].id, "tagged");
  EXPECT_EQ(cites[1].how, link_kind::feed_symbol);
  EXPECT_EQ(cites[2].id, "theme");
  EXPECT_EQ(cites[2].how, link_kind::theme);
  EXPECT_EQ(cites[2].theme, "deepseek");
}

TEST(news_linking, cites_at_most_max_citations_newest_first) {
  rules_config c = news_config();
  c.news.max_citations = 2;
  harness h(c);
  h.friday_close();
  h.headline("a", "Nvidia One", "2025-01-27T13:10:00Z");
  h.headline("b", "Nvidia Two", "2025-01-27T13:20:00Z");
  h.headline("c", "Nvidia Three", "2025-01-27T13:30:00Z");
  h.headline("d", "Nvidia Four", "2025-01-27T13:40:00Z");
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_EQ(fired[0].headlines.size(), 2u);
  EXPECT_EQ(fired[0].headlines[0].id, "d");
  EXPECT_EQ(fired[0].headlines[1].id, "c");
  EXPECT_THAT(fired[0].summary, HasSubstr("likely cause: Nvidia Four (+1 more)"));
}

TEST(news_linking, wording_is_honest_about_what_links_the_move) {
  rules_config c = news_config();
  c.news.lookback = 72 * k_ns_per_hour;
  harness h(c);
  for (const char* s : {"NVDA", "AMD", "AAPL"}) h.friday_close(s, 100);
  h.headline("theme", "DeepSeek Tops App Store", "2025-01-27T10:00:00Z");  // ai_semis theme
  h.headline("direct", "Advanced Micro Devices Cuts Guidance", "2025-01-27T11:00:00Z");
  auto nvda = h.trade("NVDA", 94.0, "2025-01-27T15:00:00Z");
  auto amd = h.trade("AMD", 94.0, "2025-01-27T15:00:00Z");
  auto aapl = h.trade("AAPL", 94.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(nvda.size(), 1u);
  ASSERT_EQ(amd.size(), 1u);
  ASSERT_EQ(aapl.size(), 1u);
  EXPECT_THAT(nvda[0].summary,
              HasSubstr("possible cause (deepseek theme): DeepSeek Tops App Store"));
  EXPECT_THAT(amd[0].summary, HasSubstr("likely cause: Advanced Micro Devices Cuts Guidance"));
  EXPECT_THAT(aapl[0].summary, HasSubstr("no linked headline yet"));
  for (const auto& a : h.all) {
    for (const char* word : {"manipulat", "insider", "suspicious", "fraud", "pump"}) {
      EXPECT_THAT(a.summary, testing::Not(HasSubstr(word))) << a.summary;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Every suppression counted by reason

TEST(stats, every_suppression_is_counted_by_reason) {
  rules_config c = config_with({make_rule("unexplained_move", rule_kind::unexplained_move, 5),
                                prev_close_rule(), window_rule()});
  c.storm = {2, 5 * k_ns_per_min};
  harness h(c);
  for (int i = 0; i < 4; ++i) h.friday_close(sym(i), 100);
  h.friday_close("AMD", 100);
  h.headline("amd", "Advanced Micro Devices Slides", "2025-01-27T13:00:00Z");
  h.trade("AMD", 100.0, "2025-01-27T14:30:00Z");
  h.trade("AMD", 94.0, "2025-01-27T14:31:00Z");  // explained; prev_close speaks, window dup
  h.trade("AMD", 93.5, "2025-01-27T14:32:00Z");  // frequency: already said at this level
  for (int i = 0; i < 4; ++i) h.trade(sym(i), 94.0, at("2025-01-27T14:40:00Z") + i * k_ns_per_s);
  h.flush();
  const engine_stats& s = h.eng.stats();
  EXPECT_GE(s.suppressed_explained, 1u);
  EXPECT_GE(s.suppressed_duplicate, 1u);
  EXPECT_GE(s.suppressed_frequency, 1u);
  EXPECT_GE(s.suppressed_storm, 1u);
  EXPECT_EQ(s.digests, 1u);
  expect_suppressions_add_up(s);
  // Everything that held was said or counted: alerts out plus suppressions cover every firing.
  EXPECT_EQ(s.alerts, firing(h.all).size());
  EXPECT_EQ(s.resolved, resolved(h.all).size());
}

}  // namespace
}  // namespace aftershock::rules
