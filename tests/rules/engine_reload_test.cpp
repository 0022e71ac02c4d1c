// engine::replace_rules, the SIGHUP reload's swap: the new rules apply from the next event on,
// while market state learned from the stream (previous closes, what has fired) survives for
// every rule whose name survives; a rule under a new name starts fresh.
#include <gtest/gtest.h>

#include "rules/engine.h"

namespace aftershock::rules {
namespace {

time_ns at(const char* s) { return *parse_rfc3339(s); }

rules_config config_with(double threshold_pct, const char* rule_name = "prev_close_move") {
  rules_config c;
  c.default_exchange = "XNAS";
  exchange_spec ex;
  ex.mic = "XNAS";
  ex.time_zone = "America/New_York";
  ex.tz_rule = "EST5EDT,M3.2.0,M11.1.0";
  ex.pre_market = {{4 * 60, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 16 * 60}};
  ex.after_hours = {{16 * 60, 20 * 60}};
  c.exchanges.push_back(ex);
  symbol_spec nvda;
  nvda.entity = {"NVDA", "Nvidia", {"Nvidia"}, {}, {}, {}};
  nvda.exchange = "XNAS";
  symbol_spec amd;
  amd.entity = {"AMD", "AMD", {"Advanced Micro Devices"}, {}, {}, {}};
  amd.exchange = "XNAS";
  c.universe = {nvda, amd};
  rule_spec prev;
  prev.name = rule_name;
  prev.kind = rule_kind::prev_close_move;
  prev.threshold_pct = threshold_pct;
  prev.confirm = 0;  // single prints decide here
  c.rules.push_back(prev);
  c.outlier_pct = 50;  // no bad-tick hold for these jumps
  return c;
}

std::shared_ptr<const compiled_rules> compile(const rules_config& c) {
  std::vector<config_problem> problems;
  auto compiled = compiled_rules::compile(c, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message;
  return compiled;
}

std::vector<alert> trade(engine& e, const char* symbol, double price, const char* when, int id) {
  std::vector<alert> out;
  e.process(rules::trade{symbol, price, 100, at(when), id}, out);
  return out;
}

std::vector<alert> firing(const std::vector<alert>& alerts) {
  std::vector<alert> out;
  for (const alert& a : alerts) {
    if (a.status == alert_status::firing) out.push_back(a);
  }
  return out;
}

// Friday's regular-session close at 100 for NVDA (and 50 for AMD).
void friday_close(engine& e) {
  trade(e, "NVDA", 100, "2025-01-24T20:55:00Z", 1);
  trade(e, "AMD", 50, "2025-01-24T20:56:00Z", 2);
}

TEST(engine_reload, new_thresholds_apply_and_the_learned_previous_close_survives) {
  engine e(compile(config_with(5)));
  friday_close(e);
  e.replace_rules(compile(config_with(8)));
  EXPECT_EQ(e.rules().config().rules[0].threshold_pct, 8);
  // -7%: would have fired at 5%, not at the reloaded 8%.
  EXPECT_TRUE(firing(trade(e, "NVDA", 93, "2025-01-27T14:35:00Z", 3)).empty());
  // -9% fires, measured against Friday's close learned before the reload.
  const auto alerts = firing(trade(e, "NVDA", 91, "2025-01-27T14:36:00Z", 4));
  ASSERT_EQ(alerts.size(), 1u);
  ASSERT_TRUE(alerts[0].base.has_value());
  EXPECT_DOUBLE_EQ(alerts[0].base->price, 100);
  EXPECT_EQ(alerts[0].rule, "prev_close_move");
  engine::price_view v;
  ASSERT_TRUE(e.price_of("AMD", v)) << "symbols without new prints keep their state too";
  EXPECT_DOUBLE_EQ(v.last, 50);
}

TEST(engine_reload, a_firing_condition_is_not_announced_again_after_a_reload) {
  engine e(compile(config_with(5)));
  friday_close(e);
  ASSERT_EQ(firing(trade(e, "NVDA", 94, "2025-01-27T14:35:00Z", 3)).size(), 1u);
  e.replace_rules(compile(config_with(5)));  // same rules, e.g. a reload after a comment edit
  EXPECT_TRUE(firing(trade(e, "NVDA", 93.8, "2025-01-27T14:36:00Z", 4)).empty())
      << "the rule's trigger state (firing) was carried over";
}

TEST(engine_reload, a_renamed_rule_starts_fresh) {
  engine e(compile(config_with(5)));
  friday_close(e);
  ASSERT_EQ(firing(trade(e, "NVDA", 94, "2025-01-27T14:35:00Z", 3)).size(), 1u);
  e.replace_rules(compile(config_with(5, "nvda_drop")));
  const auto alerts = firing(trade(e, "NVDA", 93.8, "2025-01-27T14:36:00Z", 4));
  ASSERT_EQ(alerts.size(), 1u) << "no state under the new name: it fires on its own";
  EXPECT_EQ(alerts[0].rule, "nvda_drop");
  ASSERT_TRUE(alerts[0].base.has_value());
  EXPECT_DOUBLE_EQ(alerts[0].base->price, 100) << "market state is per symbol, not per rule";
}

TEST(engine_reload, counters_continue_across_a_reload) {
  engine e(compile(config_with(5)));
  friday_close(e);
  const std::uint64_t before = e.stats().events;
  e.replace_rules(compile(config_with(6)));
  trade(e, "AMD", 50.5, "2025-01-27T14:35:00Z", 3);
  EXPECT_EQ(e.stats().events, before + 1);
}

}  // namespace
}  // namespace aftershock::rules
