// Measures the rules side of aftershock against its targets and its ceiling (issue 4):
//   matcher   headlines/s with a 10,000-alias English and Chinese dictionary, and build time
//   engine    events/s through rules::engine alone (events decoded beforehand), every rule kind
//   replay    frames/s and events/s of `aftershockd replay` end to end (read, parse, engine)
//   ceiling   a bare simdjson on-demand pass over the same capture touching every field the
//             daemon reads: the most any JSON-reading replay could do; replay is reported as a
//             ratio to it
// A measuring program, not a test: it prints figures and never fails on them.
//
//   shards    with --shards N: the two-stage engine (rules::engine_stage): N shard engines and
//             an arbiter in one thread, each stage timed on its own, so the rate a cluster with
//             a core per stage could sustain is the stream's events over the slowest stage;
//             and whether their alerts equal the whole engine's, byte for byte
//
// Usage: rules_bench CONFIG CAPTURE [--repeat N] [--engine-only] [--no-previous-day] [--shards N]
//                    [--no-prefetch]
//   CAPTURE: e.g. aftershock-feedsim generate --symbols 5000 --events 2000000
//            --per-frame 1..100 --headline-every 1000 --out /tmp/day.ndjson
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "daemon/config_loader.h"
#include "daemon/replay.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"
#include "rules/headline_matcher.h"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace aftershock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- ceiling: simdjson on-demand, every field the daemon reads --------------------------------
struct ceiling_result {
  std::size_t frames = 0, events = 0;
  double seconds = 0, checksum = 0;
};

ceiling_result ceiling_pass(const std::string& text) {
  ceiling_result r;
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  const auto start = clock_type::now();
  simdjson::ondemand::document_stream stream;
  if (parser.iterate_many(padded, 1 << 24).get(stream)) return r;
  for (auto doc : stream) {
    simdjson::ondemand::object record;
    if (doc.get_object().get(record)) continue;
    std::string_view at, feed;
    for (auto field : record) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key == "at") {
        if (field.value().get_string().get(at)) at = {};
      } else if (key == "feed") {
        if (field.value().get_string().get(feed)) feed = {};
      } else if (key == "frame") {
        ++r.frames;
        auto value = field.value();
        simdjson::ondemand::array items;
        if (value.get_array().get(items)) continue;
        for (auto item : items) {
          simdjson::ondemand::object o;
          if (item.get_object().get(o)) continue;
          ++r.events;
          for (auto f : o) {
            std::string_view k;
            if (f.unescaped_key().get(k)) break;
            if (k.size() == 1 || k == "bp" || k == "ap" || k == "bs" || k == "as") {
              double d;
              std::string_view s;
              auto v = f.value();
              if (!v.get_double().get(d)) {
                r.checksum += d;
              } else if (!v.get_string().get(s)) {
                r.checksum += static_cast<double>(s.size());
              }
            } else if (k == "headline" || k == "symbols" || k == "created_at" || k == "id") {
              std::string_view raw;
              if (!f.value().raw_json_token().get(raw)) r.checksum += static_cast<double>(raw.size());
            }
          }
        }
      }
    }
    r.checksum += static_cast<double>(at.size() + feed.size());
  }
  r.seconds = seconds_since(start);
  return r;
}

// --- reader + parsers only -----------------------------------------------------------------------
struct decoded {
  std::vector<rules::event> events;
  std::size_t frames = 0;
  double seconds = 0;
};

decoded decode_all(const std::string& path, const std::string& text) {
  decoded d;
  feeds::capture_reader reader;
  reader.add(path, text);
  std::vector<feeds::frame_parser> parsers;
  for (std::size_t i = 0; i < feeds::k_dialect_count; ++i) {
    parsers.emplace_back(static_cast<feeds::dialect>(i));
  }
  const auto start = clock_type::now();
  feeds::capture_record rec;
  while (reader.next(rec)) {
    ++d.frames;
    parsers[static_cast<std::size_t>(rec.feed)].parse(rec.frame, d.events);
  }
  d.seconds = seconds_since(start);
  return d;
}

// --- matcher ---------------------------------------------------------------------------------
struct matcher_result {
  std::size_t patterns = 0;
  double build_ms = 0, headlines_per_s = 0;
};

