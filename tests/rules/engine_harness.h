// Shared test support for the rules-engine tests: exchanges and a small AI universe built in
// code, a config mirroring the rules of deploy/config/aftershock.yaml, and a harness that feeds
// events to one engine and keeps every alert it said. Header-only; test code only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rules/engine.h"

namespace aftershock::rules::test_support {

inline time_ns at(const char* s) {
  auto t = parse_rfc3339(s);
  EXPECT_TRUE(t.has_value()) << s;
  return t.value_or(0);
}

inline exchange_spec us_exchange(const char* mic) {
  exchange_spec ex;
  ex.mic = mic;
  ex.time_zone = "America/New_York";
  ex.tz_rule = "EST5EDT,M3.2.0,M11.1.0";
  ex.pre_market = {{4 * 60, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 16 * 60}};
  ex.after_hours = {{16 * 60, 20 * 60}};
  return ex;
}

// Mainland China: 09:30-11:30 and 13:00-15:00 CST (01:30-03:30Z, 05:00-07:00Z).
inline exchange_spec china_exchange(const char* mic, std::vector<std::string> suffixes) {
  exchange_spec ex;
  ex.mic = mic;
  ex.time_zone = "Asia/Shanghai";
  ex.tz_rule = "CST-8";
  ex.suffixes = std::move(suffixes);
  ex.pre_market = {{9 * 60 + 15, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 11 * 60 + 30}, {13 * 60, 15 * 60}};
  return ex;
}

inline symbol_spec symbol(const char* ticker, const char* name, std::vector<std::string> aliases,
                          const char* exchange = "") {
  symbol_spec s;
  s.entity.symbol = ticker;
  s.entity.name = name;
  s.entity.aliases = std::move(aliases);
  s.exchange = exchange;
  return s;
}

// Exchanges, universe, baskets and themes; no rules. Bad-tick hold off (outlier_pct 50) so the
// per-rule tests can jump in one print; the bad-data tests turn it back on.
inline rules_config base_config() {
  rules_config c;
  c.default_exchange = "XNAS";
  c.exchanges = {us_exchange("XNAS"), us_exchange("XNYS"), china_exchange("XSHE", {".SZ"}),
                 china_exchange("XSHG", {".SS", ".SH"}), china_exchange("XBSE", {".BJ"})};
  c.universe = {
      symbol("NVDA", "Nvidia", {"Nvidia", "英伟达"}, "XNAS"),
      symbol("AMD", "AMD", {"Advanced Micro Devices"}, "XNAS"),
      symbol("AVGO", "Broadcom", {"Broadcom"}, "XNAS"),
      symbol("MU", "Micron", {"Micron Technology"}, "XNAS"),
      symbol("MRVL", "Marvell", {"Marvell"}, "XNAS"),
      symbol("TSM", "TSMC", {"TSMC"}, "XNYS"),
      symbol("AAPL", "Apple", {"Apple Inc"}, "XNAS"),
      symbol("300766.SZ", "Merit Interactive", {"每日互动"}),
      symbol("000977.SZ", "Inspur", {"浪潮信息"}),
      symbol("600519.SS", "Kweichow Moutai", {"贵州茅台"}),
      symbol("688256.SS", "Cambricon", {"寒武纪"}),
      symbol("830799.BJ", "Aerospace Intelligent", {"艾融软件"}),
  };
  c.baskets["ai_semis"] = {"NVDA", "AMD", "AVGO", "MU", "MRVL", "TSM"};
  c.baskets["china_ai"] = {"300766.SZ", "000977.SZ", "688256.SS"};
  c.themes.push_back({"deepseek", {"DeepSeek"}, {"ai_semis", "china_ai"}, {}});
  c.price_limits = {
      {"XSHE", {"300", "301"}, 20},  // ChiNext
      {"XSHG", {"688", "689"}, 20},  // STAR
      {"XSHE", {}, 10},              // main boards
      {"XSHG", {}, 10},
      {"XBSE", {}, 30},  // Beijing
  };
  c.outlier_pct = 50;
  return c;
}

// One rule that decides on single prints (confirmation has its own tests).
inline rule_spec make_rule(const char* name, rule_kind kind, double threshold_pct = 5) {
  rule_spec r;
  r.name = name;
  r.kind = kind;
  r.threshold_pct = threshold_pct;
  r.confirm = 0;
  return r;
}

inline rules_config config_with(std::vector<rule_spec> rules) {
  rules_config c = base_config();
  c.rules = std::move(rules);
  return c;
}

// The rules of deploy/config/aftershock.yaml, with its defaults (confirmation on, bad-tick hold
// at 5%, storm budget 20 per 5 minutes).
inline rules_config desk_config() {
  rules_config c = base_config();
  c.outlier_pct = 5;
  c.storm = {20, 5 * k_ns_per_min};
  rule_spec limit;
  limit.name = "price_limit";
  limit.kind = rule_kind::price_limit;
  rule_spec halt;
  halt.name = "trading_halt";
  halt.kind = rule_kind::trading_halt;
  rule_spec luld;
  luld.name = "luld";
  luld.kind = rule_kind::luld;
  rule_spec unexplained;
  unexplained.name = "unexplained_move";
  unexplained.kind = rule_kind::unexplained_move;
  unexplained.threshold_pct = 5;
  unexplained.cooldown = k_ns_per_hour;
  unexplained.cooldown_backoff = 3;
  rule_spec prev;
  prev.name = "prev_close_move";
  prev.kind = rule_kind::prev_close_move;
  prev.threshold_pct = 5;
  prev.escalation_pct = {10, 15, 20};
  prev.critical_pct = 10;
  prev.cooldown = k_ns_per_hour;
  prev.cooldown_backoff = 3;
  prev.rearm_margin_pct = 1;
  rule_spec fast;
  fast.name = "fast_move_15m";
  fast.kind = rule_kind::window_move;
  fast.window = 15 * k_ns_per_min;
  fast.cooldown = 2 * k_ns_per_hour;
  fast.threshold_pct = 4;
  fast.critical_pct = 8;
  rule_spec z;
  z.name = "zscore_15m";
  z.kind = rule_kind::zscore_move;
  z.window = 15 * k_ns_per_min;
  z.z_threshold = 6;
  z.threshold_pct = 2;
  z.min_history = 60;
  z.cooldown = 2 * k_ns_per_hour;
  rule_spec gap;
  gap.name = "opening_gap";
  gap.kind = rule_kind::opening_gap;
  gap.threshold_pct = 5;
  gap.sessions = {session_kind::regular};
  rule_spec breadth;
  breadth.name = "basket_breadth";
  breadth.kind = rule_kind::basket_breadth;
  breadth.threshold_pct = 3;
  breadth.min_members = 3;
  rule_spec volume;
  volume.name = "volume_spike";
  volume.kind = rule_kind::volume_spike;
  volume.volume_factor = 3;
  volume.bucket = 30 * k_ns_per_min;
  volume.min_days = 3;
  c.rules = {limit, halt, luld, unexplained, prev, fast, z, gap, breadth, volume};
  return c;
}

inline std::shared_ptr<const compiled_rules> compile(const rules_config& c) {
  std::vector<config_problem> problems;
  auto compiled = compiled_rules::compile(c, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message;
  return compiled;
}

// One engine and everything it said.
struct harness {
  explicit harness(const rules_config& c) : eng(compile(c)) {}
  explicit harness(std::shared_ptr<const compiled_rules> rules) : eng(std::move(rules)) {}

  std::vector<alert> feed(const event& e) {
    std::vector<alert> out;
    eng.process(e, out);
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }
  std::vector<alert> trade(const std::string& sym, double price, time_ns t, std::int64_t id = 0,
                           double size = 100) {
    return feed(rules::trade{sym, price, size, t, id});
  }
  std::vector<alert> trade(const std::string& sym, double price, const char* when,
                           std::int64_t id = 0, double size = 100) {
    return trade(sym, price, at(when), id, size);
  }
  std::vector<alert> headline(const char* id, const char* text, const char* when,
                              std::vector<std::string> tagged = {}) {
    news n;
    n.id = id;
    n.headline = text;
    n.source = "test";
    n.time = at(when);
    n.symbols = std::move(tagged);
    return feed(n);
  }
  std::vector<alert> status(const char* sym, const char* code, const char* message,
                            const char* when, const char* reason = "T1") {
    trading_status s;
    s.symbol = sym;
    s.status_code = code;
    s.status_message = message;
    s.reason_code = reason;
    s.time = at(when);
    return feed(s);
  }
  std::vector<alert> flush() {
    std::vector<alert> out;
    eng.flush(out);
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }
  // A US regular close on Friday 2025-01-24 (close at 15:59:59 EST = 20:59:59Z).
  void friday_close(const std::string& sym = "NVDA", double close = 100.0) {
    trade(sym, close, "2025-01-24T20:30:00Z");
    trade(sym, close, "2025-01-24T20:59:59Z");
  }
  // A China close on Friday 2025-01-24 (15:00 CST = 07:00Z).
  void china_friday_close(const std::string& sym, double close) {
    trade(sym, close, "2025-01-24T06:30:00Z");
    trade(sym, close, "2025-01-24T06:59:00Z");
  }

  engine eng;
  std::vector<alert> all;
};

inline std::vector<alert> firing(const std::vector<alert>& alerts) {
  std::vector<alert> out;
  for (const auto& a : alerts) {
    if (a.status == alert_status::firing) out.push_back(a);
  }
  return out;
}
inline std::vector<alert> resolved(const std::vector<alert>& alerts) {
  std::vector<alert> out;
  for (const auto& a : alerts) {
    if (a.status == alert_status::resolved) out.push_back(a);
  }
  return out;
}

inline std::string json_lines(const std::vector<alert>& alerts) {
  std::string out;
  for (const auto& a : alerts) out += to_json(a) + "\n";
  return out;
}

// Every suppression has exactly one reason.
inline void expect_suppressions_add_up(const engine_stats& s) {
  EXPECT_EQ(s.suppressed, s.suppressed_cooldown + s.suppressed_frequency + s.suppressed_duplicate +
                              s.suppressed_explained + s.suppressed_storm);
}

}  // namespace aftershock::rules::test_support
