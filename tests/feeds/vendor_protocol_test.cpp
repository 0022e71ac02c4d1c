// Unit tests for the vendors' session protocols (feeds/vendor_protocol.h) without sockets:
// URLs, subscription messages per dialect, ack reconciliation, failure classification and
// the per-connection sequence (greeting, auth, subscribe, acks) driven by real frames through
// the real dialect parsers. Also feeds/ws_url.h.
#include "feeds/vendor_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feeds/frame_parser.h"
#include "feeds/ws_url.h"

namespace aftershock::feeds {
namespace {

session_config config_for(dialect d, std::string url, std::vector<std::string> symbols = {},
                          std::vector<std::string> channels = {}) {
  session_config c;
  c.name = to_string(d);
  c.which = d;
  c.url = std::move(url);
  c.symbols = std::move(symbols);
  c.channels = std::move(channels);
  c.key = secret("KEY123");
  c.key_secret = secret("SECRET456");
  return c;
}

// Feeds one server frame through the dialect parser and the session.
struct driver {
  explicit driver(const session_config& c) : parser(c.which), session(c) {}
  session_step frame(std::string_view text) {
    std::vector<rules::event> events;
    const parse_result r = parser.parse(text, events);
    return session.on_frame(text, r);
  }
  frame_parser parser;
  vendor_session session;
};

// ---- URLs -------------------------------------------------------------------------------------

TEST(ws_url, parses_schemes_ports_paths_and_queries) {
  auto u = parse_ws_url("wss://stream.data.alpaca.markets/v2/iex");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "stream.data.alpaca.markets");
  EXPECT_EQ(u->port, "443");
  EXPECT_TRUE(u->default_port);
  EXPECT_EQ(u->target(), "/v2/iex");
  EXPECT_EQ(u->host_header(), "stream.data.alpaca.markets");

  u = parse_ws_url("ws://127.0.0.1:18080/stream?streams=a@trade");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "18080");
  EXPECT_EQ(u->path, "/stream");
  EXPECT_EQ(u->query, "streams=a@trade");
  EXPECT_EQ(u->host_header(), "127.0.0.1:18080");

  u = parse_ws_url("wss://ws.finnhub.io");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target(), "/");

  u = parse_ws_url("ws://[::1]:9000/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header(), "[::1]:9000");
  EXPECT_EQ(u->to_string(), "ws://[::1]:9000/x");
}

TEST(ws_url, rejects_what_is_not_a_websocket_url) {
  for (const char* bad : {"https://x/", "wss://", "ws://host:0/", "ws://host:99999/",
                          "ws://user:pw@host/", "ws://host/a b", "ws://host/#frag", "wss:/x",
                          "ws://:80/"}) {
    EXPECT_FALSE(parse_ws_url(bad)) << bad;
  }
}

TEST(ws_url, override_host_keeps_scheme_path_and_query) {
  EXPECT_EQ(override_host("wss://stream.data.alpaca.markets/v2/iex", "127.0.0.1:18080"),
            "wss://127.0.0.1:18080/v2/iex");
  EXPECT_EQ(override_host("ws://127.0.0.1:1/stream?streams=x", "localhost:2"),
            "ws://localhost:2/stream?streams=x");
  EXPECT_EQ(override_host("ws://a/", "[::1]:9"), "ws://[::1]:9/");
  EXPECT_FALSE(override_host("ws://a/", "a:b"));
  EXPECT_FALSE(override_host("http://a/", "b:1"));
}

TEST(connect_target, finnhub_token_goes_in_the_query_and_never_in_the_log_form) {
  const auto c = config_for(dialect::finnhub, "wss://ws.finnhub.io", {"AAPL"});
  std::string error;
  const auto t = make_connect_target(c, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->url.target(), "/?token=KEY123");
  EXPECT_EQ(t->log_url, "wss://ws.finnhub.io/?token=<redacted>");
  EXPECT_EQ(t->log_url.find("KEY123"), std::string::npos);

  auto with_query = config_for(dialect::finnhub, "ws://127.0.0.1:5/?x=1", {"AAPL"});
  const auto t2 = make_connect_target(with_query, &error);
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->url.target(), "/?x=1&token=KEY123");

  auto no_key = config_for(dialect::finnhub, "wss://ws.finnhub.io", {"AAPL"});
  no_key.key = secret();
  EXPECT_FALSE(make_connect_target(no_key, &error));
}

