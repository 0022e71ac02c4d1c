#include "feedsim/subscriptions.h"

#include <gtest/gtest.h>

namespace aftershock::feedsim {
namespace {

using feeds::dialect;
using indexes = std::vector<std::uint32_t>;

indexes select(const subscriptions& s, data_frame& f) {
  indexes out;
  s.select(f, out);
  return out;
}

TEST(SymbolSet, KeepsOrderAndWildcard) {
  symbol_set s;
  EXPECT_TRUE(s.add("NVDA"));
  EXPECT_TRUE(s.add("AAPL"));
  EXPECT_FALSE(s.add("NVDA"));
  EXPECT_EQ(s.list(), (std::vector<std::string>{"NVDA", "AAPL"}));
  EXPECT_TRUE(s.matches("AAPL"));
  EXPECT_FALSE(s.matches("MSFT"));
  EXPECT_TRUE(s.add("*"));
  EXPECT_TRUE(s.matches("MSFT"));
  EXPECT_TRUE(s.remove("*"));
  EXPECT_FALSE(s.matches("MSFT"));
  EXPECT_FALSE(s.remove("MSFT"));
  EXPECT_TRUE(s.remove("NVDA"));
  EXPECT_EQ(s.list(), (std::vector<std::string>{"AAPL"}));
}

TEST(Subscriptions, AlpacaFiltersByChannelAndSymbol) {
  subscriptions s(dialect::alpaca_stocks);
  EXPECT_TRUE(s.empty());
  s.channel("trades").add("NVDA");
  s.channel("bars").add("*");
  data_frame f;
  f.assign(dialect::alpaca_stocks,
           R"([{"T":"t","S":"NVDA"},{"T":"t","S":"AAPL"},{"T":"q","S":"NVDA"},{"T":"b","S":"SPY"},)"
           R"({"T":"c","S":"NVDA"},{"T":"x","S":"AAPL"},{"T":"success","msg":"x"},{"T":"o","S":"NVDA"}])");
  // trades NVDA, bar SPY (wildcard), the NVDA correction (comes with trades), and an unknown
  // type for a symbol subscribed somewhere; never the control message.
  EXPECT_EQ(select(s, f), (indexes{0, 3, 4, 7}));
}

TEST(Subscriptions, AlpacaNewsMatchesTaggedSymbols) {
  subscriptions s(dialect::alpaca_news);
  s.channel("news").add("AAPL");
  data_frame f;
  f.assign(dialect::alpaca_news,
           R"([{"T":"n","id":1,"symbols":["MSFT","AAPL"]},{"T":"n","id":2,"symbols":[]},)"
           R"({"T":"n","id":3,"symbols":["TSLA"]}])");
  EXPECT_EQ(select(s, f), (indexes{0}));
  s.channel("news").add("*");
  EXPECT_EQ(select(s, f), (indexes{0, 1, 2}));
}

TEST(Subscriptions, PolygonFinnhubBinanceGeneric) {
  data_frame f;

  subscriptions polygon(dialect::polygon_stocks);
  polygon.channel("T").add("MSFT");
  polygon.channel("AM").add("*");
  f.assign(dialect::polygon_stocks,
           R"([{"ev":"T","sym":"NVDA"},{"ev":"T","sym":"MSFT"},{"ev":"Q","sym":"MSFT"},{"ev":"AM","sym":"X"}])");
  EXPECT_EQ(select(polygon, f), (indexes{1, 3}));

  subscriptions finnhub(dialect::finnhub);
  finnhub.channel("trades").add("TSLA");
  f.assign(dialect::finnhub, R"({"type":"trade","data":[{"s":"NVDA"},{"s":"TSLA"}]})");
  EXPECT_EQ(select(finnhub, f), (indexes{1}));
  f.assign(dialect::finnhub, R"({"type":"news","data":[{"related":"TSLA"}]})");
  EXPECT_TRUE(select(finnhub, f).empty());  // news needs subscribe-news
  finnhub.channel("news").add("TSLA");
  EXPECT_EQ(select(finnhub, f), (indexes{0}));

  subscriptions binance(dialect::binance);
  binance.channel("streams").add("btcusdt@trade");
  f.assign(dialect::binance, R"({"e":"trade","s":"BTCUSDT"})");
  EXPECT_EQ(select(binance, f), (indexes{0}));
  f.assign(dialect::binance, R"({"e":"trade","s":"ETHUSDT"})");
  EXPECT_TRUE(select(binance, f).empty());

  subscriptions generic(dialect::generic);
  EXPECT_FALSE(generic.empty());
  f.assign(dialect::generic, R"({"type":"trade"})");
  EXPECT_EQ(select(generic, f), (indexes{0}));
}

TEST(Subscriptions, OtherDialectsFramesAreNeverSelected) {
  subscriptions s(dialect::alpaca_stocks);
  s.channel("trades").add("*");
  data_frame f;
  f.assign(dialect::alpaca_news, R"([{"T":"t","S":"NVDA"}])");
  EXPECT_TRUE(select(s, f).empty());
}

TEST(Subscriptions, OpaqueFramesGoToSubscribedClientsOnly) {
  subscriptions s(dialect::alpaca_stocks);
  data_frame f;
  f.assign(dialect::alpaca_stocks, "garbage from the capture");
  EXPECT_TRUE(select(s, f).empty());
  s.channel("quotes").add("ZZZ");
  EXPECT_EQ(select(s, f), (indexes{0}));
}

TEST(Subscriptions, WantsEveryKindOnlyWithAWildcard) {
  subscriptions alpaca(dialect::alpaca_stocks);
  alpaca.channel("trades").add("*");
  alpaca.channel("quotes").add("NVDA");
  EXPECT_TRUE(alpaca.wants_every("t"));
  EXPECT_TRUE(alpaca.wants_every("c"));   // corrections come with trades
  EXPECT_FALSE(alpaca.wants_every("q"));  // one symbol only
  EXPECT_FALSE(alpaca.wants_every("b"));  // not subscribed
  EXPECT_TRUE(alpaca.wants_every("zz"));  // no channel: any "*" anywhere takes it
  alpaca.channel("trades").remove("*");
  EXPECT_FALSE(alpaca.wants_every("t"));
  EXPECT_FALSE(alpaca.wants_every("zz"));

  subscriptions news(dialect::alpaca_news);
  EXPECT_FALSE(news.wants_every("n"));
  news.channel("news").add("*");
  EXPECT_TRUE(news.wants_every("n"));

  subscriptions polygon(dialect::polygon_stocks);
  polygon.channel("T").add("*");
  polygon.channel("Q").add("NVDA");
  EXPECT_TRUE(polygon.wants_every("T"));
  EXPECT_FALSE(polygon.wants_every("Q"));

  subscriptions finnhub(dialect::finnhub);
  EXPECT_FALSE(finnhub.wants_every("something-new"));
  finnhub.channel("trades").add("AAPL");
  EXPECT_FALSE(finnhub.wants_every("trade"));
  EXPECT_TRUE(finnhub.wants_every("something-new"));  // unknown types go to every subscriber
  finnhub.channel("news").add("*");
  EXPECT_TRUE(finnhub.wants_every("news"));
  EXPECT_FALSE(finnhub.wants_every("pr"));

  subscriptions binance(dialect::binance);
  binance.channel("streams").add("btcusdt@trade");
  EXPECT_TRUE(binance.wants_every("btcusdt@trade"));
  EXPECT_FALSE(binance.wants_every("ethusdt@trade"));

  EXPECT_TRUE(subscriptions(dialect::generic).wants_every("anything"));
}

// The promise playback relies on: wanting every kind of a frame's data elements means select()
// keeps every one of them.
TEST(Subscriptions, WantsEveryKindMeansEveryElementIsSelected) {
  const std::string frame_text =
      R"([{"T":"t","S":"NVDA"},{"T":"q","S":"AAPL"},{"T":"b","S":"MSFT"},{"T":"t","S":"X"},)"
      R"({"T":"c","S":"NVDA"},{"T":"zz","S":"Q"}])";
  data_frame f;
  f.assign(dialect::alpaca_stocks, frame_text);
  const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
      {{"trades", "*"}, {"quotes", "*"}, {"bars", "*"}},
      {{"trades", "*"}, {"quotes", "*"}, {"bars", "MSFT"}},
      {{"trades", "NVDA"}, {"quotes", "*"}, {"bars", "*"}},
      {{"trades", "*"}, {"bars", "*"}},
      {{"trades", "*"}, {"quotes", "*"}, {"bars", "*"}, {"lulds", "*"}},
  };
  for (const auto& c : cases) {
    subscriptions s(dialect::alpaca_stocks);
    for (const auto& [channel, symbol] : c) s.channel(channel).add(symbol);
    bool every = true;
    for (const auto& el : f.elements()) every = every && s.wants_every(el.kind);
    if (every) {
      EXPECT_EQ(select(s, f).size(), f.elements().size());
    }
  }
}

}  // namespace
}  // namespace aftershock::feedsim
