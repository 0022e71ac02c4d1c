// Bad input through the real replay path (daemon::replay_captures, deploy/config/aftershock.yaml):
// a quiet two-day NVDA tape that raises no alert, plus one capture of hostile lines per case,
// merged in time order as `aftershockd replay` merges captures. Every case must be counted
// (capture bad lines, parser rejections, or the engine's out-of-order/duplicate/outlier
// counters), must not crash, and must not make an alert.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "daemon/config_loader.h"
#include "daemon/replay.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"
#include "tests/support/child_process.h"

namespace aftershock {
namespace {

using daemon::replay_summary;

const daemon::loaded_config& default_config() {
  static const daemon::loaded_config loaded = daemon::load_config_file(
      std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml");
  return loaded;
}

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

// "2025-01-24T16:05:00Z"
std::string utc(int day, int hour, int minute, int second = 0) {
  return "2025-01-" + two(day) + "T" + two(hour) + ":" + two(minute) + ":" + two(second) + "Z";
}

std::string record(const std::string& at, const std::string& feed, const std::string& frame) {
  return R"({"at":")" + at + R"(","feed":")" + feed + R"(","frame":)" + frame + "}\n";
}
std::string raw_record(const std::string& at, const std::string& feed, const std::string& raw) {
  std::string escaped;
  for (char c : raw) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return R"({"at":")" + at + R"(","feed":")" + feed + R"(","raw":")" + escaped + "\"}\n";
}

std::string alpaca_trade(const std::string& symbol, std::int64_t id, const std::string& price,
                         const std::string& time, const std::string& extra = "") {
  return R"([{"T":"t","S":")" + symbol + R"(","i":)" + std::to_string(id) +
         R"(,"x":"V","p":)" + price + R"(,"s":100,"c":["@"],"z":"C","t":")" + time + "\"" +
         extra + "}]";
}

// The quiet tape: Thursday 2025-01-23 closes at 100 (New York regular session), Friday trades
// between 100.2 and 100.4 all day. Trade ids are 1, 2, 3 ... in time order.
struct tape {
  std::string text;
  std::int64_t last_id = 0;
  std::string last_time;
};
const tape& quiet_tape() {
  static const tape t = [] {
    tape out;
    std::int64_t id = 0;
    for (int h = 15; h <= 20; ++h) {
      for (int m = 0; m < 60; m += 10) {
        const std::string at = utc(23, h, m);
        out.text += record(at, "alpaca-stocks", alpaca_trade("NVDA", ++id, "100.0", at));
      }
    }
    for (int h = 14; h <= 20; ++h) {
      for (int m = (h == 14 ? 35 : 0); m < 60; m += 5) {
        const std::string at = utc(24, h, m);
        out.text += record(at, "alpaca-stocks",
                           alpaca_trade("NVDA", ++id, (m / 5) % 2 ? "100.4" : "100.2", at));
        out.last_id = id;
        out.last_time = at;
      }
    }
    return out;
  }();
  return t;
}

struct outcome {
  replay_summary summary;
  rules::engine_stats engine;
  std::string error;
};

// Replays the quiet tape and `hostile` (a second capture) with the default config, once through
// replay_captures (what `aftershockd replay` runs) and once through reader, parsers and engine
// directly, for the engine's counters, which the replay summary does not carry.
outcome replay_with(const std::string& hostile) {
  test::temp_dir dir;
  const std::string quiet = dir.file("quiet.ndjson");
  const std::string bad = dir.file("hostile.ndjson");
  EXPECT_TRUE(test::write_file(quiet, quiet_tape().text));
  EXPECT_TRUE(test::write_file(bad, hostile));

  outcome o;
  daemon::replay_options options;
  options.captures = {quiet, bad};
  options.alerts_out = dir.file("alerts.jsonl");
  o.summary = daemon::replay_captures(default_config(), options, &o.error);

  feeds::capture_reader reader;
  reader.add(quiet, quiet_tape().text);
  reader.add(bad, hostile);
  std::vector<feeds::frame_parser> parsers;
  for (std::size_t d = 0; d < feeds::k_dialect_count; ++d) {
    parsers.emplace_back(static_cast<feeds::dialect>(d));
  }
  rules::engine engine(default_config().compiled);
  std::vector<rules::event> events;
  std::vector<rules::alert> alerts;
  feeds::capture_record r;
  while (reader.next(r)) {
    events.clear();
    parsers[static_cast<std::size_t>(r.feed)].parse(r.frame, events);
    for (const auto& e : events) engine.process(e, alerts);
  }
  engine.flush(alerts);
  o.engine = engine.stats();
  EXPECT_EQ(alerts.size(), o.summary.alerts);
  return o;
}

const outcome& baseline() {
  static const outcome o = replay_with("");
  return o;
}

TEST(bad_input, the_quiet_tape_alone_raises_nothing_and_counts_nothing) {
  ASSERT_TRUE(default_config().ok());
  const outcome& b = baseline();
  EXPECT_TRUE(b.error.empty()) << b.error;
  EXPECT_GT(b.summary.events, 100u);
  EXPECT_EQ(b.summary.alerts, 0u);
  EXPECT_EQ(b.summary.parse_errors, 0u);
  EXPECT_EQ(b.summary.bad_lines, 0u);
  EXPECT_EQ(b.engine.out_of_order + b.engine.duplicates + b.engine.outliers, 0u);
}

// A move the tape would alert on if the engine believed it: the controls below prove the
// hostile cases are rejected for what they are, not because nothing could alert.
TEST(bad_input, a_real_move_on_the_same_tape_does_alert) {
  // Prints every 30 s agree with each other (the quiet tape's own prints every 5 minutes are
  // then the outliers); a lone print at 80 would be held and dropped as a bad tick.
  std::string move;
  std::int64_t id = 100000;
  for (int m = 0; m < 10; ++m) {
    for (int s : {10, 40}) {
      const std::string at = utc(24, 16, m, s);
      move += record(at, "alpaca-stocks", alpaca_trade("NVDA", ++id, "80.0", at));
    }
  }
  EXPECT_GT(replay_with(move).summary.alerts, 0u);
}

struct bad_case {
  std::string name;
  std::function<std::string()> lines;
  // What must be counted: at least this many capture bad lines / parser rejections / engine
  // out-of-order, duplicates and outliers, beyond the baseline.
  std::size_t bad_lines = 0, parse_errors = 0, out_of_order = 0, duplicates = 0, outliers = 0;
  std::size_t extra_events = 0;  // events that are fine to accept (exact)
};

std::string at_noon(int second = 0) { return utc(24, 17, 2, second); }

std::vector<bad_case> cases() {
  const std::string t = at_noon();
  std::vector<bad_case> v;
  v.push_back({"invalid_json", [t] {
                 return raw_record(t, "alpaca-stocks", R"([{"T":"t","S":"NVDA",,}])") +
                        raw_record(t, "alpaca-stocks", "not json at all") +
                        raw_record(t, "finnhub", "{\"type\":\"trade\",\"data\":[}") +
                        "this line is not a capture record\n" + "{\"at\":\n" +
                        R"({"at":")" + t + R"(","feed":"no-such-feed","frame":[]})" + "\n";
               },
               3, 3});
  v.push_back({"truncated_frames", [t] {
                 const std::string whole = alpaca_trade("NVDA", 900001, "80.0", t);
                 std::string out;
                 for (std::size_t cut : {1u, 10u, 40u, 80u}) {
                   out += raw_record(t, "alpaca-stocks", whole.substr(0, cut));
                 }
                 out += R"({"at":")" + t + R"(","feed":"alpaca-stocks","frame":[{"T":"t")" + "\n";
                 return out;
               },
               1, 4});
  v.push_back({"ten_megabyte_frames", [t] {
                 const std::string pad(10u << 20, 'x');
                 const std::string big = alpaca_trade("NVDA", 900002, "100.3", t,
                                                      R"(,"pad":")" + pad + "\"");
                 return record(t, "alpaca-stocks", big) +
                        raw_record(t, "alpaca-stocks", big.substr(0, big.size() - 3)) +
                        raw_record(t, "alpaca-stocks", std::string(10u << 20, '[')) +
                        raw_record(t, "alpaca-news", "[{\"T\":\"n\",\"headline\":\"" + pad);
               },
               0, 3, 0, 0, 0, 1});
  v.push_back({"invalid_utf8", [t] {
                 return std::string(R"({"at":")") + t +
                        R"(","feed":"alpaca-stocks","frame":[{"T":"t","S":"NV)" + "\xff\xfe" +
                        R"(DA","i":900003,"p":80.0,"s":1,"t":")" + t + "\"}]}\n" +
                        record(t, "alpaca-news",
                               R"([{"T":"n","id":900004,"headline":"Nvidia \ud800 plunges",)"
                               R"("summary":"","author":"x","created_at":")" + t +
                               R"(","updated_at":")" + t + R"(","url":"","symbols":["NVDA"],)"
                               R"("source":"test"}])") +
                        "\xc3\x28\xa0\xa1\n";
               },
               2, 0});
  v.push_back({"nan_and_infinite_prices", [t] {
                 return raw_record(t, "alpaca-stocks", alpaca_trade("NVDA", 900005, "NaN", t)) +
                        raw_record(t, "alpaca-stocks", alpaca_trade("NVDA", 900006, "Infinity", t)) +
                        raw_record(t, "alpaca-stocks", alpaca_trade("NVDA", 900007, "-Infinity", t)) +
                        record(t, "alpaca-stocks", alpaca_trade("NVDA", 900008, "1e999", t)) +
                        record(t, "alpaca-stocks", alpaca_trade("NVDA", 900009, "\"NaN\"", t)) +
                        record(t, "finnhub",
                               R"({"type":"trade","data":[{"s":"NVDA","p":1e400,"v":1,"t":1737738120000}]})");
               },
               0, 6});
  v.push_back({"negative_and_zero_prices", [t] {
                 return record(t, "alpaca-stocks", alpaca_trade("NVDA", 900010, "-100.3", t)) +
                        record(t, "alpaca-stocks", alpaca_trade("NVDA", 900011, "0", t)) +
                        record(t, "alpaca-stocks", alpaca_trade("NVDA", 900012, "-0.0", t)) +
                        record(t, "finnhub",
                               R"({"type":"trade","data":[{"s":"NVDA","p":-5,"v":1,"t":1737738120000},)"
                               R"({"s":"NVDA","p":0,"v":1,"t":1737738120000}]})") +
                        record(t, "alpaca-stocks",
                               R"([{"T":"b","S":"NVDA","o":0,"h":0,"l":0,"c":0,"v":1,"t":")" + t +
                                   "\"}]");
               },
               0, 6});
  v.push_back({"times_far_in_the_future_or_past", [t] {
                 return record(t, "alpaca-stocks",
                               alpaca_trade("NVDA", 900013, "80.0", "2999-01-01T00:00:00Z")) +
                        record(t, "alpaca-stocks",
                               alpaca_trade("NVDA", 900014, "80.0", "1970-01-01T00:00:00Z")) +
                        record(t, "alpaca-stocks",
                               alpaca_trade("NVDA", 900015, "80.0", "0000-01-01T00:00:00Z")) +
                        record(t, "alpaca-stocks",
                               alpaca_trade("NVDA", 900016, "80.0", "not a time")) +
                        record(t, "finnhub",  // seconds where milliseconds belong: 1970
                               R"({"type":"trade","data":[{"s":"NVDA","p":80,"v":1,"t":1737738120}]})") +
                        record(t, "finnhub",
                               R"({"type":"trade","data":[{"s":"NVDA","p":80,"v":1,"t":9223372036854775807}]})") +
                        // A capture time far off: the reader refuses the line itself.
                        record("2999-01-01T00:00:00Z", "alpaca-stocks",
                               alpaca_trade("NVDA", 900017, "80.0", "2999-01-01T00:00:00Z"));
               },
               1, 6});
  v.push_back({"out_of_order_events", [] {
                 // At 18:00 the tape is past 17:55; prints stamped 15:00 at 80 are old news.
                 const std::string late = utc(24, 18, 0, 30);
                 return record(late, "alpaca-stocks", alpaca_trade("NVDA", 900018, "80.0", utc(24, 15, 0, 1))) +
                        record(late, "alpaca-stocks", alpaca_trade("NVDA", 900019, "80.0", utc(24, 15, 0, 2)));
               },
               0, 0, 2, 0, 0, 2});
  v.push_back({"duplicate_ids", [] {
                 // The tape's own last trade id again, at a price that would be a 20% drop.
                 const tape& q = quiet_tape();
                 const std::string at = utc(24, 20, 56);
                 return record(at, "alpaca-stocks", alpaca_trade("NVDA", q.last_id, "80.0", at)) +
                        record(at, "alpaca-stocks", alpaca_trade("NVDA", q.last_id, "80.0", utc(24, 20, 57)));
               },
               0, 0, 0, 1, 0, 2});
  v.push_back({"one_bad_tick", [] {
                 const std::string at = utc(24, 17, 2, 30);
                 return record(at, "alpaca-stocks", alpaca_trade("NVDA", 900020, "50.0", at));
               },
               0, 0, 0, 0, 1, 1});
  v.push_back({"unknown_symbols", [t] {
                 return record(t, "alpaca-stocks", alpaca_trade("ZZZZQ", 900021, "5.0", t)) +
                        record(t, "alpaca-stocks",
                               alpaca_trade(std::string(40, 'Z'), 900022, "5.0", t)) +
                        record(t, "alpaca-stocks", alpaca_trade("", 900023, "5.0", t)) +
                        record(t, "finnhub",
                               R"({"type":"trade","data":[{"s":"NOPE.XX","p":3,"v":1,"t":1737738120000}]})");
               },
               0, 2, 0, 0, 0, 2});
  v.push_back({"one_dialect_on_another_feed", [t] {
                 const std::string alpaca = alpaca_trade("NVDA", 900024, "80.0", t);
                 const std::string finnhub =
                     R"({"type":"trade","data":[{"s":"NVDA","p":80,"v":1,"t":1737738120000}]})";
                 const std::string polygon =
                     R"([{"ev":"T","sym":"NVDA","i":"1","x":4,"p":80,"s":100,"t":1737738120000}])";
                 const std::string binance =
                     R"({"e":"trade","E":1737738120000,"s":"NVDA","t":1,"p":"80","q":"1","T":1737738120000})";
                 return record(t, "finnhub", alpaca) + record(t, "binance", alpaca) +
                        record(t, "alpaca-stocks", finnhub) + record(t, "polygon-stocks", finnhub) +
                        record(t, "alpaca-stocks", polygon) + record(t, "binance", polygon) +
                        record(t, "finnhub", binance) + record(t, "alpaca-stocks", binance) +
                        record(t, "alpaca-news", alpaca) + record(t, "generic", polygon);
               },
               0, 8});
  return v;
}