matcher_result bench_matcher() {
  static const char* syllables[] = {"ka", "lo", "mi", "ne", "ru", "ta", "vo", "xi",
                                    "ze", "por", "quin", "dra", "sel", "tor", "vex", "bri"};
  static const char* hanzi[] = {"华", "星", "海", "智", "芯", "云", "光", "达",
                                "通", "电", "科", "能", "微", "信", "天", "龙"};
  std::uint32_t seed = 2025;
  auto next = [&] { return (seed = seed * 1103515245u + 12345u) >> 16; };
  std::vector<rules::entity_spec> entities;
  for (int i = 0; i < 5000; ++i) {
    rules::entity_spec e;
    e.symbol = "S" + std::to_string(i);
    std::string latin;
    for (int k = 0; k < 3; ++k) latin += syllables[next() % 16];
    latin += std::to_string(i);
    latin[0] = static_cast<char>(latin[0] - 32);
    std::string cjk;
    for (int k = 0; k < 3; ++k) cjk += hanzi[next() % 16];
    cjk += std::to_string(i);
    e.name = latin;
    e.aliases = {latin, cjk};
    entities.push_back(std::move(e));
  }
  std::vector<rules::theme_spec> themes = {
      {"deepseek", {"DeepSeek", "深度求索"}, {}, {}},
      {"ai_capex", {"AI infrastructure", "data center", "数据中心", "算力"}, {}, {}}};
  std::vector<rules::matcher_error> errors;
  const auto build_start = clock_type::now();
  const rules::headline_matcher matcher(entities, themes, &errors);
  const double build_s = seconds_since(build_start);

  std::vector<std::string> headlines;
  for (int i = 0; i < 2000; ++i) {
    const auto& e = entities[next() % entities.size()];
    switch (i % 4) {
      case 0: headlines.push_back(e.aliases[0] + " Shares Slide As DeepSeek Questions AI Spending"); break;
      case 1: headlines.push_back(e.aliases[1] + "股价暴跌近15%,芯片股大跌,数据中心需求受质疑"); break;
      case 2: headlines.push_back("Analysts Weigh Data Center Demand After Earnings From " + e.aliases[0] + " And Peers In Asia"); break;
      default: headlines.push_back("Markets Open Mixed As Investors Await Central Bank Decision"); break;
    }
  }
  std::size_t matched = 0, n = 0;
  const auto start = clock_type::now();
  while (seconds_since(start) < 2.0) {
    for (const auto& h : headlines) matched += matcher.match(h).entities.size();
    n += headlines.size();
  }
  const double s = seconds_since(start);
  std::printf("matcher   %zu patterns, built in %.0f ms; %.2f M headlines/s (one core; %zu matches)\n",
              matcher.pattern_count(), build_s * 1e3, static_cast<double>(n) / s / 1e6, matched);
  return {matcher.pattern_count(), build_s * 1e3, static_cast<double>(n) / s};
}

}  // namespace

// --- the two-stage engine: N shards and an arbiter ---------------------------------------------

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

