#include "rules/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aftershock::rules {
namespace {

time_ns at(const char* s) { return *parse_rfc3339(s); }

exchange_spec us_exchange(const char* mic) {
  exchange_spec ex;
  ex.mic = mic;
  ex.time_zone = "America/New_York";
  ex.tz_rule = "EST5EDT,M3.2.0,M11.1.0";
  ex.pre_market = {{4 * 60, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 16 * 60}};
  ex.after_hours = {{16 * 60, 20 * 60}};
  return ex;
}

rules_config test_config() {
  rules_config c;
  c.default_exchange = "XNAS";
  c.exchanges.push_back(us_exchange("XNAS"));
  exchange_spec sz;
  sz.mic = "XSHE";
  sz.time_zone = "Asia/Shanghai";
  sz.tz_rule = "CST-8";
  sz.suffixes = {".SZ"};
  sz.regular = {{9 * 60 + 30, 11 * 60 + 30}, {13 * 60, 15 * 60}};
  c.exchanges.push_back(sz);
  symbol_spec nvda;
  nvda.entity = {"NVDA", "Nvidia", {"Nvidia", "英伟达"}, {}, {}, {}};
  nvda.exchange = "XNAS";
  symbol_spec arm;
  arm.entity = {"ARM", "Arm Holdings", {"Arm Holdings"}, {"Arm"}, {}, {}};
  symbol_spec sz_stock;
  sz_stock.entity = {"300766.SZ", "Merit Interactive", {"每日互动"}, {}, {}, {}};
  symbol_spec aapl;
  aapl.entity = {"AAPL", "Apple", {"Apple Inc"}, {}, {}, {}};
  c.universe = {nvda, arm, sz_stock, aapl};
  c.baskets["ai_semis"] = {"NVDA", "ARM"};
  c.baskets["china_ai"] = {"300766.SZ"};
  c.themes.push_back({"deepseek", {"DeepSeek"}, {"ai_semis", "china_ai"}, {}});
  rule_spec prev;
  prev.name = "prev_close_move";
  prev.kind = rule_kind::prev_close_move;
  prev.threshold_pct = 5;
  prev.escalation_pct = {10, 15};
  prev.critical_pct = 10;
  prev.confirm = 0;  // these tests look at single prints; confirmation has its own tests
  c.rules.push_back(prev);
  c.outlier_pct = 50;  // these tests jump in one print; the bad-tick hold has its own tests
  return c;
}

std::shared_ptr<const compiled_rules> compile(const rules_config& c) {
  std::vector<config_problem> problems;
  auto compiled = compiled_rules::compile(c, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message;
  return compiled;
}

struct harness {
  explicit harness(const rules_config& c = test_config()) : eng(compile(c)) {}
  std::vector<alert> trade(const char* symbol, double price, const char* when) {
    std::vector<alert> out;
    eng.process(rules::trade{symbol, price, 100, at(when), 0}, out);
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }
  void headline(const char* id, const char* text, const char* when,
                std::vector<std::string> symbols = {}) {
    news n;
    n.id = id;
    n.headline = text;
    n.time = at(when);
    n.symbols = std::move(symbols);
    std::vector<alert> out;
    eng.process(n, out);
  }
  // Friday close at `close` for NVDA.
  void friday_close(const char* symbol = "NVDA", double close = 100.0) {
    trade(symbol, close * 1.01, "2025-01-24T20:30:00Z");
    trade(symbol, close, "2025-01-24T20:59:59Z");
  }
  engine eng;
  std::vector<alert> all;
};

TEST(engine, learns_previous_close_from_the_stream_and_fires_once_per_level) {
  harness h;
  h.friday_close();
  // After-hours prints do not change the regular close.
  EXPECT_TRUE(h.trade("NVDA", 90.0, "2025-01-24T22:00:00Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 97.0, "2025-01-27T09:00:00Z").empty());  // -3%: under threshold
  auto fired = h.trade("NVDA", 94.0, "2025-01-27T09:30:00Z");          // -6%
  ASSERT_EQ(fired.size(), 1u);
  const alert& a = fired[0];
  EXPECT_EQ(a.symbol, "NVDA");
  EXPECT_EQ(a.kind, "move");
  EXPECT_EQ(a.direction, "down");
  EXPECT_NEAR(*a.change_pct, -6.0, 1e-9);
  ASSERT_TRUE(a.base);
  EXPECT_EQ(a.base->kind, "prev_close");
  EXPECT_DOUBLE_EQ(a.base->price, 100.0);
  EXPECT_THAT(a.base->description, testing::HasSubstr("2025-01-24"));
  EXPECT_EQ(a.level, severity::warning);
  EXPECT_EQ(a.event_time, at("2025-01-27T09:30:00Z"));
  EXPECT_THAT(a.summary, testing::HasSubstr("no linked headline yet"));
  // Same level again: suppressed, not repeated.
  EXPECT_TRUE(h.trade("NVDA", 93.0, "2025-01-27T09:31:00Z").empty());
  EXPECT_EQ(h.eng.stats().suppressed, 1u);
  // Escalation to -10% fires again, critical.
  auto escalated = h.trade("NVDA", 89.0, "2025-01-27T11:00:00Z");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0].level, severity::critical);
  EXPECT_DOUBLE_EQ(escalated[0].threshold_pct, 10);
  EXPECT_EQ(escalated[0].fingerprint, a.fingerprint);  // same condition, escalated
  EXPECT_NE(escalated[0].id, a.id);
}

TEST(engine, no_previous_close_no_alert) {
  harness h;
  EXPECT_TRUE(h.trade("NVDA", 100.0, "2025-01-27T14:30:00Z").empty());
  EXPECT_TRUE(h.trade("NVDA", 50.0, "2025-01-27T14:31:00Z").empty());
}

TEST(engine, constant_prices_never_alert) {
  harness h;
  time_ns t = at("2025-01-20T09:00:00Z");
  for (int i = 0; i < 20000; ++i, t += 37 * k_ns_per_s) {
    std::vector<alert> out;
    h.eng.process(trade{"NVDA", 123.45, 10, t, i}, out);
    EXPECT_TRUE(out.empty());
  }
}

TEST(engine, symbols_outside_the_universe_still_get_price_rules) {
  harness h;
  h.friday_close("XYZ", 10.0);
  auto fired = h.trade("XYZ", 11.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].direction, "up");
  EXPECT_TRUE(fired[0].name.empty());
  EXPECT_EQ(fired[0].exchange, "XNAS");
}

TEST(engine, previous_close_follows_each_exchange_calendar) {
  harness h;
  // Shenzhen closes 15:00 CST = 07:00Z.
  h.trade("300766.SZ", 31.5, "2025-01-24T06:59:00Z");
  EXPECT_TRUE(h.trade("300766.SZ", 31.0, "2025-01-24T08:00:00Z").empty());  // after the close
  auto fired = h.trade("300766.SZ", 33.5, "2025-01-27T01:35:00Z");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_DOUBLE_EQ(fired[0].base->price, 31.5);
  EXPECT_EQ(fired[0].exchange, "XSHE");
  EXPECT_EQ(fired[0].utc_offset_s, 8 * 3600);
}

TEST(engine, out_of_order_prints_are_counted_and_ignored) {
  harness h;
  h.friday_close();
  h.trade("NVDA", 99.0, "2025-01-27T10:00:00Z");
  EXPECT_TRUE(h.trade("NVDA", 50.0, "2025-01-27T09:00:00Z").empty());
  EXPECT_EQ(h.eng.stats().out_of_order, 1u);
}

TEST(engine, cites_direct_mentions_before_theme_links_and_never_look_alikes) {
  harness h;
  h.friday_close();
  h.headline("theme-old", "DeepSeek Tops App Store", "2025-01-26T14:00:00Z");
  h.headline("direct", "Nvidia Slides As DeepSeek Raises Doubts", "2025-01-27T08:00:00Z");
  h.headline("trap", "Deep-Sea Explorers Seek New Funding", "2025-01-27T08:10:00Z");
  h.headline("arm-trap", "Star Pitcher's Arm Injury Sidelines Him", "2025-01-27T08:20:00Z");
  h.headline("too-old", "DeepSeek Releases V3", "2025-01-20T14:00:00Z");
  h.headline("later", "Nvidia Extends Losses", "2025-01-27T12:00:00Z");
  auto fired = h.trade("NVDA", 90.0, "2025-01-27T09:30:00Z");
  ASSERT_EQ(fired.size(), 1u);
  const auto& cites = fired[0].headlines;
  ASSERT_EQ(cites.size(), 2u);
  EXPECT_EQ(cites[0].id, "direct");
  EXPECT_EQ(cites[0].how, link_kind::direct);
  EXPECT_EQ(cites[0].matched, "Nvidia");
  EXPECT_EQ(cites[0].position, 0u);
  EXPECT_EQ(cites[1].id, "theme-old");
  EXPECT_EQ(cites[1].how, link_kind::theme);
  EXPECT_EQ(cites[1].theme, "deepseek");
  EXPECT_THAT(fired[0].summary, testing::HasSubstr("likely cause: Nvidia Slides"));
  EXPECT_THAT(fired[0].summary, testing::HasSubstr("(+1 more)"));
}

TEST(engine, theme_links_only_reach_symbols_in_the_theme_baskets) {
  harness h;
  h.friday_close("AAPL", 200.0);
  h.headline("theme", "DeepSeek Tops App Store", "2025-01-27T08:00:00Z");
  auto fired = h.trade("AAPL", 180.0, "2025-01-27T15:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].headlines.empty());
}

TEST(engine, feed_tags_link_and_rank_after_direct_mentions) {
  harness h;
  h.friday_close();
  h.headline("tagged", "Chip Stocks Slide Premarket", "2025-01-27T08:30:00Z", {"NVDA"});
  h.headline("named", "Nvidia Falls", "2025-01-27T08:00:00Z");
  auto fired = h.trade("NVDA", 90.0, "2025-01-27T09:30:00Z");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_EQ(fired[0].headlines.size(), 2u);
  EXPECT_EQ(fired[0].headlines[0].id, "named");
  EXPECT_EQ(fired[0].headlines[1].id, "tagged");
  EXPECT_EQ(fired[0].headlines[1].how, link_kind::feed_symbol);
}

TEST(engine, duplicate_headlines_are_stored_once) {
  harness h;
  h.headline("1", "Nvidia Falls", "2025-01-27T08:00:00Z");
  h.headline("1", "Nvidia Falls", "2025-01-27T08:00:00Z");
  EXPECT_EQ(h.eng.headline_stats().headlines, 1u);
  EXPECT_EQ(h.eng.headline_stats().duplicates, 1u);
}

TEST(engine, window_move_fires_on_fast_moves_only) {
  rules_config c = test_config();
  rule_spec w;
  w.name = "fast";
  w.kind = rule_kind::window_move;
  w.threshold_pct = 3;
  w.window = 15 * k_ns_per_min;
  w.confirm = 0;
  c.rules = {w};
  harness h(c);
  // A slow drift of 10% over five hours never moves 3% within 15 minutes.
  time_ns t = at("2025-01-27T14:30:00Z");
  double p = 100;
  for (int i = 0; i < 300; ++i, t += k_ns_per_min) {
    p *= 0.99965;
    std::vector<alert> out;
    h.eng.process(trade{"NVDA", p, 1, t, 0}, out);
    EXPECT_TRUE(out.empty()) << i;
  }
  // Then 4% in five minutes.
  std::vector<alert> out;
  for (int i = 0; i < 5; ++i, t += k_ns_per_min) {
    p *= 1.008;
    h.eng.process(trade{"NVDA", p, 1, t, 0}, out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, "fast_move");
  EXPECT_EQ(out[0].direction, "up");
  EXPECT_EQ(out[0].base->kind, "window_low");
  EXPECT_EQ(out[0].window, 15 * k_ns_per_min);
  EXPECT_GE(*out[0].change_pct, 3.0);
}

TEST(engine, same_input_gives_byte_identical_alerts) {
  auto run = [] {
    harness h;
    h.friday_close();
    h.headline("d", "DeepSeek Shock", "2025-01-27T08:00:00Z");
    h.trade("NVDA", 94.0, "2025-01-27T09:30:00Z");
    h.trade("NVDA", 84.0, "2025-01-27T15:30:00Z");
    std::string out;
    for (const auto& a : h.all) out += to_json(a) + "\n";
    return out;
  };
  const std::string first = run();
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, run());
}

TEST(engine, reload_keeps_market_state) {
  harness h;
  h.friday_close();
  ASSERT_EQ(h.trade("NVDA", 94.0, "2025-01-27T09:30:00Z").size(), 1u);
  h.eng.replace_rules(compile(test_config()));
  // The -5% level already fired before the reload: not again.
  EXPECT_TRUE(h.trade("NVDA", 93.0, "2025-01-27T09:31:00Z").empty());
  EXPECT_EQ(h.trade("NVDA", 89.0, "2025-01-27T09:32:00Z").size(), 1u);
}

TEST(compiled_rules, reports_semantic_problems_by_path) {
  rules_config c = test_config();
  c.baskets["bad"] = {"NOPE"};
  c.themes.push_back({"t", {"x"}, {"missing"}, {}});
  c.rules[0].threshold_pct = 0;
  c.exchanges[0].tz_rule = "garbage";
  std::vector<config_problem> problems;
  EXPECT_EQ(compiled_rules::compile(c, problems), nullptr);
  std::vector<std::string> paths;
  for (const auto& p : problems) paths.push_back(p.path);
  EXPECT_THAT(paths, testing::IsSupersetOf({"baskets.bad[0]", "themes[1].baskets[0]",
                                            "rules[0].threshold_pct", "exchanges[0].tz_rule"}));
}

}  // namespace
}  // namespace aftershock::rules