TEST(connect_target, binance_streams_in_the_url) {
  std::string error;
  auto one = config_for(dialect::binance, "wss://stream.binance.com:9443/ws", {"BTCUSDT"});
  auto t = make_connect_target(one, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->url.target(), "/ws/btcusdt@trade");

  auto two = config_for(dialect::binance, "wss://stream.binance.com:9443/ws", {"BTCUSDT", "ETHUSDT"},
                        {"trades", "agg_trades"});
  t = make_connect_target(two, &error);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->url.target(),
            "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade/btcusdt@trade/ethusdt@trade");

  auto named = config_for(dialect::binance, "ws://127.0.0.1:1/ws/bnbbtc@trade", {"X"});
  t = make_connect_target(named, &error);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->url.target(), "/ws/bnbbtc@trade") << "a URL that names its streams is kept";

  auto message = config_for(dialect::binance, "wss://stream.binance.com/ws", {"BTCUSDT"});
  message.binance_mode = subscribe_mode::message;
  t = make_connect_target(message, &error);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->url.target(), "/ws");

  auto none = config_for(dialect::binance, "wss://stream.binance.com/ws", {});
  EXPECT_FALSE(make_connect_target(none, &error));
}

// ---- messages ---------------------------------------------------------------------------------

TEST(subscription, alpaca_one_message_with_the_full_set_in_wire_names) {
  const auto c = config_for(dialect::alpaca_stocks, "wss://x/v2/iex", {"NVDA", "AVGO", "NVDA"},
                            {"trades", "updated_bars"});
  const channel_set d = desired_subscription(c);
  EXPECT_EQ(alpaca_subscribe_message(d),
            R"({"action":"subscribe","trades":["NVDA","AVGO"],"updatedBars":["NVDA","AVGO"]})");
  EXPECT_EQ(alpaca_auth_message(c.key, c.key_secret),
            R"({"action":"auth","key":"KEY123","secret":"SECRET456"})");
}

TEST(subscription, alpaca_defaults_and_news) {
  const auto stocks = config_for(dialect::alpaca_stocks, "wss://x/v2/iex", {"NVDA"});
  EXPECT_EQ(alpaca_subscribe_message(desired_subscription(stocks)),
            R"({"action":"subscribe","bars":["NVDA"],"statuses":["NVDA"],"trades":["NVDA"]})");
  const auto news = config_for(dialect::alpaca_news, "wss://x/v1beta1/news");
  EXPECT_EQ(alpaca_subscribe_message(desired_subscription(news)),
            R"({"action":"subscribe","news":["*"]})");
}

TEST(subscription, alpaca_large_sets_stay_one_message) {
  std::vector<std::string> symbols;
  for (int i = 0; i < 8000; ++i) symbols.push_back("S" + std::to_string(i));
  const auto c = config_for(dialect::alpaca_stocks, "wss://x/v2/sip", symbols, {"trades", "quotes"});
  const std::string m = alpaca_subscribe_message(desired_subscription(c));
  // Larger than one 32 KiB frame: the session fragments it (write_buffer_bytes), the server
  // sees one message with the full set.
  EXPECT_GT(m.size(), k_alpaca_max_frame_bytes);
  EXPECT_EQ(m.find("{\"action\":\"subscribe\""), 0u);
  EXPECT_NE(m.find("\"S7999\"]"), std::string::npos);
}

TEST(subscription, polygon_prefixes_every_item) {
  const auto c = config_for(dialect::polygon_stocks, "wss://socket.massive.com/stocks",
                            {"NVDA", "AMD"}, {"trades", "quotes", "bars"});
  EXPECT_EQ(polygon_subscribe_message(desired_subscription(c)),
            R"({"action":"subscribe","params":"AM.NVDA,AM.AMD,Q.NVDA,Q.AMD,T.NVDA,T.AMD"})");
  EXPECT_EQ(polygon_auth_message(c.key), R"({"action":"auth","params":"KEY123"})");
}

