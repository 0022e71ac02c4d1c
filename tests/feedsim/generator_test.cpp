#include "feedsim/generator.h"

#include <gtest/gtest.h>

#include <set>
#include <variant>

#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"

namespace aftershock::feedsim {
namespace {

std::string generate(const generator_options& o, generator_stats* stats_out = nullptr) {
  std::string text;
  generator_stats stats;
  EXPECT_TRUE(generate_capture(
      o,
      [&](std::string_view chunk) {
        text.append(chunk);
        return true;
      },
      stats));
  EXPECT_EQ(stats.bytes, text.size());
  if (stats_out) *stats_out = stats;
  return text;
}

generator_options small() {
  generator_options o;
  o.symbols = 50;
  o.events = 5000;
  o.per_frame_min = 2;
  o.per_frame_max = 7;
  o.headline_every = 1000;
  o.seed = 42;
  return o;
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = generate(small());
  EXPECT_EQ(generate(small()), a);
  generator_options other = small();
  other.seed = 43;
  EXPECT_NE(generate(other), a);
}

TEST(Generator, WritesAValidCaptureTheParsersAccept) {
  generator_stats stats;
  const std::string text = generate(small(), &stats);
  EXPECT_EQ(stats.events, 5000u);
  EXPECT_EQ(stats.trades + stats.quotes + stats.bars, 5000u);
  EXPECT_EQ(stats.headlines, 5u);
  EXPECT_GT(stats.quotes, 0u);
  EXPECT_GT(stats.bars, 0u);

  feeds::capture_reader reader;
  reader.add("generated", text);
  feeds::frame_parser stocks(feeds::dialect::alpaca_stocks), news(feeds::dialect::alpaca_news);
  std::vector<rules::event> events;
  feeds::capture_record rec;
  std::size_t frames = 0, rejected = 0, headlines = 0;
  rules::time_ns previous = 0;
  std::set<std::string> symbols;
  while (reader.next(rec)) {
    ++frames;
    EXPECT_GE(rec.received, previous);  // `at` order
    previous = rec.received;
    events.clear();
    auto& parser = rec.feed == feeds::dialect::alpaca_news ? news : stocks;
    const auto result = parser.parse(rec.frame, events);
    rejected += result.rejected;
    if (rec.feed == feeds::dialect::alpaca_news) {
      headlines += result.events;
    } else {
      EXPECT_GE(result.events, 2u);
      EXPECT_LE(result.events, 7u);
    }
    for (const auto& e : events) {
      if (!std::holds_alternative<rules::news>(e)) symbols.insert(rules::event_symbol(e));
    }
  }
  EXPECT_EQ(reader.stats().bad_lines, 0u);
  EXPECT_EQ(frames, stats.frames);
  EXPECT_EQ(rejected, 0u);
  EXPECT_EQ(headlines, 5u);
  EXPECT_GT(symbols.size(), 20u);
  EXPECT_LE(symbols.size(), 50u);
}

TEST(Generator, SpansTheRequestedSession) {
  generator_options o = small();
  const std::string text = generate(o);
  EXPECT_EQ(text.substr(0, 31), R"({"at":"2025-01-27T14:30:00.000Z)");
  // The last frame sits just before start + duration (21:00 for the 390 minute default).
  const auto last = text.rfind(R"({"at":")");
  EXPECT_EQ(text.substr(last + 7, 13), "2025-01-27T20");
}

TEST(Generator, ValidatesOptions) {
  generator_options o;
  o.symbols = 0;
  o.per_frame_min = 5;
  o.per_frame_max = 2;
  EXPECT_EQ(validate(o).size(), 2u);
  EXPECT_TRUE(validate(generator_options{}).empty());
}

TEST(Generator, ParseRange) {
  EXPECT_EQ(parse_range("1..10"), std::make_pair(1u, 10u));
  EXPECT_EQ(parse_range("5"), std::make_pair(5u, 5u));
  EXPECT_FALSE(parse_range("0..3"));
  EXPECT_FALSE(parse_range("4..3"));
  EXPECT_FALSE(parse_range("a..b"));
}

TEST(Generator, SymbolNames) {
  EXPECT_EQ(synthetic_symbol(0, 5000), "AAA");
  EXPECT_EQ(synthetic_symbol(27, 5000), "ABB");
  EXPECT_EQ(synthetic_symbol(0, 20000), "AAAA");  // 26^3 = 17576 names are not enough
}

TEST(Generator, StopsWhenTheSinkRefuses) {
  generator_options o = small();
  o.events = 2'000'000;
  generator_stats stats;
  int chunks = 0;
  EXPECT_FALSE(generate_capture(o, [&](std::string_view) { return ++chunks < 2; }, stats));
  EXPECT_EQ(chunks, 2);
  EXPECT_LT(stats.events, o.events);
}

}  // namespace
}  // namespace aftershock::feedsim
