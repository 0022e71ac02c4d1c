// The two-stage engine (engine_stage::shard + ::arbiter) must say exactly what one whole engine
// says: the same alerts, byte for byte, whatever the number of shards. Storm budgets, held
// escalations, resolves, follow-ups on late headlines and basket breadth are where the stages
// couple, so the random days below are built to hit all of them, and the real captures
// (the DeepSeek day and every scenario) are replayed too.
// Also here: engine::prefetch() hints never change what the engine says (EnginePrefetch).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "daemon/config_loader.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "tests/rules/engine_harness.h"

namespace aftershock::rules {
namespace {

using test_support::at;

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// In-process stand-in for the cluster's routing: each market event to the shard of its
// symbol, each headline to every shard (consecutive stream positions), the shards' output to
// the arbiter in stream order. Like the cluster, the arbiter hears only positions where a shard
// said something or handed over a headline, plus a progress position now and then.
class two_stage {
 public:
  two_stage(std::shared_ptr<const compiled_rules> rules, std::size_t shards,
            std::uint32_t progress_every)
      : arbiter_(rules, engine_stage::arbiter), progress_every_(progress_every) {
    for (std::size_t i = 0; i < shards; ++i) {
      shards_.push_back(std::make_unique<engine>(rules, engine_stage::shard));
    }
  }

  void feed(const event& e) {
    watermark_ = std::max(watermark_, event_time(e));
    if (const auto* n = std::get_if<news>(&e)) {
      for (auto& shard : shards_) position(*shard, e, n);
      return;
    }
    const std::size_t i = fnv1a64(event_symbol(e)) % shards_.size();
    position(*shards_[i], e, nullptr);
  }

  void finish() {
    arbiter_.arbitrate(watermark_, nullptr, {}, alerts);
    arbiter_.flush(alerts);
  }

  std::vector<alert> alerts;

 private:
  void position(engine& shard, const event& e, const news* headline) {
    out_.clear();
    shard.process_shard(e, out_);
    if (!out_.empty() || headline || (progress_every_ && ++since_progress_ >= progress_every_)) {
      since_progress_ = 0;
      arbiter_.arbitrate(watermark_, headline, out_, alerts);
    }
  }

  std::vector<std::unique_ptr<engine>> shards_;
  engine arbiter_;
  stage_output out_;
  time_ns watermark_ = 0;
  std::uint32_t progress_every_;
  std::uint32_t since_progress_ = 0;
};

std::vector<std::string> sorted_json(const std::vector<alert>& alerts) {
  std::vector<std::string> lines;
  for (const auto& a : alerts) lines.push_back(to_json(a));
  std::sort(lines.begin(), lines.end());
  return lines;
}

struct counts {
  std::size_t firing = 0, resolved = 0, follow_ups = 0, digests = 0, baskets = 0;
};
counts count(const std::vector<alert>& alerts) {
  counts c;
  for (const auto& a : alerts) {
    if (a.kind == "digest") ++c.digests;
    else if (!a.follow_up_of.empty()) ++c.follow_ups;
    else if (a.status == alert_status::resolved) ++c.resolved;
    else ++c.firing;
    if (a.kind == "basket_move") ++c.baskets;
  }
  return c;
}

// Runs `events` through a whole engine and through 1..7 shards; expects the same alerts.
counts expect_same_alerts(const std::shared_ptr<const compiled_rules>& rules,
                          const std::vector<event>& events, const std::string& what) {
  engine whole(rules);
  std::vector<alert> expected;
  for (const event& e : events) whole.process(e, expected);
  whole.flush(expected);
  const std::vector<std::string> want = sorted_json(expected);
  for (std::size_t shards : {1u, 2u, 3u, 7u}) {
    for (std::uint32_t progress : {0u, 5u}) {
      two_stage staged(rules, shards, progress);
      for (const event& e : events) staged.feed(e);
      staged.finish();
      const std::vector<std::string> got = sorted_json(staged.alerts);
      EXPECT_EQ(got.size(), want.size()) << what << ", " << shards << " shards";
      std::vector<std::string> missing, extra;
      std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                          std::back_inserter(missing));
      std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                          std::back_inserter(extra));
      EXPECT_TRUE(missing.empty() && extra.empty())
          << what << ", " << shards << " shards, progress every " << progress << ": "
          << missing.size() << " missing, " << extra.size() << " extra\nfirst missing: "
          << (missing.empty() ? "-" : missing.front())
          << "\nfirst extra: " << (extra.empty() ? "-" : extra.front());
    }
  }
  return count(expected);
}