TEST(subscription, finnhub_one_message_per_symbol_trades_first) {
  const auto c = config_for(dialect::finnhub, "wss://ws.finnhub.io", {"AAPL", "BINANCE:BTCUSDT"},
                            {"news", "trades"});
  const auto m = finnhub_subscribe_messages(desired_subscription(c));
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0], R"({"type":"subscribe","symbol":"AAPL"})");
  EXPECT_EQ(m[1], R"({"type":"subscribe","symbol":"BINANCE:BTCUSDT"})");
  EXPECT_EQ(m[2], R"({"type":"subscribe-news","symbol":"AAPL"})");
}

TEST(subscription, binance_subscribe_requests_are_batched) {
  std::vector<std::string> streams;
  for (int i = 0; i < 250; ++i) streams.push_back("s" + std::to_string(i) + "@trade");
  const auto m = binance_subscribe_messages(streams, 100, 7);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].find(R"({"method":"SUBSCRIBE","params":["s0@trade",)"), 0u);
  EXPECT_NE(m[0].find(R"("s99@trade"],"id":7})"), std::string::npos);
  EXPECT_NE(m[2].find(R"("s249@trade"],"id":9})"), std::string::npos);
  EXPECT_GT(send_rate_limit(dialect::binance), 0.0);
  EXPECT_LT(send_rate_limit(dialect::binance), 5.0) << "Binance allows 5 incoming msgs/s";
  EXPECT_EQ(send_rate_limit(dialect::alpaca_stocks), 0.0);
}

TEST(subscription, symbols_and_secrets_are_json_escaped) {
  auto c = config_for(dialect::alpaca_stocks, "wss://x/v2/iex", {"A\"B"}, {"trades"});
  c.key = secret("k\\\"");
  EXPECT_EQ(alpaca_subscribe_message(desired_subscription(c)),
            R"({"action":"subscribe","trades":["A\"B"]})");
  EXPECT_EQ(alpaca_auth_message(c.key, c.key_secret),
            R"({"action":"auth","key":"k\\\"","secret":"SECRET456"})");
}

TEST(channels, checked_per_dialect) {
  EXPECT_EQ(check_channel(dialect::alpaca_stocks, "trades"), "");
  EXPECT_EQ(check_channel(dialect::polygon_stocks, "second_bars"), "");
  EXPECT_NE(check_channel(dialect::alpaca_stocks, "news").find("trades, quotes"), std::string::npos);
  EXPECT_NE(check_channel(dialect::generic, "trades"), "");
  EXPECT_EQ(check_channel(dialect::finnhub, "news"), "");
}

// ---- acks ---------------------------------------------------------------------------------------

TEST(reconcile, alpaca_full_state_ack) {
  const auto acked = parse_alpaca_subscription(
      R"([{"T":"subscription","trades":["NVDA"],"quotes":[],"bars":["*"],"corrections":["NVDA"]}])");
  ASSERT_TRUE(acked);
  channel_set desired{{"trades", {"NVDA", "AVGO"}}, {"bars", {"NVDA", "AVGO"}}};
  const reconcile_result r = reconcile(desired, *acked);
  EXPECT_EQ(r.desired, 4u);
  EXPECT_EQ(r.acknowledged, 3u);
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0], "trades:AVGO");
  EXPECT_FALSE(parse_alpaca_subscription(R"([{"T":"success","msg":"authenticated"}])"));
  EXPECT_FALSE(parse_alpaca_subscription("not json"));
}

TEST(classify, upgrade_status) {
  EXPECT_EQ(classify_upgrade_status(401), failure_class::fatal);
  EXPECT_EQ(classify_upgrade_status(403), failure_class::fatal);
  EXPECT_EQ(classify_upgrade_status(404), failure_class::fatal);
  EXPECT_EQ(classify_upgrade_status(429), failure_class::throttled);
  EXPECT_EQ(classify_upgrade_status(500), failure_class::transient);
  EXPECT_EQ(classify_upgrade_status(503), failure_class::transient);
  EXPECT_EQ(classify_upgrade_status(200), failure_class::transient);
}

// ---- sequences ---------------------------------------------------------------------------------

