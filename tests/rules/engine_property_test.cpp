// Property tests for the rules engine under the deployed rules (deploy/config/aftershock.yaml):
// seeded random inputs, a few hundred cases each, checking what must hold for all of them.
// Constant prices never alert; a random walk with steps below every threshold never alerts,
// not even with one lone bad tick inserted anywhere; any sequence replays to the same bytes;
// and a resolve only ever ends a firing that was said.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine_harness.h"

namespace aftershock::rules {
namespace {

using namespace test_support;

const std::shared_ptr<const compiled_rules>& desk_rules() {
  static const auto rules = compile(desk_config());
  return rules;
}

const std::vector<std::string> k_symbols = {"NVDA", "AMD", "AVGO", "MU", "MRVL", "XYZ"};

std::string describe(const std::vector<alert>& alerts) {
  return alerts.empty() ? std::string() : to_json(alerts.front());
}

// Picks 1-3 distinct symbols.
std::vector<std::string> pick_symbols(std::mt19937& rng) {
  std::vector<std::string> all = k_symbols;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::uniform_int_distribution<std::size_t>(1, 3)(rng));
  return all;
}

TEST(engine_property, constant_prices_never_alert) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    harness h(desk_rules());
    const auto symbols = pick_symbols(rng);
    std::vector<double> price(symbols.size());
    for (auto& p : price) p = std::uniform_real_distribution<double>(0.5, 2000)(rng);
    // From a random instant on Friday, a fixed cadence of 30 s to 15 min across sessions,
    // nights and the weekend.
    time_ns t = at("2025-01-24T00:00:00Z") +
                std::uniform_int_distribution<time_ns>(0, 24 * 3600)(rng) * k_ns_per_s;
    const time_ns step = std::uniform_int_distribution<time_ns>(30, 900)(rng) * k_ns_per_s;
    const int prints = std::uniform_int_distribution<int>(100, 300)(rng);
    std::int64_t id = 1;
    for (int i = 0; i < prints; ++i, t += step) {
      for (std::size_t s = 0; s < symbols.size(); ++s) h.trade(symbols[s], price[s], t, id++, 100);
    }
    h.flush();
    ASSERT_TRUE(h.all.empty()) << describe(h.all);
    expect_suppressions_add_up(h.eng.stats());
  }
}

// A walk around `start` with steps of at most 0.05% per print, kept within ±1.4% of the start:
// no two prices differ by 3% (breadth), no 15 minutes move 2% (z-score) or 4% (fast move),
// and no price is 5% from any close (previous close, gap, unexplained).
struct walk {
  double start, price;
  double next(std::mt19937& rng) {
    price *= 1.0 + std::uniform_real_distribution<double>(-0.0005, 0.0005)(rng);
    price = std::clamp(price, start * 0.986, start * 1.014);
    return price;
  }
};

struct print_plan {
  std::string symbol;
  double price;
  time_ns time;
};

// Friday 19:00Z to the close, then Monday from pre-market on, every 20-90 s.
std::vector<print_plan> random_walk_day(std::mt19937& rng) {
  const auto symbols = pick_symbols(rng);
  std::vector<walk> walks;
  for (std::size_t s = 0; s < symbols.size(); ++s) {
    const double p = std::uniform_real_distribution<double>(5, 1000)(rng);
    walks.push_back({p, p});
  }
  const time_ns step = std::uniform_int_distribution<time_ns>(20, 90)(rng) * k_ns_per_s;
  std::vector<print_plan> plan;
  auto run = [&](time_ns from, time_ns to) {
    for (time_ns t = from; t < to; t += step) {
      for (std::size_t s = 0; s < symbols.size(); ++s)
        plan.push_back({symbols[s], walks[s].next(rng), t});
    }
  };
  run(at("2025-01-24T20:00:00Z"), at("2025-01-24T21:00:00Z"));
  const time_ns monday = at("2025-01-27T13:00:00Z") +
                         std::uniform_int_distribution<time_ns>(0, 120)(rng) * k_ns_per_min;
  run(monday, monday + std::uniform_int_distribution<time_ns>(60, 240)(rng) * k_ns_per_min);
  return plan;
}