// A random two-day market for the test universe: Friday's close, then a Monday with drifts,
// jumps (some beyond the escalation levels), reversals, halts, and headlines that name
// symbols, tag them, or only name a theme, some stamped before the prints they explain
// (late headlines).
std::vector<event> random_days(std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> us = {"NVDA", "AMD", "AVGO", "MU", "MRVL", "TSM", "AAPL"};
  const std::vector<std::string> cn = {"300766.SZ", "000977.SZ", "688256.SS"};
  const std::vector<std::string> names = {"Nvidia",  "Advanced Micro Devices", "Broadcom",
                                          "Micron Technology", "Marvell", "TSMC", "Apple Inc"};
  std::vector<event> events;
  std::int64_t id = 1;
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  // Friday closes.
  std::map<std::string, double> price;
  for (const auto& s : us) {
    price[s] = uniform(50, 500);
    events.push_back(trade{s, price[s], 100, at("2025-01-24T20:59:00Z"), id++});
  }
  for (const auto& s : cn) {
    price[s] = uniform(10, 100);
    events.push_back(trade{s, price[s], 100, at("2025-01-24T06:59:00Z"), id++});
  }
  // Monday: China from 01:30Z, the US from 14:30Z; a print every few seconds per market.
  std::vector<event> monday;
  std::map<std::string, bool> halted;
  auto walk = [&](const std::vector<std::string>& syms, time_ns from, time_ns to,
                  double limit_pct) {
    std::map<std::string, double> base = price;
    for (time_ns t = from; t < to; t += static_cast<time_ns>(uniform(1, 6) * k_ns_per_s)) {
      const std::string& s = syms[rng() % syms.size()];
      const double roll = uniform(0, 1);
      double p = price[s];
      if (roll < 0.004) {
        p *= 1 + uniform(-0.2, 0.2);  // a jump: thresholds, escalations, breadth
      } else if (roll < 0.006) {
        p = base[s] * (1 + uniform(-0.02, 0.02));  // back home: resolves
      } else {
        p *= 1 + uniform(-0.004, 0.004);
      }
      if (limit_pct > 0) {
        p = std::clamp(p, base[s] * (1 - limit_pct / 100), base[s] * (1 + limit_pct / 100));
      }
      price[s] = std::max(p, 0.5);
      monday.push_back(trade{s, price[s], uniform(1, 5000), t, id++});
      if (roll > 0.998) {
        trading_status st;
        st.symbol = s;
        st.status_code = halted[s] ? "T" : "H";
        st.status_message = halted[s] ? "Trading resumed" : "Trading halted";
        st.reason_code = "LUDP";
        st.time = t;
        halted[s] = !halted[s];
        monday.push_back(st);
      }
      if (roll > 0.985 && roll <= 0.998) {
        news n;
        n.id = "h" + std::to_string(id++);
        n.source = "test";
        // Stamped up to 20 minutes before now: late headlines make follow-ups.
        n.time = t - static_cast<time_ns>(uniform(0, 1200) * k_ns_per_s);
        const std::size_t k = rng() % us.size();
        const double kind = uniform(0, 1);
        if (kind < 0.4) {
          n.headline = names[k] + " shares move after " + std::to_string(id) + " report";
        } else if (kind < 0.7) {
          n.headline = "Chip stocks react to market news " + std::to_string(id);
          n.symbols = {us[k], us[(k + 1) % us.size()]};
        } else if (kind < 0.85) {
          n.headline = "DeepSeek model release " + std::to_string(id) + " rattles AI trade";
        } else {
          n.headline = "浪潮信息 与 每日互动 " + std::to_string(id);
        }
        monday.push_back(n);
      }
    }
  };
  walk(cn, at("2025-01-27T01:30:00Z"), at("2025-01-27T03:30:00Z"), 10);
  walk(us, at("2025-01-27T14:30:00Z"), at("2025-01-27T18:30:00Z"), 0);
  events.insert(events.end(), monday.begin(), monday.end());
  return events;
}

TEST(TwoStageEngine, RandomDaysWithStormsMatchTheWholeEngine) {
  rules_config config = test_support::desk_config();
  config.storm = {3, 5 * k_ns_per_min};  // small budget: digests, held escalations
  const auto rules = test_support::compile(config);
  ASSERT_TRUE(rules);
  counts total;
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    const counts c = expect_same_alerts(rules, random_days(seed), "seed " + std::to_string(seed));
    total.firing += c.firing;
    total.resolved += c.resolved;
    total.follow_ups += c.follow_ups;
    total.digests += c.digests;
    total.baskets += c.baskets;
  }
  // The days must reach every coupling, or the comparison proves little.
  EXPECT_GT(total.firing, 100u);
  EXPECT_GT(total.resolved, 10u);
  EXPECT_GT(total.follow_ups, 3u);
  EXPECT_GT(total.digests, 5u);
  EXPECT_GT(total.baskets, 3u);
  std::cout << "firing " << total.firing << ", resolved " << total.resolved << ", follow-ups "
            << total.follow_ups << ", digests " << total.digests << ", basket alerts "
            << total.baskets << "\n";
}

