#include "feedsim/endpoint.h"

#include <gtest/gtest.h>

namespace aftershock::feedsim {
namespace {

using feeds::dialect;

TEST(Route, AlpacaPaths) {
  for (const char* path : {"/v2/iex", "/v2/sip", "/v2/delayed_sip", "/v2/test"}) {
    auto e = route(path);
    ASSERT_TRUE(e) << path;
    EXPECT_EQ(e->dialect, dialect::alpaca_stocks);
    EXPECT_EQ(e->path, path);
  }
  auto news = route("/v1beta1/news");
  ASSERT_TRUE(news);
  EXPECT_EQ(news->dialect, dialect::alpaca_news);
}

TEST(Route, PolygonAndGeneric) {
  EXPECT_EQ(route("/stocks")->dialect, dialect::polygon_stocks);
  EXPECT_EQ(route("/generic")->dialect, dialect::generic);
}

TEST(Route, BinanceRawStreams) {
  auto one = route("/ws/btcusdt@trade");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->dialect, dialect::binance);
  EXPECT_FALSE(one->binance_combined);
  EXPECT_EQ(one->binance_streams, (std::vector<std::string>{"btcusdt@trade"}));
  EXPECT_EQ(one->path, "/ws");

  auto two = route("/ws/btcusdt@trade/ethusdt@aggTrade");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->binance_streams, (std::vector<std::string>{"btcusdt@trade", "ethusdt@aggTrade"}));

  auto bare = route("/ws");
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->binance_streams.empty());
}

TEST(Route, BinanceCombinedStreams) {
  auto e = route("/stream?streams=btcusdt@trade/ethusdt@trade&timeUnit=MICROSECOND");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dialect, dialect::binance);
  EXPECT_TRUE(e->binance_combined);
  EXPECT_EQ(e->binance_streams, (std::vector<std::string>{"btcusdt@trade", "ethusdt@trade"}));
  // Percent-encoded as some clients send it.
  auto encoded = route("/stream?streams=btcusdt%40trade%2Fethusdt%40trade");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->binance_streams,
            (std::vector<std::string>{"btcusdt@trade", "ethusdt@trade"}));
}

TEST(Route, FinnhubTokenInTheQuery) {
  auto e = route("/?token=abc%20def");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dialect, dialect::finnhub);
  EXPECT_TRUE(e->has_token);
  EXPECT_EQ(e->token, "abc def");
  auto none = route("/");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_token);
}

TEST(Route, UnknownPathsAreRefused) {
  std::string why;
  EXPECT_FALSE(route("/v2/nope", &why));
  EXPECT_NE(why.find("/v2/nope"), std::string::npos);
  EXPECT_FALSE(route("/v2/iex/extra"));
  EXPECT_FALSE(route("/wsx"));
}

TEST(QueryParam, FindsAndDecodes) {
  EXPECT_EQ(query_param("a=1&b=x+y", "b"), "x y");
  EXPECT_EQ(query_param("a=1&b", "b"), "");
  EXPECT_FALSE(query_param("a=1", "b"));
  EXPECT_EQ(query_param("t=%zz", "t"), "%zz");  // malformed escapes kept as written
}

}  // namespace
}  // namespace aftershock::feedsim
