// Unit tests for feeds::frame_parser: every dialect's data and control messages (frames shaped
// like the vendor samples in reference/feeds.md), batching, timestamps, validation, and
// malformed input that must be rejected without crashing.

#include "feeds/frame_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rules/event.h"
#include "rules/time.h"

namespace aftershock::feeds {
namespace {

using rules::time_ns;
using kind = control_message::kind;

time_ns at(const char* rfc3339) {
  const auto t = rules::parse_rfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(0);
}

struct parsed {
  parse_result result;
  std::vector<rules::event> events;
};

parsed parse(dialect d, std::string_view frame) {
  frame_parser parser(d);
  parsed p;
  p.result = parser.parse(frame, p.events);
  EXPECT_EQ(p.result.events, p.events.size());
  return p;
}

template <class T>
const T& get(const parsed& p, std::size_t i) {
  EXPECT_LT(i, p.events.size());
  EXPECT_TRUE(std::holds_alternative<T>(p.events.at(i))) << "event " << i;
  return std::get<T>(p.events.at(i));
}

// Frames in failure messages, cut short: some tests use megabyte frames.
std::string shown(std::string_view frame) {
  return frame.size() <= 160 ? std::string(frame)
                             : std::string(frame.substr(0, 160)) + "... (" +
                                   std::to_string(frame.size()) + " bytes)";
}

// A frame that must be rejected as a whole with nothing emitted.
void expect_frame_rejected(dialect d, std::string_view frame, parse_error why) {
  const parsed p = parse(d, frame);
  EXPECT_EQ(p.result.rejected, 1u) << shown(frame);
  EXPECT_EQ(p.result.error, why) << shown(frame) << " -> " << to_string(p.result.error);
  EXPECT_EQ(p.result.events, 0u) << shown(frame);
  EXPECT_TRUE(p.result.controls.empty()) << shown(frame);
}

// A single-element frame whose element must be rejected for `why`.
void expect_element_rejected(dialect d, std::string_view frame, parse_error why) {
  const parsed p = parse(d, frame);
  EXPECT_EQ(p.result.rejected, 1u) << shown(frame);
  EXPECT_EQ(p.result.events, 0u) << shown(frame);
  EXPECT_EQ(p.result.error, why) << shown(frame) << " -> " << to_string(p.result.error);
}

// ---- names and general behaviour --------------------------------------------------------------

TEST(frame_parser, dialect_names_round_trip) {
  for (std::size_t i = 0; i < k_dialect_count; ++i) {
    const auto d = static_cast<dialect>(i);
    const auto back = dialect_from_name(to_string(d));
    ASSERT_TRUE(back.has_value()) << to_string(d);
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(dialect_from_name("alpaca-stocks"), dialect::alpaca_stocks);
  EXPECT_EQ(dialect_from_name("polygon-stocks"), dialect::polygon_stocks);
  EXPECT_FALSE(dialect_from_name("alpaca").has_value());
  EXPECT_FALSE(dialect_from_name("").has_value());
  EXPECT_FALSE(dialect_from_name("Generic").has_value());
}

TEST(frame_parser, parse_error_names) {
  EXPECT_STREQ(to_string(parse_error::none), "none");
  EXPECT_STREQ(to_string(parse_error::invalid_json), "invalid_json");
  EXPECT_STREQ(to_string(parse_error::unexpected_shape), "unexpected_shape");
  EXPECT_STREQ(to_string(parse_error::missing_field), "missing_field");
  EXPECT_STREQ(to_string(parse_error::bad_value), "bad_value");
  EXPECT_STREQ(to_string(parse_error::too_large), "too_large");
}

TEST(frame_parser, time_window_constants_match_the_calendar) {
  EXPECT_EQ(k_earliest_event_time, rules::days_from_civil(1990, 1, 1) * rules::k_ns_per_day);
  EXPECT_EQ(k_latest_event_time, rules::days_from_civil(2201, 1, 1) * rules::k_ns_per_day);
}

TEST(frame_parser, reports_its_dialect_and_moves) {
  frame_parser a(dialect::finnhub);
  EXPECT_EQ(a.which(), dialect::finnhub);
  frame_parser b = std::move(a);
  EXPECT_EQ(b.which(), dialect::finnhub);
  std::vector<rules::event> out;
  EXPECT_EQ(b.parse(R"({"type":"ping"})", out).controls.size(), 1u);
}

TEST(frame_parser, empty_and_blank_input_is_invalid_json) {
  for (std::size_t i = 0; i < k_dialect_count; ++i) {
    const auto d = static_cast<dialect>(i);
    expect_frame_rejected(d, "", parse_error::invalid_json);
    expect_frame_rejected(d, "   \n\t ", parse_error::invalid_json);
    expect_frame_rejected(d, "not json", parse_error::invalid_json);
    expect_frame_rejected(d, "[", parse_error::invalid_json);
    expect_frame_rejected(d, "{", parse_error::invalid_json);
  }
}

TEST(frame_parser, appends_to_existing_output) {
  frame_parser parser(dialect::generic);
  std::vector<rules::event> out;
  out.emplace_back(rules::trade{"OLD", 1, 1, 1, 1});
  const auto r = parser.parse(
      R"({"type":"trade","symbol":"NVDA","price":118.42,"size":100,"ts":"2025-01-27T20:59:59.512Z"})",
      out);
  EXPECT_EQ(r.events, 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<rules::trade>(out[0]).symbol, "OLD");
  EXPECT_EQ(std::get<rules::trade>(out[1]).symbol, "NVDA");

  // A rejected frame leaves what was there before untouched.
  const auto bad = parser.parse(R"([{"type":"trade","symbol":"X","price":1,"ts":1)", out);
  EXPECT_EQ(bad.rejected, 1u);
  EXPECT_EQ(out.size(), 2u);
}

TEST(frame_parser, oversize_frame_is_rejected_unparsed) {
  std::string huge(k_max_frame_bytes + 1, ' ');
  huge.front() = '[';
  huge.back() = ']';
  expect_frame_rejected(dialect::alpaca_stocks, huge, parse_error::too_large);
}

TEST(frame_parser, reuses_buffers_across_frames_of_different_sizes) {
  frame_parser parser(dialect::alpaca_stocks);
  std::vector<rules::event> out;
  // A long frame first: the buffer must not leak its tail into the shorter frames after it.
  std::string big = "[";
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) big += ",";
    big += R"({"T":"t","S":"NVDA","i":)" + std::to_string(i) +
           R"(,"x":"V","p":118.5,"s":10,"c":["@"],"z":"C","t":"2025-01-27T15:00:00Z"})";
  }
  big += "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
  EXPECT_EQ(parser.parse(big, out).error, parse_error::invalid_json);  // trailing brackets
  big.resize(big.find("]]]") + 1);
  EXPECT_EQ(parser.parse(big, out).events, 2000u);
  const auto truncated = parser.parse(R"([{"T":"t","S":"A","c":[1])", out);
  EXPECT_EQ(truncated.rejected, 1u);
  EXPECT_EQ(truncated.error, parse_error::invalid_json);
  const auto small =
      parser.parse(R"([{"T":"t","S":"A","i":1,"p":2.5,"s":1,"t":"2025-01-27T15:00:00Z"}])", out);
  EXPECT_EQ(small.events, 1u);
  EXPECT_EQ(out.size(), 2001u);
}

// ---- Alpaca stocks: control messages ----------------------------------------------------------

TEST(alpaca_stocks, control_messages) {
  struct row {
    const char* frame;
    kind what;
    int code;
    const char* message;
  };
  const row rows[] = {
      {R"([{"T":"success","msg":"connected"}])", kind::greeting, 0, "connected"},
      {R"([{"T":"success","msg":"authenticated"}])", kind::authenticated, 0, "authenticated"},
      {R"([{"T":"success","msg":"something new"}])", kind::other_status, 0, "something new"},
      {R"([{"T":"error","code":402,"msg":"auth failed"}])", kind::auth_failed, 402, "auth failed"},
      {R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])", kind::connection_limit,
       406, "connection limit exceeded"},
      {R"([{"T":"error","code":409,"msg":"insufficient subscription"}])", kind::error, 409,
       "insufficient subscription"},
      {R"([{"T":"error","code":404,"msg":"auth timeout"}])", kind::error, 404, "auth timeout"},
      {R"([{"T":"error","msg":"no code"}])", kind::error, 0, "no code"},
      {R"([{"T":"subscription","trades":["NVDA"],"quotes":["AVGO"],"bars":["*"],"updatedBars":[],)"
       R"("dailyBars":[],"statuses":[],"lulds":[],"corrections":["NVDA"],"cancelErrors":["NVDA"]}])",
       kind::subscription, 0, ""},
  };
  for (const row& r : rows) {
    const parsed p = parse(dialect::alpaca_stocks, r.frame);
    EXPECT_EQ(p.result.events, 0u) << r.frame;
    EXPECT_EQ(p.result.rejected, 0u) << r.frame;
    ASSERT_EQ(p.result.controls.size(), 1u) << r.frame;
    EXPECT_EQ(p.result.controls[0].what, r.what) << r.frame;
    EXPECT_EQ(p.result.controls[0].code, r.code) << r.frame;
    EXPECT_EQ(p.result.controls[0].message, r.message) << r.frame;
  }
}