TEST(vendor_session, alpaca_waits_for_the_greeting_then_auths_then_subscribes) {
  const auto c = config_for(dialect::alpaca_stocks, "wss://x/v2/iex", {"NVDA", "AVGO"},
                            {"trades"});
  driver d(c);
  session_step s = d.session.on_open();
  EXPECT_TRUE(s.send.empty()) << "the server speaks first";
  EXPECT_EQ(d.session.phase(), session_phase::awaiting_greeting);

  s = d.frame(R"([{"T":"success","msg":"connected"}])");
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"action":"auth","key":"KEY123","secret":"SECRET456"})");
  EXPECT_FALSE(d.session.authenticated());

  s = d.frame(R"([{"T":"success","msg":"authenticated"}])");
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"action":"subscribe","trades":["NVDA","AVGO"]})");
  EXPECT_TRUE(d.session.authenticated());
  EXPECT_EQ(d.session.phase(), session_phase::subscribing);

  s = d.frame(R"([{"T":"subscription","trades":["NVDA"],"quotes":[],"bars":[]}])");
  EXPECT_FALSE(s.fail);
  ASSERT_EQ(s.warnings.size(), 1u) << "AVGO is missing from the ack";
  EXPECT_NE(s.warnings[0].find("trades:AVGO"), std::string::npos);
  EXPECT_EQ(d.session.acknowledged_count(), 1u);
  EXPECT_EQ(d.session.desired_count(), 2u);
  EXPECT_EQ(d.session.phase(), session_phase::streaming);

  s = d.frame(R"([{"T":"t","S":"NVDA","i":1,"x":"V","p":120.5,"s":10,"t":"2025-01-27T14:30:00Z"}])");
  EXPECT_FALSE(s.fail);
  EXPECT_TRUE(s.send.empty());
}

TEST(vendor_session, alpaca_failures_are_classified) {
  const auto c = config_for(dialect::alpaca_stocks, "wss://x/v2/sip", {"NVDA"});
  struct expectation {
    const char* frame;
    std::optional<failure_class> cls;
  };
  const expectation cases[] = {
      {R"([{"T":"error","code":402,"msg":"auth failed"}])", failure_class::fatal},
      {R"([{"T":"error","code":409,"msg":"insufficient subscription"}])", failure_class::fatal},
      {R"([{"T":"error","code":411,"msg":"insufficient scope"}])", failure_class::fatal},
      {R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])", failure_class::throttled},
      {R"([{"T":"error","code":404,"msg":"auth timeout"}])", failure_class::transient},
      {R"([{"T":"error","code":500,"msg":"internal error"}])", failure_class::transient},
      {R"([{"T":"error","code":405,"msg":"symbol limit exceeded"}])", std::nullopt},
      {R"([{"T":"error","code":400,"msg":"invalid syntax"}])", std::nullopt},
  };
  for (const expectation& e : cases) {
    driver d(c);
    d.session.on_open();
    d.frame(R"([{"T":"success","msg":"connected"}])");
    const session_step s = d.frame(e.frame);
    if (e.cls) {
      ASSERT_TRUE(s.fail) << e.frame;
      EXPECT_EQ(s.fail->cls, *e.cls) << e.frame;
      EXPECT_EQ(s.fail->reason.find("SECRET456"), std::string::npos);
      EXPECT_EQ(s.fail->reason.find("KEY123"), std::string::npos);
    } else {
      EXPECT_FALSE(s.fail) << e.frame;
      EXPECT_EQ(s.warnings.size(), 1u) << e.frame;
    }
  }
}

TEST(vendor_session, alpaca_header_auth_without_greeting_still_subscribes) {
  const auto c = config_for(dialect::alpaca_news, "wss://x/v1beta1/news");
  driver d(c);
  d.session.on_open();
  const session_step s = d.frame(R"([{"T":"success","msg":"authenticated"}])");
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"action":"subscribe","news":["*"]})");
}

TEST(vendor_session, polygon_sequence_and_eviction) {
  const auto c = config_for(dialect::polygon_stocks, "wss://socket.massive.com/stocks",
                            {"NVDA"}, {"trades", "bars"});
  driver d(c);
  EXPECT_TRUE(d.session.on_open().send.empty());
  session_step s =
      d.frame(R"([{"ev":"status","status":"connected","message":"Connected Successfully"}])");
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"action":"auth","params":"KEY123"})");
  s = d.frame(R"([{"ev":"status","status":"auth_success","message":"authenticated"}])");
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"action":"subscribe","params":"AM.NVDA,T.NVDA"})");
  d.frame(R"([{"ev":"status","status":"success","message":"subscribed to: AM.NVDA"}])");
  d.frame(R"([{"ev":"status","status":"success","message":"subscribed to: T.NVDA"}])");
  EXPECT_EQ(d.session.acknowledged_count(), 2u);
  s = d.frame(R"([{"ev":"status","status":"max_connections","message":"Maximum number of websocket connections exceeded."}])");
  ASSERT_TRUE(s.fail);
  EXPECT_EQ(s.fail->cls, failure_class::throttled);
}