class bad_input_case : public testing::TestWithParam<bad_case> {};

TEST_P(bad_input_case, is_counted_and_never_alerts) {
  const bad_case& c = GetParam();
  const outcome& b = baseline();
  const outcome o = replay_with(c.lines());
  std::printf("[ counts   ] %s: %zu bad lines, %zu parse errors, %zu events (+%zu), "
              "%llu out of order, %llu duplicates, %llu outliers, %zu alerts\n",
              c.name.c_str(), o.summary.bad_lines, o.summary.parse_errors, o.summary.events,
              o.summary.events - b.summary.events,
              static_cast<unsigned long long>(o.engine.out_of_order),
              static_cast<unsigned long long>(o.engine.duplicates),
              static_cast<unsigned long long>(o.engine.outliers), o.summary.alerts);
  EXPECT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.summary.alerts, 0u) << "a false alert";
  EXPECT_EQ(o.summary.events, b.summary.events + c.extra_events);
  EXPECT_GE(o.summary.bad_lines, b.summary.bad_lines + c.bad_lines);
  EXPECT_GE(o.summary.parse_errors, b.summary.parse_errors + c.parse_errors);
  EXPECT_GE(o.engine.out_of_order, b.engine.out_of_order + c.out_of_order);
  EXPECT_GE(o.engine.duplicates, b.engine.duplicates + c.duplicates);
  EXPECT_GE(o.engine.outliers, b.engine.outliers + c.outliers);
  // Every hostile line is accounted for somewhere: nothing is dropped silently.
  const std::size_t counted = (o.summary.bad_lines - b.summary.bad_lines) +
                              (o.summary.parse_errors - b.summary.parse_errors) +
                              (o.summary.events - b.summary.events);
  EXPECT_GT(counted, 0u);
}

INSTANTIATE_TEST_SUITE_P(all, bad_input_case, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<bad_case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace aftershock