// ---- Alpaca stocks: data messages -------------------------------------------------------------

TEST(alpaca_stocks, trade_from_the_docs) {
  const parsed p = parse(dialect::alpaca_stocks,
                         R"([{"T":"t","S":"AAPL","i":628,"x":"K","p":162.92,"s":3,)"
                         R"("c":["@","F","T","I"],"z":"C","t":"2023-04-06T11:54:26.838232225Z"}])");
  ASSERT_EQ(p.result.events, 1u);
  EXPECT_EQ(p.result.rejected, 0u);
  const auto& t = get<rules::trade>(p, 0);
  EXPECT_EQ(t.symbol, "AAPL");
  EXPECT_DOUBLE_EQ(t.price, 162.92);
  EXPECT_DOUBLE_EQ(t.size, 3);
  EXPECT_EQ(t.id, 628);
  EXPECT_EQ(t.time, at("2023-04-06T11:54:26Z") + 838232225);
}

TEST(alpaca_stocks, trade_id_beyond_double_precision_is_exact) {
  const parsed p =
      parse(dialect::alpaca_stocks, R"([{"T":"t","S":"BTC/USD","i":9007199254740993,"p":1,"s":0.5,)"
                                    R"("t":"2025-01-27T15:00:00Z"}])");
  ASSERT_EQ(p.result.events, 1u);
  EXPECT_EQ(get<rules::trade>(p, 0).id, 9007199254740993);
}

TEST(alpaca_stocks, quote_from_the_docs) {
  const parsed p = parse(dialect::alpaca_stocks,
                         R"([{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,)"
                         R"("as":4,"c":["R"],"z":"C","t":"2021-02-22T15:51:45.335689322Z"}])");
  ASSERT_EQ(p.result.events, 1u);
  const auto& q = get<rules::quote>(p, 0);
  EXPECT_EQ(q.symbol, "AMD");
  EXPECT_DOUBLE_EQ(q.bid, 87.66);
  EXPECT_DOUBLE_EQ(q.ask, 87.68);
  EXPECT_DOUBLE_EQ(q.bid_size, 1);
  EXPECT_DOUBLE_EQ(q.ask_size, 4);
  EXPECT_EQ(q.time, at("2021-02-22T15:51:45.335689322Z"));
}

TEST(alpaca_stocks, bars_minute_updated_and_daily) {
  const char* frame =
      R"([{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":412,)"
      R"("vw":389.05,"t":"2021-02-22T19:15:00Z"},)"
      R"({"T":"u","S":"SPY","o":388.985,"h":389.2,"l":388.975,"c":389.15,"v":49400,)"
      R"("t":"2021-02-22T19:15:00Z"},)"
      R"({"T":"d","S":"SPY","o":387.1,"h":389.2,"l":386.5,"c":389.15,"v":41234567,)"
      R"("t":"2021-02-22T05:00:00Z"}])";
  const parsed p = parse(dialect::alpaca_stocks, frame);
  ASSERT_EQ(p.result.events, 3u);
  EXPECT_EQ(p.result.rejected, 0u);

  const auto& b = get<rules::bar>(p, 0);
  EXPECT_EQ(b.symbol, "SPY");
  EXPECT_EQ(b.kind, rules::bar_kind::minute);
  EXPECT_DOUBLE_EQ(b.open, 388.985);
  EXPECT_DOUBLE_EQ(b.high, 389.13);
  EXPECT_DOUBLE_EQ(b.low, 388.975);
  EXPECT_DOUBLE_EQ(b.close, 389.12);
  EXPECT_DOUBLE_EQ(b.volume, 49378);
  EXPECT_EQ(b.start, at("2021-02-22T19:15:00Z"));
  EXPECT_EQ(b.end, at("2021-02-22T19:16:00Z"));  // `t` is the start; final a minute later

  const auto& u = get<rules::bar>(p, 1);
  EXPECT_EQ(u.kind, rules::bar_kind::updated_minute);
  EXPECT_EQ(u.start, at("2021-02-22T19:15:00Z"));  // same label: it replaces the bar
  EXPECT_EQ(u.end, at("2021-02-22T19:16:00Z"));
  EXPECT_DOUBLE_EQ(u.close, 389.15);

  const auto& d = get<rules::bar>(p, 2);
  EXPECT_EQ(d.kind, rules::bar_kind::daily);
  EXPECT_EQ(d.start, at("2021-02-22T05:00:00Z"));
  EXPECT_EQ(d.end, d.start);  // a running bar: its snapshot time is unknown
}

TEST(alpaca_stocks, trading_status_luld_correction_cancel) {
  const char* frame =
      R"([{"T":"s","S":"AAPL","sc":"H","sm":"Trading Halt","rc":"T12",)"
      R"("rm":"Trading Halted; For information requested by NASDAQ","t":"2021-02-22T19:15:00Z","z":"C"},)"
      R"({"T":"l","S":"AAPL","u":135.05,"d":122.15,"i":"B","t":"2021-02-22T19:15:01.5Z","z":"C"},)"
      R"({"T":"c","S":"AAPL","x":"V","oi":1001,"op":127.5,"os":100,"oc":["@"],"ci":1002,)"
      R"("cp":127.55,"cs":90,"cc":["@"],"z":"C","t":"2021-02-22T19:15:02Z"},)"
      R"({"T":"x","S":"AAPL","i":1003,"x":"V","p":127.6,"s":10,"a":"C","z":"C","t":"2021-02-22T19:15:03Z"},)"
      R"({"T":"x","S":"AAPL","i":1004,"x":"V","p":127.7,"s":20,"a":"E","z":"C","t":"2021-02-22T19:15:04Z"}])";
  const parsed p = parse(dialect::alpaca_stocks, frame);
  ASSERT_EQ(p.result.events, 5u);
  EXPECT_EQ(p.result.rejected, 0u);

  const auto& s = get<rules::trading_status>(p, 0);
  EXPECT_EQ(s.symbol, "AAPL");
  EXPECT_EQ(s.status_code, "H");
  EXPECT_EQ(s.status_message, "Trading Halt");
  EXPECT_EQ(s.reason_code, "T12");
  EXPECT_EQ(s.reason_message, "Trading Halted; For information requested by NASDAQ");
  EXPECT_EQ(s.time, at("2021-02-22T19:15:00Z"));

  const auto& l = get<rules::luld_band>(p, 1);
  EXPECT_DOUBLE_EQ(l.limit_up, 135.05);
  EXPECT_DOUBLE_EQ(l.limit_down, 122.15);
  EXPECT_EQ(l.indicator, "B");
  EXPECT_EQ(l.time, at("2021-02-22T19:15:01.500Z"));

  const auto& c = get<rules::trade_correction>(p, 2);
  EXPECT_EQ(c.original_id, 1001);
  EXPECT_DOUBLE_EQ(c.original_price, 127.5);
  EXPECT_DOUBLE_EQ(c.original_size, 100);
  EXPECT_EQ(c.corrected_id, 1002);
  EXPECT_DOUBLE_EQ(c.corrected_price, 127.55);
  EXPECT_DOUBLE_EQ(c.corrected_size, 90);

  const auto& x = get<rules::trade_cancel>(p, 3);
  EXPECT_EQ(x.id, 1003);
  EXPECT_DOUBLE_EQ(x.price, 127.6);
  EXPECT_DOUBLE_EQ(x.size, 10);
  EXPECT_FALSE(x.is_error);
  EXPECT_TRUE(get<rules::trade_cancel>(p, 4).is_error);
}

TEST(alpaca_stocks, batched_mixed_frame_with_unknown_types) {
  const char* frame =
      R"([{"T":"t","S":"NVDA","i":1,"x":"V","p":118.42,"s":100,"c":["@"],"z":"C","t":"2025-01-27T15:00:00.1Z"},)"
      R"({"T":"t","S":"AVGO","i":2,"x":"V","p":200.5,"s":5,"c":["@"],"z":"C","t":"2025-01-27T15:00:00.2Z"},)"
      R"({"T":"i","S":"NVDA","p":118.5,"z":"C","t":"2025-01-27T15:00:00.3Z"},)"
      R"({"T":"q","S":"NVDA","bp":118.4,"bs":2,"ap":118.45,"as":3,"t":"2025-01-27T15:00:00.4Z"},)"
      R"({"T":"brand_new","whatever":{"nested":[1,2,3]}},)"
      R"({"T":"n","id":1,"headline":"not on this endpoint","created_at":"2025-01-27T15:00:00Z"},)"
      R"({"T":"t","S":"NVDA","i":3,"x":"V","p":118.43,"s":7,"c":["@"],"z":"C","t":"2025-01-27T15:00:00.5Z"}])";
  const parsed p = parse(dialect::alpaca_stocks, frame);
  EXPECT_EQ(p.result.events, 4u);
  EXPECT_EQ(p.result.ignored, 3u);  // imbalance, brand_new, news on the stock stream
  EXPECT_EQ(p.result.rejected, 0u);
  EXPECT_EQ(p.result.error, parse_error::none);
  EXPECT_EQ(get<rules::trade>(p, 0).symbol, "NVDA");
  EXPECT_EQ(get<rules::trade>(p, 1).symbol, "AVGO");
  EXPECT_EQ(get<rules::quote>(p, 2).symbol, "NVDA");
  EXPECT_EQ(get<rules::trade>(p, 3).id, 3);
}