void bench_two_stage(const std::shared_ptr<const rules::compiled_rules>& rules,
                     const std::vector<rules::event>& previous_day,
                     const std::vector<rules::event>& events, int n,
                     std::vector<std::string> whole_alerts) {
  std::vector<std::unique_ptr<rules::engine>> shard;
  for (int i = 0; i < n; ++i) {
    shard.push_back(std::make_unique<rules::engine>(rules, rules::engine_stage::shard));
  }
  rules::engine arbiter(rules, rules::engine_stage::arbiter);
  std::vector<double> shard_s(static_cast<std::size_t>(n), 0.0);
  std::vector<std::size_t> shard_events(static_cast<std::size_t>(n), 0);
  double arbiter_s = 0;
  std::size_t positions = 0;
  std::vector<rules::alert> out;
  std::vector<std::string> staged;
  rules::stage_output so;
  rules::time_ns watermark = 0;
  // Routes like the cluster: market events to the symbol's shard, headlines to every shard;
  // the arbiter hears the positions where a shard said something or read a headline.
  auto feed = [&](const rules::event& e, bool timed) {
    watermark = std::max(watermark, rules::event_time(e));
    const auto* headline = std::get_if<rules::news>(&e);
    for (int k = 0; k < n; ++k) {
      if (!headline && static_cast<int>(fnv1a64(rules::event_symbol(e)) % n) != k) continue;
      so.clear();
      auto t0 = clock_type::now();
      shard[static_cast<std::size_t>(k)]->process_shard(e, so);
      if (timed) {
        shard_s[static_cast<std::size_t>(k)] += seconds_since(t0);
        ++shard_events[static_cast<std::size_t>(k)];
      }
      if (so.empty() && !headline) continue;
      t0 = clock_type::now();
      arbiter.arbitrate(watermark, headline, so, out);
      if (timed) {
        arbiter_s += seconds_since(t0);
        ++positions;
      }
    }
  };
  for (const auto& e : previous_day) feed(e, false);
  out.clear();
  for (const auto& e : events) {
    feed(e, true);
    if (out.size() > 4096) {
      for (const auto& a : out) staged.push_back(rules::to_json(a));
      out.clear();
    }
  }
  arbiter.arbitrate(watermark, nullptr, {}, out);
  arbiter.flush(out);
  for (const auto& a : out) staged.push_back(rules::to_json(a));
  std::sort(staged.begin(), staged.end());
  std::sort(whole_alerts.begin(), whole_alerts.end());
  double slowest = arbiter_s;
  for (int k = 0; k < n; ++k) {
    const auto i = static_cast<std::size_t>(k);
    std::printf("shard %d/%d %zu events in %.3f s: %.2f M events/s of its share\n", k, n,
                shard_events[i], shard_s[i],
                static_cast<double>(shard_events[i]) / std::max(shard_s[i], 1e-9) / 1e6);
    slowest = std::max(slowest, shard_s[i]);
  }
  std::printf("arbiter   %zu positions in %.3f s\n", positions, arbiter_s);
  std::printf("two-stage %d shards + arbiter, a core each: %.2f M events/s of the stream (the "
              "slowest stage); alerts %s the whole engine's (%zu)\n",
              n, static_cast<double>(events.size()) / slowest / 1e6,
              staged == whole_alerts ? "identical to" : "DIFFERENT FROM", staged.size());
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rules_bench CONFIG CAPTURE [--repeat N]\n");
    return 64;
  }
  const std::string config_path = argv[1];
  const std::string capture = argv[2];
  int repeat = 3;
  bool engine_only = false;  // for profiling the engine alone
  bool no_previous_day = false;  // measure without previous closes (rules return early)
  int shards = 0;                // > 0: also the two-stage engine with this many shards
  bool prefetch = true;          // engine::prefetch() ahead of process(), as the daemon does
  for (int i = 3; i < argc; ++i) {
    if (std::string(argv[i]) == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--engine-only") engine_only = true;
    if (std::string(argv[i]) == "--no-previous-day") no_previous_day = true;
    if (std::string(argv[i]) == "--no-prefetch") prefetch = false;
    if (std::string(argv[i]) == "--shards" && i + 1 < argc) shards = std::max(1, std::atoi(argv[i + 1]));
  }
  const auto config = daemon::load_config_file(config_path);
  if (!config.errors.empty() || !config.compiled) {
    for (const auto& e : config.errors) std::fprintf(stderr, "%s\n", e.message.c_str());
    return 78;
  }
  const std::string text = read_file(capture);
  std::printf("capture   %s: %.1f MB\n", capture.c_str(), static_cast<double>(text.size()) / 1e6);

  matcher_result matcher;
  if (!engine_only) matcher = bench_matcher();

  ceiling_result best_ceiling;
  for (int i = 0; i < (engine_only ? 0 : repeat); ++i) {
    const auto c = ceiling_pass(text);
    if (best_ceiling.seconds == 0 || c.seconds < best_ceiling.seconds) best_ceiling = c;
  }
  std::printf("ceiling   %zu frames, %zu elements in %.3f s: %.0f frames/s, %.2f M events/s "
              "(bare simdjson on-demand)\n",
              best_ceiling.frames, best_ceiling.events, best_ceiling.seconds,
              static_cast<double>(best_ceiling.frames) / best_ceiling.seconds,
              static_cast<double>(best_ceiling.events) / best_ceiling.seconds / 1e6);

  decoded d = decode_all(capture, text);
  std::printf("parse     %zu frames, %zu events in %.3f s: %.2f M events/s (capture reader + "
              "dialect parsers)\n",
              d.frames, d.events.size(), d.seconds,
              static_cast<double>(d.events.size()) / d.seconds / 1e6);

  // A synthetic day has no day before it, so rules measured against the previous close
  // (prev_close_move, unexplained_move, opening_gap, price_limit, basket_breadth) would return
  // early and the engine would look faster than on a real day. Each engine first sees one
  // closing print per symbol on the previous weekday (untimed), near its first price.
  std::vector<rules::event> previous_day;
  if (!no_previous_day && !d.events.empty()) {
    constexpr rules::time_ns day_ns = 86400LL * 1000000000LL;
    std::int64_t prev = rules::event_time(d.events.front()) / day_ns - 1;
    while ((prev + 4) % 7 == 0 || (prev + 4) % 7 == 6) --prev;  // Sunday 0, Saturday 6
    const rules::time_ns close_time = prev * day_ns + (20 * 60 + 59) * 60LL * 1000000000LL;
    std::set<std::string> seen;
    for (const auto& e : d.events) {
      const auto* t = std::get_if<rules::trade>(&e);
      if (!t || !seen.insert(t->symbol).second) continue;
      rules::trade close = *t;
      close.price = t->price * 1.001;
      close.time = close_time;
      close.id = 0;
      previous_day.emplace_back(close);
    }
  }

  double best_engine = 0;
  std::size_t alerts = 0;
  std::vector<std::string> whole_alerts;  // the whole engine's, for the two-stage comparison
  for (int i = 0; i < repeat; ++i) {
    rules::engine eng(config.compiled);
    std::vector<rules::alert> out;
    for (const auto& e : previous_day) eng.process(e, out);
    out.clear();
    const auto start = clock_type::now();
    const std::size_t ahead = prefetch ? rules::engine::k_prefetch_distance : 0;
    for (std::size_t k = 0; k < d.events.size(); ++k) {
      if (ahead && k + 2 * ahead < d.events.size()) {
        // The decoded day is hundreds of megabytes: the hardware prefetcher stops at each
        // page, and the daemon's own events (a frame's, just parsed) are in cache anyway.
        const char* later = reinterpret_cast<const char*>(&d.events[k + 2 * ahead]);
        __builtin_prefetch(later);
        __builtin_prefetch(later + sizeof(rules::event) - 1);
      }
      if (ahead && k + ahead < d.events.size()) eng.prefetch(d.events[k + ahead]);
      eng.process(d.events[k], out);
      if (out.size() > 4096) {
        if (shards > 0 && i == 0) {
          for (const auto& a : out) whole_alerts.push_back(rules::to_json(a));
        }
        out.clear();
      }
    }
    eng.flush(out);
    if (shards > 0 && i == 0) {
      for (const auto& a : out) whole_alerts.push_back(rules::to_json(a));
    }
    const double s = seconds_since(start);
    alerts = eng.stats().alerts;
    const double rate = static_cast<double>(d.events.size()) / s;
    best_engine = std::max(best_engine, rate);
  }
  std::printf("engine    %.2f M events/s (one core, %zu rules, %zu alerts%s; target 5 M)\n",
              best_engine / 1e6, config.compiled->config().rules.size(), alerts,
              previous_day.empty() ? ", no previous closes" : ", previous closes known");
  if (shards > 0) bench_two_stage(config.compiled, previous_day, d.events, shards, whole_alerts);
  if (engine_only) return 0;

  double best_replay_s = 0;
  daemon::replay_summary summary;
  for (int i = 0; i < repeat; ++i) {
    daemon::replay_options options;
    options.captures = {capture};
    std::string error;
    const auto s = daemon::replay_captures(config, options, &error);
    if (best_replay_s == 0 || s.seconds < best_replay_s) {
      best_replay_s = s.seconds;
      summary = s;
    }
  }
  const double frames_per_s = static_cast<double>(summary.frames) / best_replay_s;
  const double ceiling_fps = static_cast<double>(best_ceiling.frames) / best_ceiling.seconds;
  std::printf("replay    %zu frames, %zu events in %.3f s: %.0f frames/s, %.2f M events/s; "
              "%.2f of the ceiling (target 0.5)\n",
              summary.frames, summary.events, best_replay_s, frames_per_s,
              static_cast<double>(summary.events) / best_replay_s / 1e6,
              frames_per_s / ceiling_fps);
  // One machine-readable line for bench/run.
  std::printf("BENCH_JSON {\"bench\":\"rules\",\"matcher_patterns\":%zu,\"matcher_build_ms\":%.1f,"
              "\"matcher_headlines_per_s\":%.0f,\"ceiling_frames_per_s\":%.0f,"
              "\"ceiling_events_per_s\":%.0f,\"parse_events_per_s\":%.0f,"
              "\"engine_events_per_s\":%.0f,\"engine_rules\":%zu,\"replay_frames\":%zu,"
              "\"replay_events\":%zu,\"replay_frames_per_s\":%.0f,\"replay_events_per_s\":%.0f,"
              "\"replay_ceiling_ratio\":%.3f}\n",
              matcher.patterns, matcher.build_ms, matcher.headlines_per_s, ceiling_fps,
              static_cast<double>(best_ceiling.events) / best_ceiling.seconds,
              static_cast<double>(d.events.size()) / d.seconds, best_engine,
              config.compiled->config().rules.size(), summary.frames, summary.events,
              frames_per_s, static_cast<double>(summary.events) / best_replay_s,
              frames_per_s / ceiling_fps);
  return 0;
}