std::vector<alert> replay(const std::vector<print_plan>& plan) {
  harness h(desk_rules());
  std::int64_t id = 1;
  for (const auto& p : plan) h.trade(p.symbol, p.price, p.time, id++, 100);
  h.flush();
  expect_suppressions_add_up(h.eng.stats());
  return h.all;
}

TEST(engine_property, a_random_walk_below_every_threshold_never_alerts) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    const auto alerts = replay(random_walk_day(rng));
    ASSERT_TRUE(alerts.empty()) << describe(alerts);
  }
}

// The bad tick: a print at 1% of the price, +12%, -12%, or anywhere from 6% to 200% away
// (all beyond the 5% outlier hold), at a random place, once.
double bad_factor(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
    case 0:
      return 0.01;
    case 1:
      return 1.12;
    case 2:
      return 0.88;
    case 3:
      return std::uniform_real_distribution<double>(1.06, 3.0)(rng);
    default:
      return std::uniform_real_distribution<double>(0.05, 0.94)(rng);
  }
}

TEST(engine_property, a_random_walk_with_one_lone_bad_tick_never_alerts) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    auto plan = random_walk_day(rng);
    const std::size_t at_index =
        std::uniform_int_distribution<std::size_t>(1, plan.size() - 1)(rng);
    print_plan bad = plan[at_index];
    const double factor = bad_factor(rng);
    bad.price *= factor;
    plan.insert(plan.begin() + static_cast<std::ptrdiff_t>(at_index), bad);
    SCOPED_TRACE("bad tick x" + std::to_string(factor) + " on " + bad.symbol + " at " +
                 format_rfc3339_s(bad.time));
    const auto alerts = replay(plan);
    ASSERT_TRUE(alerts.empty()) << describe(alerts);
  }
}

// Random days with real moves, headlines, halts, bands, corrections, cancels, duplicates and
// late prints: whatever the engine says, it says the same bytes twice, and a resolve always
// ends a firing it said before.
std::vector<event> random_day(std::mt19937& rng) {
  std::vector<event> events;
  const std::vector<std::string> headlines = {"Nvidia Slides As DeepSeek Raises Doubts",
                                              "Advanced Micro Devices Beats Estimates",
                                              "Broadcom Wins AI Order",
                                              "DeepSeek Tops App Store",
                                              "Chip Stocks Slide Premarket",
                                              "Micron Technology Warns On Memory Prices",
                                              "Marvell Cuts Guidance",
                                              "Apple Inc Unveils New Chips"};
  std::vector<double> price(k_symbols.size());
  for (auto& p : price) p = std::uniform_real_distribution<double>(10, 500)(rng);
  std::vector<std::int64_t> last_id(k_symbols.size(), 0);
  std::int64_t next_id = 1;
  time_ns t = at("2025-01-24T19:00:00Z");
  const int steps = std::uniform_int_distribution<int>(200, 500)(rng);
  std::uniform_int_distribution<int> what(0, 99);
  for (int i = 0; i < steps; ++i) {
    t += std::uniform_int_distribution<time_ns>(1, 240)(rng) * k_ns_per_s;
    if (i == steps / 3) t = at("2025-01-27T13:30:00Z");  // over the weekend
    const std::size_t s = std::uniform_int_distribution<std::size_t>(0, k_symbols.size() - 1)(rng);
    const std::string& sym = k_symbols[s];
    const int w = what(rng);
    if (w < 70) {
      // Mostly small steps, sometimes a jump of up to 15% either way.
      const double move = w < 60 ? std::uniform_real_distribution<double>(-0.01, 0.01)(rng)
                                 : std::uniform_real_distribution<double>(-0.15, 0.15)(rng);
      price[s] *= 1.0 + move;
      last_id[s] = next_id++;
      events.push_back(trade{sym, price[s], std::uniform_real_distribution<double>(1, 5000)(rng), t,
                             last_id[s]});
    } else if (w < 78) {
      news n;
      n.id = "n" + std::to_string(std::uniform_int_distribution<int>(0, 40)(rng));
      n.headline =
          headlines[std::uniform_int_distribution<std::size_t>(0, headlines.size() - 1)(rng)];
      if (w < 72) n.symbols = {sym};
      n.time = t;
      events.push_back(n);
    } else if (w < 82) {
      trading_status st;
      st.symbol = sym;
      st.status_code = w < 80 ? "H" : "T";
      st.status_message = w < 80 ? "Trading Halt" : "Trading Resumption";
      st.reason_code = "LUDP";
      st.time = t;
      events.push_back(st);
    } else if (w < 86) {
      events.push_back(luld_band{sym, price[s] * 1.05, price[s] * 0.95, "A", t});
    } else if (w < 89 && last_id[s]) {
      trade_correction c;
      c.symbol = sym;
      c.original_id = last_id[s];
      c.corrected_id = next_id++;
      c.corrected_price = price[s] * 1.001;
      c.time = t;
      events.push_back(c);
    } else if (w < 92 && last_id[s]) {
      trade_cancel x;
      x.symbol = sym;
      x.id = last_id[s];
      x.time = t;
      events.push_back(x);
    } else if (w < 95 && last_id[s]) {
      events.push_back(trade{sym, price[s], 100, t, last_id[s]});  // a duplicate
    } else if (w < 98) {
      events.push_back(trade{sym, price[s] * 0.8, 100, t - 10 * k_ns_per_min, 0});  // late
    } else {
      bar b;
      b.symbol = sym;
      b.kind = bar_kind::minute;
      b.open = b.high = b.low = b.close = price[s];
      b.volume = 1000;
      b.start = t - k_ns_per_min;
      b.end = t;
      events.push_back(b);
    }
  }
  return events;
}