TEST(alpaca_stocks, fractional_seconds_of_any_length) {
  struct row {
    const char* time;
    time_ns nanos;
  };
  const row rows[] = {
      {"2025-01-27T14:30:00Z", 0},
      {"2025-01-27T14:30:00.2Z", 200'000'000},
      {"2025-01-27T14:30:00.208Z", 208'000'000},
      {"2025-01-27T14:30:00.208123Z", 208'123'000},
      {"2025-01-27T14:30:00.83540958Z", 835'409'580},
      {"2025-01-27T14:30:00.838232225Z", 838'232'225},
  };
  for (const row& r : rows) {
    const std::string frame =
        std::string(R"([{"T":"t","S":"NVDA","i":1,"p":118.42,"s":1,"t":")") + r.time + "\"}]";
    const parsed p = parse(dialect::alpaca_stocks, frame);
    ASSERT_EQ(p.result.events, 1u) << r.time;
    EXPECT_EQ(get<rules::trade>(p, 0).time, at("2025-01-27T14:30:00Z") + r.nanos) << r.time;
  }
}

// The parsers read the usual "YYYY-MM-DDTHH:MM:SS[.f]Z" the fast way and everything else the
// general way: both must agree with rules::parse_rfc3339 plus the calendar and event-time
// window checks, on valid times and near misses alike.
TEST(alpaca_stocks, fast_and_general_time_reading_agree) {
  std::mt19937_64 random(20250127);
  auto pick = [&](int lo, int hi) {
    return lo + static_cast<int>(random() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  auto expected = [](const std::string& text) -> std::optional<time_ns> {
    const std::optional<time_ns> t = rules::parse_rfc3339(text);
    if (!t) return std::nullopt;
    const int year = std::stoi(text.substr(0, 4)), month = std::stoi(text.substr(5, 2)),
              day = std::stoi(text.substr(8, 2));
    static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int days = month == 2 && leap ? 29 : k_days[month - 1];
    if (day > days || *t < k_earliest_event_time || *t >= k_latest_event_time) return std::nullopt;
    return t;
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", pick(1988, 2203),
                  pick(0, 13), pick(0, 32), pick(0, 24), pick(0, 60), pick(0, 61));
    std::string t = text;
    const int digits = pick(0, 11);
    if (digits > 0) {
      t += '.';
      for (int d = 0; d < digits; ++d) t += static_cast<char>('0' + pick(0, 9));
    }
    switch (pick(0, 5)) {
      case 0: t += "+05:30"; break;
      case 1: t += "z"; break;
      default: t += "Z"; break;
    }
    const std::optional<time_ns> want = expected(t);
    const parsed p =
        parse(dialect::alpaca_stocks, R"([{"T":"t","S":"A","i":1,"p":1,"s":1,"t":")" + t + "\"}]");
    if (want) {
      ++accepted;
      ASSERT_EQ(p.result.events, 1u) << t;
      EXPECT_EQ(get<rules::trade>(p, 0).time, *want) << t;
    } else {
      EXPECT_EQ(p.result.events, 0u) << t;
      EXPECT_EQ(p.result.rejected, 1u) << t;
    }
  }
  EXPECT_GT(accepted, 1000);  // the sample reaches both ways
}

TEST(alpaca_stocks, tag_need_not_come_first) {
  const parsed p =
      parse(dialect::alpaca_stocks,
            R"([{"S":"NVDA","p":118.42,"s":100,"t":"2025-01-27T15:00:00Z","i":9,"T":"t"},)"
            R"({"c":120.5,"S":"NVDA","o":118,"h":121,"l":117.5,"v":1000,)"
            R"("t":"2025-01-27T15:00:00Z","T":"b"}])");
  ASSERT_EQ(p.result.events, 2u);
  EXPECT_EQ(get<rules::trade>(p, 0).id, 9);
  EXPECT_DOUBLE_EQ(get<rules::bar>(p, 1).close, 120.5);
}

TEST(alpaca_stocks, a_bad_field_another_type_uses_does_not_reject) {
  // "u" is a LULD limit; "sc" a status code: irrelevant to a trade, so their garbage is ignored.
  const parsed p =
      parse(dialect::alpaca_stocks, R"([{"T":"t","S":"NVDA","i":1,"p":118.42,"s":1,"u":"x","sc":5,)"
                                    R"("t":"2025-01-27T15:00:00Z"}])");
  EXPECT_EQ(p.result.events, 1u);
  EXPECT_EQ(p.result.rejected, 0u);
  // Nor does a bad field in a message type we ignore.
  const parsed q = parse(dialect::alpaca_stocks, R"([{"T":"i","S":"NVDA","p":"oops","t":5}])");
  EXPECT_EQ(q.result.ignored, 1u);
  EXPECT_EQ(q.result.rejected, 0u);
}

TEST(frame_parser, wrong_shape_versus_not_json) {
  // Complete JSON values of the wrong type are a shape problem...
  for (const char* frame : {"42", "-1.5e3", R"("text")", "true", "false", "null", "{}", "[]"}) {
    const dialect d = frame[0] == '[' ? dialect::finnhub : dialect::alpaca_stocks;
    expect_frame_rejected(d, frame, parse_error::unexpected_shape);
  }
  expect_frame_rejected(dialect::binance, R"([{"e":"trade"},[1,{"a":[]}]])",
                        parse_error::unexpected_shape);
  // ... anything that is not JSON, or not only one JSON value, is invalid.
  for (const char* frame : {"nul", "nulls", "tru", "falsey", "+1", "1 2", R"("open)", "{}}", "[]]",
                            "{} {}", "{\"a\"}", "'x'", "\x01", "[1] [2]", R"("a" "b")"}) {
    expect_frame_rejected(dialect::alpaca_stocks, frame, parse_error::invalid_json);
    expect_frame_rejected(dialect::finnhub, frame, parse_error::invalid_json);
  }
}

TEST(alpaca_stocks, wrong_top_level_shape) {
  expect_frame_rejected(dialect::alpaca_stocks,
                        R"({"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z"})",
                        parse_error::unexpected_shape);
  expect_frame_rejected(dialect::alpaca_stocks, "42", parse_error::unexpected_shape);
  expect_frame_rejected(dialect::alpaca_stocks, R"("text")", parse_error::unexpected_shape);
  expect_frame_rejected(dialect::alpaca_stocks, "null", parse_error::unexpected_shape);
}

TEST(alpaca_stocks, empty_array_is_fine) {
  const parsed p = parse(dialect::alpaca_stocks, "[]");
  EXPECT_EQ(p.result.events, 0u);
  EXPECT_EQ(p.result.rejected, 0u);
  EXPECT_EQ(p.result.error, parse_error::none);
}

TEST(alpaca_stocks, invalid_and_truncated_frames) {
  const dialect d = dialect::alpaca_stocks;
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z"})",
                        parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z")",
                        parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T1)",
                        parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z"}]])",
                        parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"success","msg":"connected"}] [])", parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t" "S":"NVDA"}])", parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t",}])", parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA"},])", parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA"}] x)", parse_error::invalid_json);
  expect_frame_rejected(d, R"([{"T":"t","S":"NVDA"}] {})", parse_error::invalid_json);
  // On-demand parsing does not validate values it skips, so a broken condition list (which no
  // event keeps) is not noticed as such; the element is still rejected, for what it lacks.
  const parsed skipped = parse(d, R"([{"T":"t","c":["@",]}])");
  EXPECT_EQ(skipped.result.rejected, 1u);
  EXPECT_EQ(skipped.result.events, 0u);
  // A truncated batch emits none of its complete elements.
  expect_frame_rejected(
      d, R"([{"T":"t","S":"NVDA","i":1,"p":1,"s":1,"t":"2025-01-27T15:00:00Z"},{"T":"t","S":"NV)",
      parse_error::invalid_json);
  expect_frame_rejected(
      d, R"([{"T":"t","S":"NVDA","i":1,"p":1,"s":1,"t":"2025-01-27T15:00:00Z"},{"T":"t","S":"A"})",
      parse_error::invalid_json);
}

TEST(alpaca_stocks, malformed_elements_are_rejected_and_the_rest_emitted) {
  const char* frame =
      R"([{"T":"t","S":"NVDA","i":1,"p":118.42,"s":100,"t":"2025-01-27T15:00:00Z"},)"
      R"(17,)"
      R"({"T":"t","S":"NVDA","i":2,"p":-1,"s":100,"t":"2025-01-27T15:00:00Z"},)"
      R"({"T":"t","i":3,"p":118,"s":100,"t":"2025-01-27T15:00:00Z"},)"
      R"(["T","t"],)"
      R"({"T":"t","S":"NVDA","i":4,"p":118.44,"s":100,"t":"2025-01-27T15:00:00Z"}])";
  const parsed p = parse(dialect::alpaca_stocks, frame);
  EXPECT_EQ(p.result.events, 2u);
  EXPECT_EQ(p.result.rejected, 4u);
  EXPECT_EQ(p.result.error, parse_error::unexpected_shape);  // the first reason: the bare 17
  EXPECT_EQ(get<rules::trade>(p, 0).id, 1);
  EXPECT_EQ(get<rules::trade>(p, 1).id, 4);
}

