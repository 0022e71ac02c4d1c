#include "feedsim/data_frame.h"

#include <gtest/gtest.h>

#include "feedsim/msgpack.h"
#include "feedsim/subscriptions.h"

namespace aftershock::feedsim {
namespace {

using feeds::dialect;

std::string text_of(const rendered_frame& r) { return r.bytes ? *r.bytes : std::string("<none>"); }

TEST(DataFrame, SplitsAnAlpacaBatchAndKeepsElementBytes) {
  data_frame f;
  const std::string frame =
      R"([{"T":"t","S":"NVDA","p":1.5}, {"T":"q","S":"AAPL","bp":2},{"T":"n","symbols":["AMD","INTC"],"headline":"x"}])";
  f.assign(dialect::alpaca_stocks, frame);
  ASSERT_FALSE(f.opaque());
  ASSERT_EQ(f.elements().size(), 3u);
  EXPECT_EQ(f.elements()[0].text, R"({"T":"t","S":"NVDA","p":1.5})");
  EXPECT_EQ(f.elements()[0].kind, "t");
  EXPECT_EQ(f.elements()[0].symbol, "NVDA");
  EXPECT_EQ(f.elements()[1].symbol, "AAPL");
  ASSERT_EQ(f.elements()[2].symbols_count, 2u);
  EXPECT_EQ(f.symbol_pool()[f.elements()[2].symbols_begin + 1], "INTC");
  EXPECT_EQ(f.data_count(), 3u);

  // Everything selected: the captured bytes, shared.
  auto all = f.render({0, 1, 2}, {});
  EXPECT_EQ(text_of(all), frame);
  EXPECT_EQ(f.render({0, 1, 2}, {}).bytes, all.bytes);
  // A subset: the same prefix and suffix, elements joined by commas.
  EXPECT_EQ(text_of(f.render({0, 2}, {})),
            R"([{"T":"t","S":"NVDA","p":1.5},{"T":"n","symbols":["AMD","INTC"],"headline":"x"}])");
  EXPECT_FALSE(f.render({}, {}).bytes);
}

TEST(DataFrame, MarksAlpacaControlMessages) {
  data_frame f;
  f.assign(dialect::alpaca_stocks,
           R"([{"T":"success","msg":"connected"},{"T":"subscription","trades":[]}])");
  EXPECT_EQ(f.data_count(), 0u);
  EXPECT_TRUE(f.elements()[0].control);
  f.assign(dialect::alpaca_stocks, R"([{"T":"error","code":406},{"T":"t","S":"X"}])");
  EXPECT_EQ(f.data_count(), 1u);
}

TEST(DataFrame, UnescapesSymbols) {
  data_frame f;
  f.assign(dialect::alpaca_stocks, R"([{"T":"t","S":"BTC\/USD"}])");
  EXPECT_EQ(f.elements()[0].symbol, "BTC/USD");
}

TEST(DataFrame, PolygonUsesEvAndSym) {
  data_frame f;
  f.assign(dialect::polygon_stocks,
           R"([{"ev":"status","status":"connected"},{"ev":"T","sym":"MSFT","p":1},{"ev":"AM","sym":"GTE"}])");
  ASSERT_EQ(f.elements().size(), 3u);
  EXPECT_TRUE(f.elements()[0].control);
  EXPECT_EQ(f.elements()[1].kind, "T");
  EXPECT_EQ(f.elements()[1].symbol, "MSFT");
  EXPECT_EQ(f.elements()[2].kind, "AM");
  EXPECT_EQ(text_of(f.render({2}, {})), R"([{"ev":"AM","sym":"GTE"}])");
}

TEST(DataFrame, FinnhubRebatchesTheDataArray) {
  data_frame f;
  const std::string frame =
      R"({"type":"trade","data":[{"s":"NVDA","p":1,"t":5,"v":1},{"s":"TSLA","p":2,"t":5,"v":1}]})";
  f.assign(dialect::finnhub, frame);
  ASSERT_EQ(f.elements().size(), 2u);
  EXPECT_EQ(f.elements()[1].symbol, "TSLA");
  EXPECT_EQ(text_of(f.render({1}, {})),
            R"({"type":"trade","data":[{"s":"TSLA","p":2,"t":5,"v":1}]})");
  EXPECT_EQ(text_of(f.render({0, 1}, {})), frame);

  f.assign(dialect::finnhub, R"({"type":"news","data":[{"related":"AAPL, MSFT","id":1}]})");
  ASSERT_EQ(f.elements().size(), 1u);
  ASSERT_EQ(f.elements()[0].symbols_count, 2u);
  EXPECT_EQ(f.symbol_pool()[1], "MSFT");

  f.assign(dialect::finnhub, R"({"type":"ping"})");
  EXPECT_EQ(f.data_count(), 0u);
}

TEST(DataFrame, BinanceRawEventsAndWrapping) {
  data_frame f;
  const std::string event = R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"2"})";
  f.assign(dialect::binance, event);
  ASSERT_EQ(f.elements().size(), 1u);
  EXPECT_EQ(f.elements()[0].kind, "btcusdt@trade");
  EXPECT_EQ(text_of(f.render({0}, {})), event);
  EXPECT_EQ(text_of(f.render({0}, render_format{false, true})),
            R"({"stream":"btcusdt@trade","data":)" + event + "}");