// The shipped configuration on every scenario capture, the DeepSeek day included.
TEST(TwoStageEngine, EveryScenarioMatchesTheWholeEngine) {
  const std::string root = AFTERSHOCK_SOURCE_DIR;
  daemon::loaded_config config = daemon::load_config_file(root + "/deploy/config/aftershock.yaml");
  ASSERT_TRUE(config.compiled) << "deploy/config/aftershock.yaml does not load";
  std::size_t scenarios = 0;
  for (const auto& dir : std::filesystem::directory_iterator(root + "/tests/data/scenarios")) {
    const auto capture = dir.path() / "capture.ndjson";
    if (!std::filesystem::exists(capture)) continue;
    std::ifstream in(capture, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    feeds::capture_reader reader;
    reader.add(capture.string(), text.str());
    std::vector<feeds::frame_parser> parsers;
    for (std::size_t d = 0; d < feeds::k_dialect_count; ++d) {
      parsers.emplace_back(static_cast<feeds::dialect>(d));
    }
    std::vector<event> events;
    feeds::capture_record record;
    while (reader.next(record)) {
      parsers[static_cast<std::size_t>(record.feed)].parse(record.frame, events);
    }
    ASSERT_FALSE(events.empty()) << capture;
    expect_same_alerts(config.compiled, events, dir.path().filename().string());
    ++scenarios;
  }
  EXPECT_GE(scenarios, 9u);
}

// engine::prefetch() is a hint and nothing more: batches loaded ahead, and hints about events
// that are not processed next (or never), leave every alert as it was, across a reload too.
TEST(EnginePrefetch, HintsNeverChangeTheAlerts) {
  rules_config config = test_support::desk_config();
  config.storm = {3, 5 * k_ns_per_min};
  const auto rules = test_support::compile(config);
  ASSERT_TRUE(rules);
  std::size_t compared = 0;
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    const std::vector<event> events = random_days(seed);
    const std::size_t reload_at = events.size() / 2;
    auto to_lines = [](const std::vector<alert>& alerts) {
      std::vector<std::string> lines;
      for (const auto& a : alerts) lines.push_back(to_json(a));
      return lines;
    };
    // Plain: one event at a time, no hints.
    engine plain(rules);
    std::vector<alert> want;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i == reload_at) plain.replace_rules(rules);
      plain.process(events[i], want);
    }
    plain.flush(want);
    // Batched: frames of 1 to 60 events through process_batch (hints for the longer ones).
    std::mt19937 rng(seed);
    engine batched(rules);
    batched.set_prefetch_min_symbols(0);  // a small day: hint anyway
    std::vector<alert> got, made;
    std::vector<event> frame;
    for (std::size_t i = 0; i < events.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 60, events.size() - i);
      if (i <= reload_at && reload_at < i + n) {  // reload between frames, as the daemon does
        const std::size_t before = reload_at - i;
        frame.assign(events.begin() + static_cast<std::ptrdiff_t>(i),
                     events.begin() + static_cast<std::ptrdiff_t>(i + before));
        batched.process_batch(frame, made, [&](const event&, std::vector<alert>& a) {
          got.insert(got.end(), a.begin(), a.end());
        });
        batched.replace_rules(rules);
        i += before;
        if (before == n) continue;
        frame.assign(events.begin() + static_cast<std::ptrdiff_t>(i),
                     events.begin() + static_cast<std::ptrdiff_t>(i + (n - before)));
        i += n - before;
      } else {
        frame.assign(events.begin() + static_cast<std::ptrdiff_t>(i),
                     events.begin() + static_cast<std::ptrdiff_t>(i + n));
        i += n;
      }
      batched.process_batch(frame, made, [&](const event&, std::vector<alert>& a) {
        got.insert(got.end(), a.begin(), a.end());
      });
    }
    batched.flush(got);
    EXPECT_EQ(to_lines(got), to_lines(want)) << "batched, seed " << seed;
    // Misleading hints: random events from anywhere in the day before each one processed.
    engine hinted(rules);
    hinted.set_prefetch_min_symbols(0);
    std::vector<alert> hinted_out;
    for (std::size_t i = 0; i < events.size(); ++i) {
      for (int k = 0; k < 3; ++k) hinted.prefetch(events[rng() % events.size()]);
      if (i == reload_at) hinted.replace_rules(rules);
      hinted.process(events[i], hinted_out);
    }
    hinted.flush(hinted_out);
    EXPECT_EQ(to_lines(hinted_out), to_lines(want)) << "misleading hints, seed " << seed;
    compared += want.size();
  }
  EXPECT_GT(compared, 50u);  // the days must make alerts, or equality proves little
}

}  // namespace
}  // namespace aftershock::rules