TEST(alpaca_stocks, missing_fields) {
  const dialect d = dialect::alpaca_stocks;
  expect_element_rejected(d, R"([{"S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);  // no T
  expect_element_rejected(d, R"([{"T":"t","p":1,"s":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"t","S":"NVDA","s":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"s":1}])", parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"t","S":"NVDA","p":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"q","S":"NVDA","bp":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(
      d, R"([{"T":"b","S":"NVDA","o":1,"h":1,"l":1,"v":1,"t":"2025-01-27T15:00:00Z"}])",
      parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"l","S":"NVDA","u":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(
      d, R"([{"T":"c","S":"NVDA","oi":1,"op":1,"os":1,"ci":2,"cp":1,"t":"2025-01-27T15:00:00Z"}])",
      parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"x","S":"NVDA","p":1,"s":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"s","sc":"H","t":"2025-01-27T15:00:00Z"}])",
                          parse_error::missing_field);
}

TEST(alpaca_stocks, bad_values) {
  const dialect d = dialect::alpaca_stocks;
  auto trade_with = [](const std::string& field) {
    return R"([{"T":"t","S":"NVDA","i":1,"p":118.42,"s":100,"t":"2025-01-27T15:00:00Z",)" + field +
           "}]";
  };
  // Later duplicates of a key overwrite earlier ones, which is how these replace good values.
  for (const char* field : {R"("p":0)",
                            R"("p":-118.42)",
                            R"("p":"118.42")",
                            R"("p":null)",
                            R"("p":1e400)",
                            R"("p":true)",
                            R"("p":[118.42])",
                            R"("p":{"v":1})",
                            R"("s":-1)",
                            R"("s":"100")",
                            R"("S":"")",
                            R"("S":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456")",
                            R"("S":7)",
                            R"("i":1.5)",
                            R"("i":"628")",
                            R"("i":99999999999999999999)",
                            R"("t":"2300-01-01T00:00:00Z")",
                            R"("t":"9999-12-31T23:59:59.999999999Z")",
                            R"("t":"1980-01-01T00:00:00Z")",
                            R"("t":"0000-01-01T00:00:00Z")",
                            R"("t":"2025-02-30T00:00:00Z")",
                            R"("t":"2025-01-27 garbage")",
                            R"("t":"2025-01-27T15:00:00")",
                            R"("t":"")",
                            R"("t":1737990000000)",
                            R"("T":5)",
                            R"("T":null)"}) {
    expect_element_rejected(d, trade_with(field), parse_error::bad_value);
  }
  // Not JSON numbers at all: an on-demand parser sees the wrong type for the field.
  for (const char* field : {R"("p":NaN)", R"("p":Infinity)", R"("p":-inf)"}) {
    const parsed p = parse(d, trade_with(field));
    EXPECT_EQ(p.result.events, 0u) << field;
    EXPECT_EQ(p.result.rejected, 1u) << field;
  }
  // The symbol limit is inclusive.
  EXPECT_EQ(parse(d, trade_with(R"("S":"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")")).result.events, 1u);
  // A bar whose low is above its high, a zero close, a negative volume.
  const char* bar =
      R"([{"T":"b","S":"SPY","o":10,"h":9,"l":11,"c":10,"v":1,"t":"2025-01-27T15:00:00Z"}])";
  expect_element_rejected(d, bar, parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"b","S":"SPY","o":10,"h":11,"l":9,"c":0,"v":1,"t":"2025-01-27T15:00:00Z"}])",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"b","S":"SPY","o":10,"h":11,"l":9,"c":10,"v":-5,"t":"2025-01-27T15:00:00Z"}])",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"b","S":"SPY","o":10,"h":11,"l":9,"c":"10","v":5,"t":"2025-01-27T15:00:00Z"}])",
      parse_error::bad_value);
  // A cancel that is neither a cancel nor an error; a LULD band at zero.
  expect_element_rejected(
      d, R"([{"T":"x","S":"A","i":1,"p":1,"s":1,"a":"Q","t":"2025-01-27T15:00:00Z"}])",
      parse_error::bad_value);
  expect_element_rejected(d, R"([{"T":"l","S":"A","u":0,"d":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::bad_value);
  // Quotes may be zero on a side with no interest, but not negative.
  EXPECT_EQ(
      parse(d, R"([{"T":"q","S":"A","bp":0,"ap":1,"t":"2025-01-27T15:00:00Z"}])").result.events,
      1u);
  expect_element_rejected(d, R"([{"T":"q","S":"A","bp":-1,"ap":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::bad_value);
}

TEST(alpaca_stocks, time_zone_offsets_are_normalised_to_utc) {
  const parsed p = parse(dialect::alpaca_stocks,
                         R"([{"T":"t","S":"A","p":1,"s":1,"t":"2025-01-27T10:00:00-05:00"}])");
  ASSERT_EQ(p.result.events, 1u);
  EXPECT_EQ(get<rules::trade>(p, 0).time, at("2025-01-27T15:00:00Z"));
}

// ---- Alpaca news ------------------------------------------------------------------------------

TEST(alpaca_news, news_item_from_the_docs) {
  const parsed p = parse(
      dialect::alpaca_news,
      R"([{"T":"n","id":24918784,"headline":"Corsair Reports Purchase Of Majority Ownership In iDisplay, No Terms Disclosed",)"
      R"("summary":"Corsair Gaming said ...","author":"Benzinga Newsdesk","created_at":"2022-01-05T22:00:37Z",)"
      R"("updated_at":"2022-01-05T22:00:38Z","url":"https://www.benzinga.com/news/22/01/24918784/corsair",)"
      R"("content":"<p>Corsair Gaming, Inc. (NASDAQ:<a class=\"ticker\" href=\"x\">CRSR</a>) ...</p>",)"
      R"("symbols":["CRSR"],"source":"benzinga"}])");
  ASSERT_EQ(p.result.events, 1u);
  EXPECT_EQ(p.result.rejected, 0u);
  const auto& n = get<rules::news>(p, 0);
  EXPECT_EQ(n.id, "24918784");
  EXPECT_EQ(n.headline,
            "Corsair Reports Purchase Of Majority Ownership In iDisplay, No Terms Disclosed");
  EXPECT_EQ(n.summary, "Corsair Gaming said ...");
  EXPECT_EQ(n.url, "https://www.benzinga.com/news/22/01/24918784/corsair");
  EXPECT_EQ(n.source, "benzinga");
  EXPECT_EQ(n.lang, "");
  EXPECT_EQ(n.symbols, std::vector<std::string>{"CRSR"});
  EXPECT_EQ(n.time, at("2022-01-05T22:00:37Z"));
  EXPECT_EQ(n.updated, at("2022-01-05T22:00:38Z"));
}

TEST(alpaca_news, escapes_are_unescaped_and_optional_fields_default) {
  const parsed p = parse(dialect::alpaca_news,
                         R"([{"T":"n","id":"abc-1","headline":"Nvidia \"drops\" \u2014 17%\n",)"
                         R"("created_at":"2025-01-27T14:31:00.5Z","symbols":[]}])");
  ASSERT_EQ(p.result.events, 1u);
  const auto& n = get<rules::news>(p, 0);
  EXPECT_EQ(n.id, "abc-1");
  EXPECT_EQ(n.headline, "Nvidia \"drops\" \xE2\x80\x94 17%\n");
  EXPECT_TRUE(n.symbols.empty());
  EXPECT_EQ(n.updated, 0);
  EXPECT_EQ(n.summary, "");
}

TEST(alpaca_news, controls_batches_and_the_stock_types_it_ignores) {
  const parsed p = parse(
      dialect::alpaca_news,
      R"([{"T":"subscription","news":["*"]},)"
      R"({"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","symbols":["NVDA","AVGO"]},)"
      R"({"T":"t","S":"NVDA","p":1,"s":1,"t":"2025-01-27T14:00:00Z"},)"
      R"({"T":"n","id":2,"headline":"B","created_at":"2025-01-27T14:00:01Z","symbols":["TSM"]}])");
  EXPECT_EQ(p.result.events, 2u);
  EXPECT_EQ(p.result.ignored, 1u);
  ASSERT_EQ(p.result.controls.size(), 1u);
  EXPECT_EQ(p.result.controls[0].what, kind::subscription);
  EXPECT_EQ(get<rules::news>(p, 0).symbols, (std::vector<std::string>{"NVDA", "AVGO"}));
  EXPECT_EQ(get<rules::news>(p, 1).id, "2");

  const parsed e = parse(dialect::alpaca_news, R"([{"T":"error","code":402,"msg":"auth failed"}])");
  ASSERT_EQ(e.result.controls.size(), 1u);
  EXPECT_EQ(e.result.controls[0].what, kind::auth_failed);
}

