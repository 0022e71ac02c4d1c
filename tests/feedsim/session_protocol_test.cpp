#include "feedsim/session_protocol.h"

#include <gtest/gtest.h>

namespace aftershock::feedsim {
namespace {

using feeds::dialect;
using ending = protocol_step::ending;
constexpr rules::time_ns s = rules::k_ns_per_s;

endpoint at(const char* target) { return *route(target); }

protocol_step message(session_protocol& p, const std::string& json, rules::time_ns now = 0) {
  auto v = parse_json(json);
  return p.on_message(v ? &*v : nullptr, now);
}

std::vector<std::string> sent(const protocol_step& step) { return step.send; }

// ---- Alpaca ---------------------------------------------------------------------------------

TEST(AlpacaProtocol, GreetsAuthenticatesAndAcksTheFullSet) {
  connection_registry registry;
  session_protocol p(at("/v2/iex"), {}, registry);
  EXPECT_EQ(p.upgrade_status(), 101);
  EXPECT_EQ(sent(p.on_open({}, 0)),
            (std::vector<std::string>{R"([{"T":"success","msg":"connected"}])"}));
  EXPECT_EQ(sent(message(p, R"({"action":"auth","key":"k","secret":"s"})")),
            (std::vector<std::string>{R"([{"T":"success","msg":"authenticated"}])"}));
  EXPECT_TRUE(p.authenticated());
  EXPECT_FALSE(p.streaming());

  auto step = message(p, R"({"action":"subscribe","trades":["NVDA"],"quotes":["AVGO"],"bars":["*"]})");
  ASSERT_EQ(step.send.size(), 1u);
  EXPECT_EQ(step.send[0],
            R"([{"T":"subscription","trades":["NVDA"],"quotes":["AVGO"],"bars":["*"],)"
            R"("updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],)"
            R"("corrections":["NVDA"],"cancelErrors":["NVDA"]}])");
  EXPECT_TRUE(p.streaming());

  // A delta adds to the set; the ack is the whole set again.
  step = message(p, R"({"action":"subscribe","trades":["AAPL"]})");
  EXPECT_NE(step.send[0].find(R"("trades":["NVDA","AAPL"])"), std::string::npos);
  step = message(p, R"({"action":"unsubscribe","trades":["NVDA"],"bars":["*"]})");
  EXPECT_NE(step.send[0].find(R"("trades":["AAPL"],"quotes":["AVGO"],"bars":[])"),
            std::string::npos);
}

TEST(AlpacaProtocol, NewsEndpointAcksNews) {
  connection_registry registry;
  session_protocol p(at("/v1beta1/news"), {}, registry);
  p.on_open({}, 0);
  message(p, R"({"action":"auth","key":"k","secret":"s"})");
  EXPECT_EQ(sent(message(p, R"({"action":"subscribe","news":["*"]})")),
            (std::vector<std::string>{R"([{"T":"subscription","news":["*"]}])"}));
  // Stock channels do not exist on the news endpoint.
  EXPECT_EQ(sent(message(p, R"({"action":"subscribe","trades":["NVDA"]})")),
            (std::vector<std::string>{R"([{"T":"error","code":400,"msg":"invalid syntax"}])"}));
}

TEST(AlpacaProtocol, ErrorsByTheBook) {
  connection_registry registry;
  session_protocol p(at("/v2/sip"), {}, registry);
  p.on_open({}, 0);
  EXPECT_EQ(sent(message(p, R"({"action":"subscribe","trades":["NVDA"]})")),
            (std::vector<std::string>{R"([{"T":"error","code":401,"msg":"not authenticated"}])"}));
  EXPECT_EQ(sent(message(p, "{not json")),
            (std::vector<std::string>{R"([{"T":"error","code":400,"msg":"invalid syntax"}])"}));
  EXPECT_EQ(sent(message(p, R"({"action":"dance"})")),
            (std::vector<std::string>{R"([{"T":"error","code":400,"msg":"invalid syntax"}])"}));
  message(p, R"({"action":"auth","key":"k","secret":"s"})");
  EXPECT_EQ(sent(message(p, R"({"action":"auth","key":"k","secret":"s"})")),
            (std::vector<std::string>{R"([{"T":"error","code":403,"msg":"already authenticated"}])"}));
  // Empty list, unknown channel, wrong types: 400, and the set is unchanged.
  for (const char* bad : {R"({"action":"subscribe","trades":[]})",
                          R"({"action":"subscribe","trades":["A"],"candles":["A"]})",
                          R"({"action":"subscribe","trades":"NVDA"})",
                          R"({"action":"subscribe"})"}) {
    EXPECT_EQ(sent(message(p, bad)),
              (std::vector<std::string>{R"([{"T":"error","code":400,"msg":"invalid syntax"}])"}))
        << bad;
  }
  EXPECT_TRUE(p.subs().empty());
}