  // A capture of a combined stream: unwrapped for raw clients, as captured for combined ones.
  const std::string wrapped = R"({"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","s":"ETHUSDT"}})";
  f.assign(dialect::binance, wrapped);
  EXPECT_TRUE(f.binance_wrapped());
  EXPECT_EQ(f.elements()[0].kind, "ethusdt@aggTrade");
  EXPECT_EQ(text_of(f.render({0}, {})), R"({"e":"aggTrade","s":"ETHUSDT"})");
  EXPECT_EQ(text_of(f.render({0}, render_format{false, true})), wrapped);

  f.assign(dialect::binance, R"({"e":"kline","s":"BNBBTC","k":{"i":"1m","o":"1"}})");
  EXPECT_EQ(f.elements()[0].kind, "bnbbtc@kline_1m");
  f.assign(dialect::binance, R"({"result":null,"id":1})");
  EXPECT_EQ(f.data_count(), 0u);
}

TEST(DataFrame, GenericAndMalformedFramesAreOpaque) {
  data_frame f;
  f.assign(dialect::generic, R"({"type":"news","id":"g"})");
  EXPECT_TRUE(f.opaque());
  EXPECT_EQ(f.data_count(), 1u);
  EXPECT_EQ(text_of(f.render({}, {})), R"({"type":"news","id":"g"})");
  f.assign(dialect::alpaca_stocks, "not json at all");
  EXPECT_TRUE(f.opaque());
  f.assign(dialect::alpaca_stocks, R"([{"T":"t"},)");
  EXPECT_TRUE(f.opaque());
}

TEST(DataFrame, RendersMsgpackForAlpacaBinaryClients) {
  data_frame f;
  f.assign(dialect::alpaca_stocks,
           R"([{"T":"t","S":"NVDA","p":1.5,"t":"2025-01-27T14:30:00Z"},{"T":"t","S":"AAPL","p":2}])");
  auto r = f.render({1}, render_format{true, false});
  ASSERT_TRUE(r.bytes);
  EXPECT_TRUE(r.binary);
  auto v = decode_msgpack(*r.bytes);
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_array());
  ASSERT_EQ(v->items.size(), 1u);
  EXPECT_EQ(v->items[0].string_field("S"), "AAPL");
  auto all = f.render({0, 1}, render_format{true, false});
  auto w = decode_msgpack(*all.bytes);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->items.size(), 2u);
  EXPECT_EQ(w->items[0].string_field("t"), "2025-01-27T14:30:00.000000000Z");
}

TEST(DataFrame, ReusedAcrossFrames) {
  data_frame f;
  f.assign(dialect::alpaca_stocks, R"([{"T":"t","S":"A"}])");
  auto first = f.render({0}, {});
  f.assign(dialect::alpaca_stocks, R"([{"T":"t","S":"B"}])");
  EXPECT_EQ(text_of(f.render({0}, {})), R"([{"T":"t","S":"B"}])");
  EXPECT_EQ(text_of(first), R"([{"T":"t","S":"A"}])");  // rendered frames own their bytes
}

}  // namespace
}  // namespace aftershock::feedsim