TEST(alpaca_news, malformed_items) {
  const dialect d = dialect::alpaca_news;
  expect_element_rejected(d, R"([{"T":"n","headline":"A","created_at":"2025-01-27T14:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"n","id":1,"created_at":"2025-01-27T14:00:00Z"}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"T":"n","id":1,"headline":"A"}])", parse_error::missing_field);
  expect_element_rejected(d,
                          R"([{"T":"n","id":1,"headline":"","created_at":"2025-01-27T14:00:00Z"}])",
                          parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"n","id":1.5,"headline":"A","created_at":"2025-01-27T14:00:00Z"}])",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","symbols":[1]}])",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","symbols":[""]}])",
      parse_error::bad_value);
  expect_element_rejected(
      d,
      R"([{"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","symbols":"NVDA"}])",
      parse_error::bad_value);
  expect_element_rejected(
      d,
      R"([{"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","updated_at":"x"}])",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"([{"T":"n","id":1,"headline":"A","created_at":"2301-01-01T00:00:00Z"}])",
      parse_error::bad_value);
  // "symbols": null is an empty list.
  EXPECT_EQ(
      parse(
          d,
          R"([{"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z","symbols":null}])")
          .result.events,
      1u);
  expect_frame_rejected(d, R"({"T":"n","id":1,"headline":"A","created_at":"2025-01-27T14:00:00Z"})",
                        parse_error::unexpected_shape);
}

// ---- Finnhub ----------------------------------------------------------------------------------

TEST(finnhub, trades_from_the_docs) {
  const parsed p =
      parse(dialect::finnhub, R"({"type":"trade","data":[{"p":7296.89,"s":"BINANCE:BTCUSDT",)"
                              R"("t":1575526691134,"v":0.011467}]})");
  ASSERT_EQ(p.result.events, 1u);
  const auto& t = get<rules::trade>(p, 0);
  EXPECT_EQ(t.symbol, "BINANCE:BTCUSDT");
  EXPECT_DOUBLE_EQ(t.price, 7296.89);
  EXPECT_DOUBLE_EQ(t.size, 0.011467);
  EXPECT_EQ(t.time, 1575526691134 * rules::k_ns_per_ms);
  EXPECT_EQ(t.id, 0);
}

TEST(finnhub, data_before_type_mixed_symbols_and_conditions) {
  // Finnhub writes keys alphabetically, so "data" precedes "type".
  const parsed p =
      parse(dialect::finnhub,
            R"({"data":[{"c":["1","8","24","12"],"p":410.5,"s":"TSLA","t":1737990000123,"v":100},)"
            R"({"c":null,"p":229.1,"s":"AAPL","t":1737990000124,"v":0},)"
            R"({"p":229.2,"s":"AAPL","t":1737990000125}],"type":"trade"})");
  ASSERT_EQ(p.result.events, 3u);
  EXPECT_EQ(p.result.rejected, 0u);
  EXPECT_EQ(get<rules::trade>(p, 0).symbol, "TSLA");
  EXPECT_EQ(get<rules::trade>(p, 1).symbol, "AAPL");
  EXPECT_DOUBLE_EQ(get<rules::trade>(p, 1).size, 0);  // a price-only update
  EXPECT_DOUBLE_EQ(get<rules::trade>(p, 2).size, 0);  // v absent reads the same
  EXPECT_EQ(get<rules::trade>(p, 2).time, 1737990000125 * rules::k_ns_per_ms);
}

TEST(finnhub, news_with_id_or_url_id_and_related_symbols) {
  const parsed p = parse(
      dialect::finnhub,
      R"({"type":"news","data":[{"category":"company","datetime":1679920200,"headline":"Headline one",)"
      R"("id":119440189,"image":"https://img","related":"CVVUF","source":"Yahoo","summary":"S",)"
      R"("url":"https://u/1"},)"
      R"({"datetime":1679920201,"headline":"Headline two","urlId":"u-77","related":"PAE, ZIXI,KRA,",)"
      R"("source":"Yahoo"},)"
      R"({"datetime":1679920202,"headline":"Headline three","id":5,"related":""}]})");
  ASSERT_EQ(p.result.events, 3u);
  const auto& a = get<rules::news>(p, 0);
  EXPECT_EQ(a.id, "119440189");
  EXPECT_EQ(a.headline, "Headline one");
  EXPECT_EQ(a.summary, "S");
  EXPECT_EQ(a.url, "https://u/1");
  EXPECT_EQ(a.source, "Yahoo");
  EXPECT_EQ(a.symbols, std::vector<std::string>{"CVVUF"});
  EXPECT_EQ(a.time, 1679920200 * rules::k_ns_per_s);
  EXPECT_EQ(a.updated, 0);
  const auto& b = get<rules::news>(p, 1);
  EXPECT_EQ(b.id, "u-77");
  EXPECT_EQ(b.symbols, (std::vector<std::string>{"PAE", "ZIXI", "KRA"}));
  EXPECT_TRUE(get<rules::news>(p, 2).symbols.empty());
}

TEST(finnhub, ping_error_and_unknown_types) {
  const parsed ping = parse(dialect::finnhub, R"({"type":"ping"})");
  ASSERT_EQ(ping.result.controls.size(), 1u);
  EXPECT_EQ(ping.result.controls[0].what, kind::ping);
  EXPECT_EQ(ping.result.events, 0u);

  const parsed error = parse(dialect::finnhub, R"({"type":"error","msg":"Invalid symbol XYZ"})");
  ASSERT_EQ(error.result.controls.size(), 1u);
  EXPECT_EQ(error.result.controls[0].what, kind::error);
  EXPECT_EQ(error.result.controls[0].message, "Invalid symbol XYZ");

  const parsed pr = parse(dialect::finnhub,
                          R"({"type":"pr","data":[{"datetime":1679920200,"headline":"h",)"
                          R"("symbol":"PAE,ZIXI,KRA","fullText":"https://x","url":"https://x"}]})");
  EXPECT_EQ(pr.result.ignored, 1u);
  EXPECT_EQ(pr.result.rejected, 0u);
  EXPECT_EQ(parse(dialect::finnhub, R"({"type":"brand-new","data":5})").result.ignored, 1u);
}

TEST(finnhub, malformed_frames) {
  const dialect d = dialect::finnhub;
  expect_frame_rejected(d, R"([{"type":"ping"}])", parse_error::unexpected_shape);
  expect_frame_rejected(d, R"({"data":[]})", parse_error::missing_field);
  expect_frame_rejected(d, R"({"type":7})", parse_error::bad_value);
  expect_frame_rejected(d, R"({"type":"trade"})", parse_error::missing_field);
  expect_frame_rejected(d, R"({"type":"trade","data":{"p":1}})", parse_error::unexpected_shape);
  expect_frame_rejected(d, R"({"type":"news","data":null})", parse_error::unexpected_shape);
  expect_frame_rejected(d, R"({"type":"trade","data":[{"p":1,"s":"A","t":1575526691134}])",
                        parse_error::invalid_json);
  expect_frame_rejected(d, R"({"type":"ping"}{"type":"ping"})", parse_error::invalid_json);
}

TEST(finnhub, malformed_items_are_rejected_one_by_one) {
  const parsed p =
      parse(dialect::finnhub,
            R"({"type":"trade","data":[{"p":1,"s":"A","t":1575526691134,"v":1},)"
            R"({"p":-1,"s":"A","t":1575526691134,"v":1},)"
            R"({"p":1,"s":"A","t":1575526691,"v":1},)"  // seconds where ms belong: 1970
            R"({"p":1,"s":"A","t":"1575526691134","v":1},)"
            R"({"p":1,"t":1575526691134,"v":1},)"
            R"({"p":1,"s":"A","t":1575526691134,"v":-3},)"
            R"("x",)"
            R"({"p":2,"s":"B","t":1575526691135,"v":1}]})");
  EXPECT_EQ(p.result.events, 2u);
  EXPECT_EQ(p.result.rejected, 6u);
  EXPECT_EQ(p.result.error, parse_error::bad_value);
  EXPECT_EQ(get<rules::trade>(p, 1).symbol, "B");

  const dialect d = dialect::finnhub;
  expect_element_rejected(d, R"({"type":"news","data":[{"datetime":1679920200,"headline":"h"}]})",
                          parse_error::missing_field);  // neither id nor urlId
  expect_element_rejected(
      d, R"({"type":"news","data":[{"datetime":1679920200,"id":1,"headline":""}]})",
      parse_error::bad_value);
  expect_element_rejected(d, R"({"type":"news","data":[{"id":1,"headline":"h"}]})",
                          parse_error::missing_field);
  expect_element_rejected(
      d, R"({"type":"news","data":[{"datetime":1679920200000,"id":1,"headline":"h"}]})",
      parse_error::bad_value);  // ms where seconds belong: year 55000
  expect_element_rejected(
      d,
      R"({"type":"news","data":[{"datetime":1679920200,"id":1,"headline":"h","related":"A,ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}]})",
      parse_error::bad_value);
}