struct replay_result {
  std::string json;
  std::vector<alert> alerts;
};

replay_result run_events(const std::vector<event>& events) {
  harness h(desk_rules());
  for (const auto& e : events) h.feed(e);
  h.flush();
  expect_suppressions_add_up(h.eng.stats());
  EXPECT_EQ(h.eng.stats().alerts, firing(h.all).size());
  EXPECT_EQ(h.eng.stats().resolved, resolved(h.all).size());
  return {json_lines(h.all), h.all};
}

TEST(engine_property, any_sequence_replays_to_identical_bytes) {
  std::size_t total_alerts = 0;
  std::set<std::string> kinds;
  for (unsigned seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    const auto events = random_day(rng);
    const auto first = run_events(events);
    const auto second = run_events(events);
    ASSERT_EQ(first.json, second.json);
    total_alerts += first.alerts.size();
    for (const auto& a : first.alerts) kinds.insert(a.kind);
  }
  // The inputs are rich enough to make the engine talk.
  EXPECT_GT(total_alerts, 40u);
  EXPECT_GE(kinds.size(), 5u);
}

// With more than 64 rules the engine walks its price rules one by one rather than by bit mask
// (rules past the 64th have no bit): rules that never hold, added after the desk's, change
// none of the desk's alerts.
TEST(engine_property, more_than_64_rules_alert_as_the_desk_rules_alone) {
  rules_config many = desk_config();
  const rule_kind kinds[] = {rule_kind::prev_close_move, rule_kind::window_move,
                             rule_kind::zscore_move, rule_kind::unexplained_move};
  for (int i = 0; i < 60; ++i) {
    const std::string name = "never_" + std::to_string(i);
    many.rules.push_back(make_rule(name.c_str(), kinds[i % 4], 1000));
  }
  ASSERT_GT(many.rules.size(), 64u);
  const auto many_rules = compile(many);
  ASSERT_TRUE(many_rules);
  std::size_t total_alerts = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    const auto events = random_day(rng);
    harness desk(desk_rules());
    harness crowded(many_rules);
    for (const auto& e : events) {
      desk.feed(e);
      crowded.feed(e);
    }
    desk.flush();
    crowded.flush();
    ASSERT_EQ(json_lines(desk.all), json_lines(crowded.all));
    total_alerts += desk.all.size();
  }
  EXPECT_GT(total_alerts, 20u);
}

TEST(engine_property, a_resolve_only_ends_a_firing_that_was_said) {
  for (unsigned seed = 1001; seed <= 1070; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    const auto result = run_events(random_day(rng));
    std::set<std::string> open;  // fingerprints said firing and not yet resolved
    for (const auto& a : result.alerts) {
      if (a.status == alert_status::firing) {
        open.insert(a.fingerprint);
      } else {
        ASSERT_TRUE(open.erase(a.fingerprint)) << "lone resolve: " << to_json(a);
      }
    }
  }
}

}  // namespace
}  // namespace aftershock::rules