TEST(AlpacaProtocol, BadCredentialsGet402AndAClose) {
  connection_registry registry;
  protocol_config config;
  config.key = "good";
  config.secret = "secret";
  session_protocol p(at("/v2/iex"), config, registry);
  p.on_open({}, 0);
  auto step = message(p, R"({"action":"auth","key":"good","secret":"wrong"})");
  EXPECT_EQ(sent(step), (std::vector<std::string>{R"([{"T":"error","code":402,"msg":"auth failed"}])"}));
  EXPECT_EQ(step.end, ending::close);
  EXPECT_TRUE(p.ended());
  EXPECT_FALSE(p.authenticated());
}

TEST(AlpacaProtocol, RejectAuthFaultRefusesEvenGoodKeys) {
  connection_registry registry;
  protocol_config config;
  config.reject_auth = true;
  session_protocol p(at("/v2/iex"), config, registry);
  p.on_open({}, 0);
  EXPECT_EQ(message(p, R"({"action":"auth","key":"k","secret":"s"})").send.at(0),
            R"([{"T":"error","code":402,"msg":"auth failed"}])");
}

TEST(AlpacaProtocol, AuthTimeoutAfterTenSeconds) {
  connection_registry registry;
  session_protocol p(at("/v2/iex"), {}, registry);
  p.on_open({}, 100 * s);
  EXPECT_EQ(p.next_deadline(), 110 * s);
  EXPECT_TRUE(p.on_tick(109 * s).send.empty());
  auto step = p.on_tick(110 * s);
  EXPECT_EQ(sent(step), (std::vector<std::string>{R"([{"T":"error","code":404,"msg":"auth timeout"}])"}));
  EXPECT_EQ(step.end, ending::close);
}