// ---- Polygon ----------------------------------------------------------------------------------

TEST(polygon, status_messages) {
  struct row {
    const char* status;
    kind what;
  };
  const row rows[] = {
      {"connected", kind::greeting},
      {"auth_success", kind::authenticated},
      {"auth_failed", kind::auth_failed},
      {"auth_timeout", kind::error},
      {"success", kind::subscription},
      {"error", kind::error},
      {"max_connections", kind::connection_limit},
      {"novel", kind::other_status},
  };
  for (const row& r : rows) {
    const std::string frame = std::string(R"([{"ev":"status","status":")") + r.status +
                              R"(","message":"text for )" + r.status + "\"}]";
    const parsed p = parse(dialect::polygon_stocks, frame);
    ASSERT_EQ(p.result.controls.size(), 1u) << frame;
    EXPECT_EQ(p.result.controls[0].what, r.what) << frame;
    EXPECT_EQ(p.result.controls[0].message, std::string("text for ") + r.status);
    EXPECT_EQ(p.result.events, 0u);
  }
  // One success per subscribed item, possibly in one frame.
  const parsed acks =
      parse(dialect::polygon_stocks,
            R"([{"ev":"status","status":"success","message":"subscribed to: T.NVDA"},)"
            R"({"ev":"status","status":"success","message":"subscribed to: AM.*"}])");
  EXPECT_EQ(acks.result.controls.size(), 2u);
}

TEST(polygon, trade_and_quote_from_the_spec) {
  const parsed p = parse(
      dialect::polygon_stocks,
      R"([{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],)"
      R"("t":1536036818784,"q":3681328},)"
      R"({"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,)"
      R"("i":[604],"t":1536036818784,"q":50385480,"z":3}])");
  ASSERT_EQ(p.result.events, 2u);
  const auto& t = get<rules::trade>(p, 0);
  EXPECT_EQ(t.symbol, "MSFT");
  EXPECT_DOUBLE_EQ(t.price, 114.125);
  EXPECT_DOUBLE_EQ(t.size, 100);
  EXPECT_EQ(t.id, 12345);
  EXPECT_EQ(t.time, 1536036818784 * rules::k_ns_per_ms);
  const auto& q = get<rules::quote>(p, 1);
  EXPECT_DOUBLE_EQ(q.bid, 114.125);
  EXPECT_DOUBLE_EQ(q.ask, 114.128);
  EXPECT_DOUBLE_EQ(q.bid_size, 100);
  EXPECT_DOUBLE_EQ(q.ask_size, 160);
  EXPECT_EQ(q.time, 1536036818784 * rules::k_ns_per_ms);
}

TEST(polygon, trade_id_and_exchange_in_either_type) {
  const parsed p =
      parse(dialect::polygon_stocks,
            R"([{"ev":"T","sym":"A","x":"4","i":777,"p":1,"s":1,"t":1536036818784},)"
            R"({"ev":"T","sym":"A","x":4,"i":"not-a-number","p":1,"s":1,"t":1536036818785}])");
  ASSERT_EQ(p.result.events, 2u);
  EXPECT_EQ(get<rules::trade>(p, 0).id, 777);
  EXPECT_EQ(get<rules::trade>(p, 1).id, 0);  // unreadable ids cost the label, not the print
}

TEST(polygon, aggregates_per_second_and_minute) {
  const parsed p = parse(
      dialect::polygon_stocks,
      R"([{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,)"
      R"("c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000},)"
      R"({"ev":"A","sym":"GTE","v":10,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,)"
      R"("s":1610144640000,"e":1610144641000}])");
  ASSERT_EQ(p.result.events, 2u);
  const auto& am = get<rules::bar>(p, 0);
  EXPECT_EQ(am.kind, rules::bar_kind::minute);
  EXPECT_EQ(am.symbol, "GTE");
  EXPECT_DOUBLE_EQ(am.open, 0.4488);
  EXPECT_DOUBLE_EQ(am.high, 0.4489);
  EXPECT_DOUBLE_EQ(am.low, 0.4486);
  EXPECT_DOUBLE_EQ(am.close, 0.4486);
  EXPECT_DOUBLE_EQ(am.volume, 4110);
  EXPECT_EQ(am.start, 1610144640000 * rules::k_ns_per_ms);
  EXPECT_EQ(am.end, 1610144700000 * rules::k_ns_per_ms);
  const auto& a = get<rules::bar>(p, 1);
  EXPECT_EQ(a.kind, rules::bar_kind::second);
  EXPECT_EQ(a.end - a.start, rules::k_ns_per_s);
}

TEST(polygon, mixed_batch_ignores_other_channels) {
  const parsed p =
      parse(dialect::polygon_stocks,
            R"([{"ev":"T","sym":"NVDA","i":"1","x":4,"p":118.42,"s":100,"t":1737990000000},)"
            R"({"ev":"LULD","T":"NVDA","h":130,"l":110,"t":1737990000001},)"
            R"({"ev":"NOI","T":"NVDA"},)"
            R"({"ev":"T","sym":"AVGO","i":"2","x":4,"p":200.1,"s":5,"t":1737990000002}])");
  EXPECT_EQ(p.result.events, 2u);
  EXPECT_EQ(p.result.ignored, 2u);
  EXPECT_EQ(p.result.rejected, 0u);
}

TEST(polygon, malformed) {
  const dialect d = dialect::polygon_stocks;
  expect_frame_rejected(d, R"({"ev":"status","status":"connected"})",
                        parse_error::unexpected_shape);
  expect_frame_rejected(d, R"([{"ev":"T","sym":"A","p":1,"s":1,"t":1737990000000})",
                        parse_error::invalid_json);
  expect_element_rejected(d, R"([{"sym":"A","p":1,"s":1,"t":1737990000000}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"ev":"T","sym":"A","s":1,"t":1737990000000}])",
                          parse_error::missing_field);
  expect_element_rejected(d, R"([{"ev":"T","sym":"A","p":0,"s":1,"t":1737990000000}])",
                          parse_error::bad_value);
  expect_element_rejected(d, R"([{"ev":"T","sym":"A","p":1,"s":1,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::bad_value);
  expect_element_rejected(d, R"([{"ev":"T","sym":"A","p":1,"s":1,"t":1737990000}])",
                          parse_error::bad_value);  // seconds, not ms
  expect_element_rejected(d, R"([{"ev":"T","sym":"A","p":1,"s":1,"t":99999999999999999}])",
                          parse_error::bad_value);
  expect_element_rejected(
      d,
      R"([{"ev":"AM","sym":"A","o":1,"h":1,"l":1,"c":1,"v":1,"s":1610144700000,"e":1610144640000}])",
      parse_error::bad_value);  // ends before it starts
  expect_element_rejected(
      d, R"([{"ev":"AM","sym":"A","o":1,"h":1,"l":1,"c":1,"v":1,"s":1610144640000}])",
      parse_error::missing_field);
}

// ---- Binance ----------------------------------------------------------------------------------

TEST(binance, raw_trade_from_the_docs) {
  const parsed p = parse(dialect::binance,
                         R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001",)"
                         R"("q":"100","T":1672515782136,"m":true,"M":true})");
  ASSERT_EQ(p.result.events, 1u);
  const auto& t = get<rules::trade>(p, 0);
  EXPECT_EQ(t.symbol, "BNBBTC");
  EXPECT_DOUBLE_EQ(t.price, 0.001);
  EXPECT_DOUBLE_EQ(t.size, 100);
  EXPECT_EQ(t.id, 12345);
  EXPECT_EQ(t.time, 1672515782136 * rules::k_ns_per_ms);
}

TEST(binance, combined_stream_agg_trade_and_numbers_for_strings) {
  const parsed c = parse(dialect::binance,
                         R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1737990000001,)"
                         R"("s":"BTCUSDT","t":4567890123,"p":"101234.56000000","q":"0.00120000",)"
                         R"("T":1737990000000,"m":false,"M":true}})");
  ASSERT_EQ(c.result.events, 1u);
  EXPECT_EQ(get<rules::trade>(c, 0).symbol, "BTCUSDT");
  EXPECT_DOUBLE_EQ(get<rules::trade>(c, 0).price, 101234.56);
  EXPECT_EQ(get<rules::trade>(c, 0).id, 4567890123);

  // data first, and the wrapper's own keys after it
  const parsed d = parse(
      dialect::binance,
      R"({"data":{"e":"aggTrade","E":1,"s":"ETHUSDT","a":26129,"p":"3200.5",)"
      R"("q":"1.5","f":100,"l":105,"T":1737990000000,"m":true},"stream":"ethusdt@aggTrade"})");
  ASSERT_EQ(d.result.events, 1u);
  EXPECT_EQ(get<rules::trade>(d, 0).id, 26129);
  EXPECT_DOUBLE_EQ(get<rules::trade>(d, 0).size, 1.5);

  const parsed n =
      parse(dialect::binance,
            R"({"e":"trade","s":"BTCUSDT","t":1,"p":101234.5,"q":2,"T":1737990000000})");
  ASSERT_EQ(n.result.events, 1u);
  EXPECT_DOUBLE_EQ(get<rules::trade>(n, 0).price, 101234.5);
}