TEST(vendor_session, polygon_bad_key_is_fatal) {
  const auto c = config_for(dialect::polygon_stocks, "wss://socket.massive.com/stocks", {"NVDA"});
  driver d(c);
  d.session.on_open();
  d.frame(R"([{"ev":"status","status":"connected","message":"Connected Successfully"}])");
  const session_step s =
      d.frame(R"([{"ev":"status","status":"auth_failed","message":"authentication failed"}])");
  ASSERT_TRUE(s.fail);
  EXPECT_EQ(s.fail->cls, failure_class::fatal);
  EXPECT_NE(s.fail->reason.find("authentication failed"), std::string::npos);
}

TEST(vendor_session, finnhub_subscribes_on_open_and_errors_are_warnings) {
  const auto c = config_for(dialect::finnhub, "wss://ws.finnhub.io", {"AAPL", "MSFT"});
  driver d(c);
  const session_step s = d.session.on_open();
  ASSERT_EQ(s.send.size(), 2u);
  EXPECT_EQ(s.send[1], R"({"type":"subscribe","symbol":"MSFT"})");
  EXPECT_TRUE(d.session.authenticated());
  EXPECT_EQ(d.session.phase(), session_phase::streaming);
  const session_step e = d.frame(R"({"type":"error","msg":"Invalid symbol XYZ"})");
  EXPECT_FALSE(e.fail);
  EXPECT_EQ(e.warnings.size(), 1u);
  EXPECT_FALSE(d.frame(R"({"type":"ping"})").fail);
}

TEST(vendor_session, binance_url_mode_sends_nothing_message_mode_subscribes) {
  auto c = config_for(dialect::binance, "wss://stream.binance.com/ws", {"BTCUSDT"});
  {
    driver d(c);
    EXPECT_TRUE(d.session.on_open().send.empty());
    EXPECT_EQ(d.session.phase(), session_phase::streaming);
  }
  c.binance_mode = subscribe_mode::message;
  driver d(c);
  const session_step s = d.session.on_open();
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1})");
  EXPECT_EQ(d.session.phase(), session_phase::subscribing);
  d.frame(R"({"result":null,"id":1})");
  EXPECT_EQ(d.session.acknowledged_count(), 1u);
  EXPECT_EQ(d.session.phase(), session_phase::streaming);
}

TEST(vendor_session, binance_server_shutdown_means_reconnect_now) {
  const auto c = config_for(dialect::binance, "wss://stream.binance.com/ws", {"BTCUSDT"});
  driver d(c);
  d.session.on_open();
  const session_step s = d.frame(R"({"e":"serverShutdown","E":1672515782136})");
  EXPECT_TRUE(s.reconnect_now);
  EXPECT_FALSE(s.fail);
}

TEST(vendor_session, generic_sends_the_configured_message) {
  auto c = config_for(dialect::generic, "ws://127.0.0.1:1/generic");
  c.subscribe_message = R"({"op":"subscribe","topics":["news"]})";
  driver d(c);
  const session_step s = d.session.on_open();
  ASSERT_EQ(s.send.size(), 1u);
  EXPECT_EQ(s.send[0], c.subscribe_message);
  c.subscribe_message.clear();
  driver quiet(c);
  EXPECT_TRUE(quiet.session.on_open().send.empty());
}

TEST(defaults, per_dialect) {
  EXPECT_EQ(default_stale_after(dialect::binance), 60 * rules::k_ns_per_s);
  EXPECT_EQ(default_stale_after(dialect::generic), 0);
  EXPECT_EQ(default_max_connection_age(dialect::binance), 23 * rules::k_ns_per_hour);
  EXPECT_EQ(default_max_connection_age(dialect::alpaca_stocks), 0);
  EXPECT_TRUE(needs_secret(dialect::alpaca_news));
  EXPECT_FALSE(needs_secret(dialect::polygon_stocks));
  EXPECT_TRUE(needs_key(dialect::finnhub));
  EXPECT_FALSE(needs_key(dialect::binance));
}

}  // namespace
}  // namespace aftershock::feeds