TEST(AlpacaProtocol, SecondConnectionWithTheSameKeyGets406) {
  connection_registry registry;
  protocol_config config;
  config.connection_limit = 1;
  auto first = std::make_unique<session_protocol>(at("/v2/iex"), config, registry);
  first->on_open({}, 0);
  message(*first, R"({"action":"auth","key":"k","secret":"s"})");
  EXPECT_TRUE(first->authenticated());

  session_protocol second(at("/v2/iex"), config, registry);
  second.on_open({}, 0);
  auto step = message(second, R"({"action":"auth","key":"k","secret":"s"})");
  EXPECT_EQ(sent(step),
            (std::vector<std::string>{R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])"}));
  EXPECT_EQ(step.end, ending::close);

  // Another key, or another endpoint, is a different budget.
  session_protocol other_key(at("/v2/iex"), config, registry);
  other_key.on_open({}, 0);
  EXPECT_TRUE(message(other_key, R"({"action":"auth","key":"k2","secret":"s"})").end == ending::none);
  session_protocol news(at("/v1beta1/news"), config, registry);
  news.on_open({}, 0);
  EXPECT_TRUE(message(news, R"({"action":"auth","key":"k","secret":"s"})").end == ending::none);

  // Once the first goes, its slot is free again.
  first.reset();
  session_protocol third(at("/v2/iex"), config, registry);
  third.on_open({}, 0);
  EXPECT_TRUE(message(third, R"({"action":"auth","key":"k","secret":"s"})").end == ending::none);
}

TEST(AlpacaProtocol, HeaderAuthAuthenticatesAtOnce) {
  connection_registry registry;
  session_protocol p(at("/v2/iex"), {}, registry);
  handshake_info info;
  info.header_key = "k";
  info.header_secret = "s";
  EXPECT_EQ(sent(p.on_open(info, 0)),
            (std::vector<std::string>{R"([{"T":"success","msg":"connected"}])",
                                      R"([{"T":"success","msg":"authenticated"}])"}));
  EXPECT_TRUE(p.authenticated());
  EXPECT_FALSE(p.next_deadline().has_value() && *p.next_deadline() <= 10 * s);
}

TEST(AlpacaProtocol, MsgpackOnlyForAlpaca) {
  connection_registry registry;
  handshake_info info;
  info.msgpack = true;
  session_protocol alpaca(at("/v2/iex"), {}, registry);
  alpaca.on_open(info, 0);
  EXPECT_TRUE(alpaca.msgpack());
  session_protocol polygon(at("/stocks"), {}, registry);
  polygon.on_open(info, 0);
  EXPECT_FALSE(polygon.msgpack());
}

TEST(AlpacaProtocol, PingsEvery54SecondsByDefault) {
  connection_registry registry;
  session_protocol p(at("/v2/iex"), {}, registry);
  handshake_info info;
  info.header_key = "k";
  info.header_secret = "s";
  p.on_open(info, 0);
  EXPECT_EQ(p.next_deadline(), 54 * s);
  EXPECT_TRUE(p.on_tick(54 * s).ws_ping);
  EXPECT_EQ(p.next_deadline(), 108 * s);
}

// ---- Polygon --------------------------------------------------------------------------------

TEST(PolygonProtocol, SequenceWithPerItemAcks) {
  connection_registry registry;
  session_protocol p(at("/stocks"), {}, registry);
  EXPECT_EQ(sent(p.on_open({}, 0)),
            (std::vector<std::string>{
                R"([{"ev":"status","status":"connected","message":"Connected Successfully"}])"}));
  EXPECT_EQ(sent(message(p, R"({"action":"subscribe","params":"T.NVDA"})")),
            (std::vector<std::string>{R"([{"ev":"status","status":"error","message":"not authenticated"}])"}));
  EXPECT_EQ(sent(message(p, R"({"action":"auth","params":"KEY"})")),
            (std::vector<std::string>{
                R"([{"ev":"status","status":"auth_success","message":"authenticated"}])"}));
  EXPECT_EQ(sent(message(p, R"({"action":"subscribe","params":"T.NVDA, Q.NVDA,AM.*,bad"})")),
            (std::vector<std::string>{
                R"([{"ev":"status","status":"success","message":"subscribed to: T.NVDA"}])",
                R"([{"ev":"status","status":"success","message":"subscribed to: Q.NVDA"}])",
                R"([{"ev":"status","status":"success","message":"subscribed to: AM.*"}])",
                R"([{"ev":"status","status":"error","message":"invalid subscription: bad"}])"}));
  EXPECT_TRUE(p.streaming());
  EXPECT_TRUE(p.subs().find("AM")->matches("ANY"));
  EXPECT_EQ(sent(message(p, R"({"action":"unsubscribe","params":"T.NVDA"})")),
            (std::vector<std::string>{
                R"([{"ev":"status","status":"success","message":"unsubscribed to: T.NVDA"}])"}));
}

TEST(PolygonProtocol, AuthFailedAndMaxConnections) {
  connection_registry registry;
  protocol_config config;
  config.key = "KEY";
  config.connection_limit = 1;
  session_protocol bad(at("/stocks"), config, registry);
  bad.on_open({}, 0);
  auto step = message(bad, R"({"action":"auth","params":"WRONG"})");
  EXPECT_EQ(sent(step), (std::vector<std::string>{
                            R"([{"ev":"status","status":"auth_failed","message":"authentication failed"}])"}));
  EXPECT_EQ(step.end, ending::close);

  session_protocol first(at("/stocks"), config, registry);
  first.on_open({}, 0);
  message(first, R"({"action":"auth","params":"KEY"})");
  session_protocol second(at("/stocks"), config, registry);
  second.on_open({}, 0);
  step = message(second, R"({"action":"auth","params":"KEY"})");
  EXPECT_EQ(step.send.at(0),
            R"([{"ev":"status","status":"max_connections","message":"Maximum number of websocket connections exceeded."}])");
  EXPECT_EQ(step.end, ending::close);
  EXPECT_EQ(step.close_code, 1008);
}

TEST(PolygonProtocol, AuthTimeout) {
  connection_registry registry;
  session_protocol p(at("/stocks"), {}, registry);
  p.on_open({}, 0);
  auto step = p.on_tick(10 * s);
  EXPECT_EQ(sent(step), (std::vector<std::string>{
                            R"([{"ev":"status","status":"auth_timeout","message":"No authentication request received."}])"}));
  EXPECT_EQ(step.end, ending::close);
}

// ---- Finnhub --------------------------------------------------------------------------------

TEST(FinnhubProtocol, TokenAtTheUpgradeNoAcksJsonPings) {
  connection_registry registry;
  EXPECT_EQ(session_protocol(at("/"), {}, registry).upgrade_status(), 401);
  EXPECT_EQ(session_protocol(at("/?token="), {}, registry).upgrade_status(), 401);
  protocol_config config;
  config.key = "abc";
  EXPECT_EQ(session_protocol(at("/?token=xyz"), config, registry).upgrade_status(), 401);
  session_protocol p(at("/?token=abc"), config, registry);
  EXPECT_EQ(p.upgrade_status(), 101);

  EXPECT_TRUE(p.on_open({}, 0).send.empty());  // no greeting
  EXPECT_TRUE(message(p, R"({"type":"subscribe","symbol":"NVDA"})").send.empty());  // no ack
  EXPECT_TRUE(message(p, R"({"type":"subscribe-news","symbol":"AAPL"})").send.empty());
  EXPECT_TRUE(p.streaming());
  EXPECT_TRUE(p.subs().find("trades")->contains("NVDA"));
  EXPECT_TRUE(p.subs().find("news")->contains("AAPL"));
  message(p, R"({"type":"unsubscribe","symbol":"NVDA"})");
  EXPECT_FALSE(p.subs().find("trades")->contains("NVDA"));
  EXPECT_EQ(sent(message(p, R"({"type":"subscribe"})")),
            (std::vector<std::string>{R"({"type":"error","msg":"Invalid message"})"}));

  EXPECT_EQ(p.next_deadline(), 60 * s);
  auto tick = p.on_tick(60 * s);
  EXPECT_EQ(sent(tick), (std::vector<std::string>{R"({"type":"ping"})"}));
  EXPECT_FALSE(tick.ws_ping);
}

// ---- Binance --------------------------------------------------------------------------------

TEST(BinanceProtocol, StreamsFromThePathAndLiveRequests) {
  connection_registry registry;
  session_protocol p(at("/ws/btcusdt@trade"), {}, registry);
  EXPECT_TRUE(p.on_open({}, 0).send.empty());
  EXPECT_TRUE(p.streaming());
  EXPECT_FALSE(p.subs().binance_combined);
  EXPECT_EQ(sent(message(p, R"({"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1})")),
            (std::vector<std::string>{R"({"result":null,"id":1})"}));
  EXPECT_EQ(sent(message(p, R"({"method":"LIST_SUBSCRIPTIONS","id":"abc"})")),
            (std::vector<std::string>{R"({"result":["btcusdt@trade","ethusdt@trade"],"id":"abc"})"}));
  EXPECT_EQ(sent(message(p, R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":2})")),
            (std::vector<std::string>{R"({"result":null,"id":2})"}));
  EXPECT_EQ(sent(message(p, R"({"method":"SET_PROPERTY","params":["combined",true],"id":3})")),
            (std::vector<std::string>{R"({"result":null,"id":3})"}));
  EXPECT_TRUE(p.subs().binance_combined);
  EXPECT_EQ(sent(message(p, R"({"method":"GET_PROPERTY","params":["combined"],"id":4})")),
            (std::vector<std::string>{R"({"result":true,"id":4})"}));
  EXPECT_EQ(sent(message(p, R"({"method":"NOPE","id":5})")),
            (std::vector<std::string>{R"({"code":2,"msg":"Invalid request: unknown method","id":5})"}));
  EXPECT_EQ(message(p, "nope").send.at(0).rfind(R"({"code":3,)", 0), 0u);
}

TEST(BinanceProtocol, CombinedPathWrapsEvents) {
  connection_registry registry;
  session_protocol p(at("/stream?streams=btcusdt@trade/ethusdt@trade"), {}, registry);
  p.on_open({}, 0);
  EXPECT_TRUE(p.subs().binance_combined);
  EXPECT_EQ(p.subs().find("streams")->size(), 2u);
}

TEST(BinanceProtocol, PingsEvery20SecondsAndCutsWithoutPong) {
  connection_registry registry;
  session_protocol p(at("/ws/btcusdt@trade"), {}, registry);
  p.on_open({}, 0);
  EXPECT_EQ(p.next_deadline(), 20 * s);
  EXPECT_TRUE(p.on_tick(20 * s).ws_ping);
  p.on_pong(21 * s);  // answered
  EXPECT_TRUE(p.on_tick(40 * s).ws_ping);
  EXPECT_TRUE(p.on_tick(60 * s).ws_ping);  // still unanswered since 40 s
  EXPECT_TRUE(p.on_tick(80 * s).ws_ping);
  EXPECT_EQ(p.next_deadline(), 100 * s);  // the pong deadline: 40 s + 60 s
  auto step = p.on_tick(100 * s);
  EXPECT_EQ(step.end, ending::abort);
}

TEST(Protocol, PingIntervalOverrideAndOff) {
  connection_registry registry;
  protocol_config fast;
  fast.ping_interval = s / 5;
  session_protocol p(at("/ws/btcusdt@trade"), fast, registry);
  p.on_open({}, 0);
  EXPECT_EQ(p.next_deadline(), s / 5);
  protocol_config off;
  off.ping_interval = 0;
  session_protocol q(at("/ws/btcusdt@trade"), off, registry);
  q.on_open({}, 0);
  EXPECT_FALSE(q.next_deadline().has_value());
}

TEST(GenericProtocol, NoHandshakeEverythingSent) {
  connection_registry registry;
  session_protocol p(at("/generic"), {}, registry);
  EXPECT_TRUE(p.on_open({}, 0).send.empty());
  EXPECT_TRUE(p.streaming());
  EXPECT_TRUE(message(p, R"({"anything":1})").send.empty());
  EXPECT_FALSE(p.next_deadline().has_value());
}

}  // namespace
}  // namespace aftershock::feedsim