TEST(binance, control_frames) {
  const parsed ack = parse(dialect::binance, R"({"result":null,"id":1})");
  ASSERT_EQ(ack.result.controls.size(), 1u);
  EXPECT_EQ(ack.result.controls[0].what, kind::subscription);
  EXPECT_EQ(ack.result.controls[0].message, "id=1");
  EXPECT_EQ(parse(dialect::binance, R"({"result":["btcusdt@trade"],"id":"list-3"})")
                .result.controls.at(0)
                .message,
            "id=list-3");

  const parsed shutdown = parse(dialect::binance, R"({"e":"serverShutdown","E":1737990000000})");
  ASSERT_EQ(shutdown.result.controls.size(), 1u);
  EXPECT_EQ(shutdown.result.controls[0].what, kind::server_shutdown);
  const parsed combined_shutdown = parse(
      dialect::binance, R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}})");
  ASSERT_EQ(combined_shutdown.result.controls.size(), 1u);
  EXPECT_EQ(combined_shutdown.result.controls[0].what, kind::server_shutdown);

  const parsed error =
      parse(dialect::binance, R"({"code":2,"msg":"Invalid request: unknown variant","id":7})");
  ASSERT_EQ(error.result.controls.size(), 1u);
  EXPECT_EQ(error.result.controls[0].what, kind::error);
  EXPECT_EQ(error.result.controls[0].code, 2);
  EXPECT_EQ(error.result.controls[0].message, "Invalid request: unknown variant");

  const parsed kline = parse(dialect::binance, R"({"e":"kline","s":"BTCUSDT","k":{"o":"1"}})");
  EXPECT_EQ(kline.result.ignored, 1u);
  EXPECT_EQ(kline.result.rejected, 0u);
}

TEST(binance, bad_decimal_strings) {
  for (const char* price : {R"("abc")", R"("1.0x")", R"("")", R"(" 1.0")", R"("-1")", R"("0")",
                            R"("NaN")", R"("inf")", R"("1e400")", "null", "true", "[]"}) {
    const std::string frame = std::string(R"({"e":"trade","s":"BTCUSDT","t":1,"p":)") + price +
                              R"(,"q":"1","T":1737990000000})";
    expect_element_rejected(dialect::binance, frame, parse_error::bad_value);
  }
  expect_element_rejected(
      dialect::binance, R"({"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"-0.5","T":1737990000000})",
      parse_error::bad_value);
  expect_element_rejected(dialect::binance, R"({"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"1"})",
                          parse_error::missing_field);
}

TEST(binance, malformed_frames) {
  const dialect d = dialect::binance;
  expect_frame_rejected(d, R"([{"e":"trade"}])", parse_error::unexpected_shape);
  expect_frame_rejected(d, R"({"stream":"x","data":[1]})", parse_error::unexpected_shape);
  expect_element_rejected(d, "{}", parse_error::missing_field);
  expect_element_rejected(d, R"({"e":5})", parse_error::bad_value);
  expect_frame_rejected(d, R"({"e":"trade","s":"BTCUSDT","p":"1")", parse_error::invalid_json);
}

// ---- generic ----------------------------------------------------------------------------------

TEST(generic, news_in_chinese_with_optional_url) {
  const parsed p = parse(dialect::generic,
                         R"({"type":"news","id":"zh-002","published_at":"2025-01-27T01:40:00Z",)"
                         R"("headline":"DeepSeek股东每日互动开盘走强","body":"正文",)"
                         R"("symbols":["300766.SZ"],"lang":"zh","source":"radiomandarin"})");
  ASSERT_EQ(p.result.events, 1u);
  const auto& n = get<rules::news>(p, 0);
  EXPECT_EQ(n.id, "zh-002");
  EXPECT_EQ(n.headline, "DeepSeek股东每日互动开盘走强");
  EXPECT_EQ(n.summary, "正文");
  EXPECT_EQ(n.lang, "zh");
  EXPECT_EQ(n.source, "radiomandarin");
  EXPECT_EQ(n.url, "");
  EXPECT_EQ(n.symbols, std::vector<std::string>{"300766.SZ"});
  EXPECT_EQ(n.time, at("2025-01-27T01:40:00Z"));

  const parsed q = parse(dialect::generic,
                         R"({"type":"news","id":42,"published_at":"2025-01-27T09:40:00+08:00",)"
                         R"("headline":"h","url":"https://example.com/a"})");
  ASSERT_EQ(q.result.events, 1u);
  EXPECT_EQ(get<rules::news>(q, 0).id, "42");
  EXPECT_EQ(get<rules::news>(q, 0).url, "https://example.com/a");
  EXPECT_EQ(get<rules::news>(q, 0).time, at("2025-01-27T01:40:00Z"));
}

TEST(generic, trades_with_either_time_form) {
  const parsed p = parse(
      dialect::generic,
      R"([{"type":"trade","symbol":"NVDA","price":118.42,"size":100,"ts":"2025-01-27T20:59:59.512Z"},)"
      R"({"type":"trade","symbol":"NVDA","price":118.43,"size":50,"ts":1738011599513,"id":77}])");
  ASSERT_EQ(p.result.events, 2u);
  EXPECT_EQ(get<rules::trade>(p, 0).time, at("2025-01-27T20:59:59.512Z"));
  EXPECT_DOUBLE_EQ(get<rules::trade>(p, 0).size, 100);
  EXPECT_EQ(get<rules::trade>(p, 1).time, 1738011599513 * rules::k_ns_per_ms);
  EXPECT_EQ(get<rules::trade>(p, 1).id, 77);
}

TEST(generic, bars_and_their_kind) {
  const parsed p = parse(
      dialect::generic,
      R"([{"type":"bar","symbol":"NVDA","open":118,"high":119,"low":117.5,"close":118.5,)"
      R"("volume":1000,"start":"2025-01-27T15:00:00Z","end":"2025-01-27T15:01:00Z"},)"
      R"({"type":"bar","symbol":"NVDA","open":118,"high":119,"low":117.5,"close":118.5,)"
      R"("start":1737990000000,"end":1737990001000},)"
      R"({"type":"bar","symbol":"NVDA","open":118,"high":119,"low":117.5,"close":118.5,)"
      R"("start":"2025-01-27T00:00:00Z","end":"2025-01-28T00:00:00Z"},)"
      R"({"type":"bar","kind":"updated_minute","symbol":"NVDA","open":118,"high":119,"low":117.5,)"
      R"("close":118.5,"start":"2025-01-27T15:00:00Z","end":"2025-01-27T15:01:00Z"}])");
  ASSERT_EQ(p.result.events, 4u);
  const auto& m = get<rules::bar>(p, 0);
  EXPECT_EQ(m.kind, rules::bar_kind::minute);
  EXPECT_EQ(m.start, at("2025-01-27T15:00:00Z"));
  EXPECT_EQ(m.end, at("2025-01-27T15:01:00Z"));
  EXPECT_DOUBLE_EQ(m.volume, 1000);
  EXPECT_EQ(get<rules::bar>(p, 1).kind, rules::bar_kind::second);
  EXPECT_DOUBLE_EQ(get<rules::bar>(p, 1).volume, 0);
  EXPECT_EQ(get<rules::bar>(p, 2).kind, rules::bar_kind::daily);
  EXPECT_EQ(get<rules::bar>(p, 3).kind, rules::bar_kind::updated_minute);
}

TEST(generic, mixed_array_with_bad_and_unknown_elements) {
  const parsed p =
      parse(dialect::generic,
            R"([{"type":"news","id":"a","published_at":"2025-01-27T01:40:00Z","headline":"ok"},)"
            R"({"type":"news","id":"b","published_at":"2025-01-27T01:40:00Z","headline":""},)"
            R"({"type":"heartbeat"},)"
            R"({"id":"c"},)"
            R"({"type":"trade","symbol":"NVDA","price":"118","ts":1738011599513},)"
            R"({"type":"trade","symbol":"NVDA","price":118,"ts":1738011599513}])");
  EXPECT_EQ(p.result.events, 2u);
  EXPECT_EQ(p.result.ignored, 1u);
  EXPECT_EQ(p.result.rejected, 3u);
  EXPECT_EQ(p.result.error, parse_error::bad_value);
}

TEST(generic, malformed) {
  const dialect d = dialect::generic;
  expect_element_rejected(d, R"({"type":"news","id":"a","headline":"h"})",
                          parse_error::missing_field);
  expect_element_rejected(d,
                          R"({"type":"news","published_at":"2025-01-27T01:40:00Z","headline":"h"})",
                          parse_error::missing_field);
  expect_element_rejected(
      d, R"({"type":"news","id":"","published_at":"2025-01-27T01:40:00Z","headline":"h"})",
      parse_error::bad_value);
  expect_element_rejected(d,
                          R"({"type":"news","id":"a","published_at":"yesterday","headline":"h"})",
                          parse_error::bad_value);
  expect_element_rejected(d, R"({"type":"trade","symbol":"NVDA","price":118,"ts":true})",
                          parse_error::bad_value);
  expect_element_rejected(
      d, R"({"type":"trade","symbol":"NVDA","price":118,"size":-1,"ts":1738011599513})",
      parse_error::bad_value);
  expect_element_rejected(
      d,
      R"({"type":"bar","kind":"weekly","symbol":"N","open":1,"high":1,"low":1,"close":1,"start":1738011599513,"end":1738011659513})",
      parse_error::bad_value);
  expect_element_rejected(
      d, R"({"type":"bar","symbol":"N","open":1,"high":1,"low":1,"close":1,"start":1738011599513})",
      parse_error::missing_field);
  expect_element_rejected(d, "{}", parse_error::missing_field);
  expect_frame_rejected(d, "17", parse_error::unexpected_shape);
  expect_frame_rejected(d, R"({"type":"news")", parse_error::invalid_json);
}

// ---- hostile input ----------------------------------------------------------------------------

const char* const k_valid_frames[k_dialect_count][3] = {
    // alpaca_stocks
    {R"([{"T":"t","S":"NVDA","i":1,"x":"V","p":118.42,"s":100,"c":["@"],"z":"C","t":"2025-01-27T15:00:00.123Z"},{"T":"b","S":"SPY","o":1,"h":2,"l":0.5,"c":1.5,"v":10,"t":"2025-01-27T15:00:00Z"}])",
     R"([{"T":"success","msg":"connected"}])",
     R"([{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"c":["R"],"z":"C","t":"2021-02-22T15:51:45.335689322Z"}])"},
    // alpaca_news
    {R"([{"T":"n","id":24918784,"headline":"Corsair \"buys\" iDisplay","summary":"","author":"B","created_at":"2022-01-05T22:00:37Z","updated_at":"2022-01-05T22:00:38Z","url":"","content":"<p>x</p>","symbols":["CRSR"],"source":"benzinga"}])",
     R"([{"T":"subscription","news":["*"]}])",
     R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])"},
    // finnhub
    {R"({"data":[{"c":null,"p":31.46,"s":"300766.SZ","t":1737701418566,"v":48}],"type":"trade"})",
     R"({"type":"news","data":[{"datetime":1679920200,"headline":"h","id":1,"related":"A,B"}]})",
     R"({"type":"ping"})"},
    // polygon_stocks
    {R"([{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328}])",
     R"([{"ev":"AM","sym":"GTE","v":4110,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"s":1610144640000,"e":1610144700000}])",
     R"([{"ev":"status","status":"auth_success","message":"authenticated"}])"},
    // binance
    {R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true})",
     R"({"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"1.5","q":"2","T":1737990000000}})",
     R"({"result":null,"id":1})"},
    // generic
    {R"({"type":"news","id":"zh-002","published_at":"2025-01-27T01:40:00Z","headline":"DeepSeek股东每日互动开盘走强","body":"","symbols":[],"lang":"zh","source":"radiomandarin"})",
     R"([{"type":"trade","symbol":"NVDA","price":118.42,"size":100,"ts":"2025-01-27T20:59:59.512Z"}])",
     R"({"type":"bar","symbol":"N","open":1,"high":2,"low":0.5,"close":1,"start":1738011599513,"end":1738011659513})"},
};

TEST(hostile_input, the_fixtures_are_valid) {
  for (std::size_t d = 0; d < k_dialect_count; ++d) {
    for (const char* frame : k_valid_frames[d]) {
      const parsed p = parse(static_cast<dialect>(d), frame);
      EXPECT_EQ(p.result.rejected, 0u) << frame << " " << to_string(p.result.error);
      EXPECT_GT(p.result.events + p.result.controls.size(), 0u) << frame;
    }
  }
}

TEST(hostile_input, every_truncation_rejects_the_whole_frame) {
  for (std::size_t d = 0; d < k_dialect_count; ++d) {
    frame_parser parser(static_cast<dialect>(d));
    for (const std::string_view frame : k_valid_frames[d]) {
      for (std::size_t n = 0; n < frame.size(); ++n) {
        std::vector<rules::event> out;
        const parse_result r = parser.parse(frame.substr(0, n), out);
        EXPECT_EQ(r.rejected, 1u) << frame.substr(0, n);
        EXPECT_EQ(r.error, parse_error::invalid_json) << frame.substr(0, n);
        EXPECT_TRUE(out.empty()) << frame.substr(0, n);
        EXPECT_TRUE(r.controls.empty()) << frame.substr(0, n);
      }
    }
  }
}

TEST(hostile_input, invalid_utf8_is_rejected) {
  expect_frame_rejected(dialect::generic,
                        "{\"type\":\"news\",\"id\":\"a\",\"published_at\":\"2025-01-27T01:40:00Z\","
                        "\"headline\":\"bad \xff\xfe bytes\"}",
                        parse_error::invalid_json);
  expect_frame_rejected(dialect::alpaca_stocks, "[{\"T\":\"t\",\"S\":\"\xc3\x28\"}]",
                        parse_error::invalid_json);
  expect_frame_rejected(dialect::binance, std::string("{\"e\":\"trade\0\"}", 14),
                        parse_error::invalid_json);
}

TEST(hostile_input, deep_nesting) {
  for (std::size_t d = 0; d < k_dialect_count; ++d) {
    const std::string opens(100000, '[');
    expect_frame_rejected(static_cast<dialect>(d), opens, parse_error::invalid_json);
    // Balanced but absurdly deep: rejected (as invalid JSON, a wrong shape or a non-object
    // element, depending on the dialect), and skipping it must not recurse.
    for (const std::string& deep :
         {opens + std::string(100000, ']'), std::string(5000, '{') + std::string(5000, '}'),
          "[" + std::string(100000, '{') + std::string(100000, '}') + "]"}) {
      const parsed p = parse(static_cast<dialect>(d), deep);
      EXPECT_EQ(p.result.rejected, 1u);
      EXPECT_EQ(p.result.events, 0u);
    }
  }
  // Nesting within the limit, in a field nobody reads, is skipped.
  const std::string frame = R"([{"T":"t","S":"A","p":1,"s":1,"t":"2025-01-27T15:00:00Z","zz":)" +
                            std::string(500, '[') + std::string(500, ']') + "}]";
  EXPECT_EQ(parse(dialect::alpaca_stocks, frame).result.events, 1u);
}

TEST(hostile_input, huge_numbers_and_strings) {
  const std::string digits(5000, '9');
  const parsed p = parse(dialect::alpaca_stocks, R"([{"T":"t","S":"A","p":)" + digits +
                                                     R"(,"s":1,"t":"2025-01-27T15:00:00Z"}])");
  EXPECT_EQ(p.result.events + p.result.rejected, 1u);  // a finite double or a number error
  expect_element_rejected(dialect::alpaca_stocks,
                          R"([{"T":"t","S":"A","p":1,"s":1e999,"t":"2025-01-27T15:00:00Z"}])",
                          parse_error::bad_value);
  const std::string long_symbol(1 << 20, 'A');
  expect_element_rejected(
      dialect::generic,
      R"({"type":"trade","symbol":")" + long_symbol + R"(","price":1,"ts":1738011599513})",
      parse_error::bad_value);
  const std::string long_headline(2 << 20, 'h');
  const parsed big =
      parse(dialect::generic,
            R"({"type":"news","id":"a","published_at":"2025-01-27T01:40:00Z","headline":")" +
                long_headline + "\"}");
  ASSERT_EQ(big.result.events, 1u);
  EXPECT_EQ(get<rules::news>(big, 0).headline.size(), long_headline.size());
}

// Deterministic mutation fuzzing: flip, insert and delete bytes of valid frames. Nothing may
// crash, and the result must be self-consistent. Run under ASan/UBSan for full value.
TEST(hostile_input, mutated_frames_never_crash) {
  std::mt19937 rng(20250127);
  const char alphabet[] = "{}[]\",:0123456789.eE-+tfnul\\ \xff\x80";
  for (std::size_t d = 0; d < k_dialect_count; ++d) {
    frame_parser parser(static_cast<dialect>(d));
    std::vector<rules::event> out;
    for (const std::string_view base : k_valid_frames[d]) {
      for (int round = 0; round < 1500; ++round) {
        std::string frame(base);
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !frame.empty(); ++e) {
          const std::size_t pos = rng() % frame.size();
          const char c = alphabet[rng() % (sizeof alphabet - 1)];
          switch (rng() % 3) {
            case 0:
              frame[pos] = c;
              break;
            case 1:
              frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(pos), c);
              break;
            default:
              frame.erase(pos, 1);
              break;
          }
        }
        const std::size_t before = out.size();
        const parse_result r = parser.parse(frame, out);
        ASSERT_EQ(out.size() - before, r.events) << frame;
        ASSERT_EQ(r.rejected == 0, r.error == parse_error::none) << frame;
        for (std::size_t i = before; i < out.size(); ++i) {
          const time_ns t = rules::event_time(out[i]);
          ASSERT_GE(t, k_earliest_event_time) << frame;
          ASSERT_LT(t, k_latest_event_time) << frame;
        }
        out.clear();
      }
    }
  }
}

}  // namespace
}  // namespace aftershock::feeds
