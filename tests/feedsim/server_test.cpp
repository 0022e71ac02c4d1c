// Integration tests: the real aftershock-feedsim binary on 127.0.0.1 port 0, driven by a plain
// Beast client (tests/support/ws_test_client). Every wait has a deadline; nothing sleeps
// except where a test needs a gap between a client's messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "feedsim/data_frame.h"
#include "feedsim/json_value.h"
#include "feedsim/msgpack.h"
#include "feedsim/subscriptions.h"
#include "tests/support/fixtures.h"
#include "tests/support/ws_test_client.h"

namespace aftershock::feedsim {
namespace {

using test::feedsim_process;
using test::ws_client_options;
using test::ws_message;
using test::ws_test_client;
using namespace std::chrono_literals;

const std::string k_binary = std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim";
const std::string k_capture = std::string(AFTERSHOCK_TEST_DATA_DIR) + "/feedsim/small.ndjson";

const std::string k_nvda_trade_1 =
    R"([{"T":"t","S":"NVDA","i":1,"x":"V","p":120.5,"s":100,"c":["@"],"z":"C","t":"2025-01-27T14:30:00.095123456Z"}])";
const std::string k_nvda_trade_3 =
    R"([{"T":"t","S":"NVDA","i":3,"x":"V","p":120.6,"s":200,"c":["@"],"z":"C","t":"2025-01-27T14:30:00.899Z"}])";

class FeedsimServer : public ::testing::Test {
 protected:
  // Starts feedsim on port 0 with `args` plus the small capture.
  void start(std::vector<std::string> args) {
    // A bound on every run: feedsim exits by itself if no client ever subscribes.
    if (std::find(args.begin(), args.end(), "--start-timeout") == args.end()) {
      args.insert(args.begin(), {"--start-timeout", "30s"});
    }
    args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
    args.push_back(k_capture);
    std::string error;
    sim_ = feedsim_process::start(k_binary, args, &error);
    ASSERT_TRUE(sim_) << error;
  }

  std::unique_ptr<ws_test_client> connect(const std::string& target,
                                          const ws_client_options& options = {},
                                          int* http_status = nullptr) {
    std::string error;
    auto c = ws_test_client::connect("127.0.0.1", sim_->port(), target, options, &error,
                                     http_status);
    if (!c && !http_status) ADD_FAILURE() << target << ": " << error;
    return c;
  }

  static std::string text(ws_test_client& c) {
    auto m = c.receive(5s);
    if (!m) return "<nothing: " + c.end_reason() + ">";
    return m->binary ? "<binary>" : m->data;
  }

  // Greeting, auth, subscribe: the Alpaca sequence of feeds.md §1.3.
  static void alpaca_login(ws_test_client& c, const std::string& subscribe) {
    EXPECT_EQ(text(c), R"([{"T":"success","msg":"connected"}])");
    ASSERT_TRUE(c.send_text(R"({"action":"auth","key":"key","secret":"secret"})"));
    EXPECT_EQ(text(c), R"([{"T":"success","msg":"authenticated"}])");
    ASSERT_TRUE(c.send_text(subscribe));
    const std::string ack = text(c);
    EXPECT_EQ(ack.rfind(R"([{"T":"subscription")", 0), 0u) << ack;
  }

  // Every message until the server ends the connection.
  static std::vector<ws_message> drain(ws_test_client& c, std::chrono::milliseconds timeout = 10s) {
    std::vector<ws_message> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!c.closed() && std::chrono::steady_clock::now() < deadline) {
      if (auto m = c.receive(500ms)) out.push_back(std::move(*m));
    }
    EXPECT_TRUE(c.closed()) << "the server did not end the connection in time";
    return out;
  }

  std::unique_ptr<feedsim_process> sim_;
};

TEST_F(FeedsimServer, AlpacaHandshakeAndSubscriptionFiltering) {
  start({"--speed", "max", "--exit-when-done"});
  auto c = connect("/v2/iex");
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  auto frames = drain(*c);
  // Only NVDA trades, re-batched: the AAPL trade left the first frame, the NVDA bar the last.
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, k_nvda_trade_1);
  EXPECT_EQ(frames[1].data, k_nvda_trade_3);
  EXPECT_EQ(c->close_code(), 1001);  // going away: the capture is done
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

TEST_F(FeedsimServer, AlpacaWildcardGetsWholeFrames) {
  start({"--speed", "max", "--exit-when-done"});
  auto c = connect("/v2/sip");
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["*"],"quotes":["*"],"bars":["*"]})");
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 4u);  // the captured greeting is not replayed
  EXPECT_NE(frames[0].data.find(R"("S":"AAPL")"), std::string::npos);
  EXPECT_NE(frames[2].data.find(R"("T":"b")"), std::string::npos);
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

TEST_F(FeedsimServer, AlpacaAuthFailureAndSubscribeBeforeAuth) {
  start({"--key", "key", "--secret", "right"});
  auto c = connect("/v2/iex");
  ASSERT_TRUE(c);
  EXPECT_EQ(text(*c), R"([{"T":"success","msg":"connected"}])");
  ASSERT_TRUE(c->send_text(R"({"action":"subscribe","trades":["NVDA"]})"));
  EXPECT_EQ(text(*c), R"([{"T":"error","code":401,"msg":"not authenticated"}])");
  ASSERT_TRUE(c->send_text(R"({"action":"auth","key":"key","secret":"wrong"})"));
  EXPECT_EQ(text(*c), R"([{"T":"error","code":402,"msg":"auth failed"}])");
  EXPECT_TRUE(c->wait_closed(5s));
  EXPECT_EQ(c->close_code(), 1008);
}

TEST_F(FeedsimServer, RejectAuthOnlyOnTheFirstConnection) {
  start({"--reject-auth", "--fault-connections", "1"});
  auto first = connect("/v2/iex");
  ASSERT_TRUE(first);
  EXPECT_EQ(text(*first), R"([{"T":"success","msg":"connected"}])");
  ASSERT_TRUE(first->send_text(R"({"action":"auth","key":"key","secret":"secret"})"));
  EXPECT_EQ(text(*first), R"([{"T":"error","code":402,"msg":"auth failed"}])");
  auto second = connect("/v2/iex");  // the reconnect is let in
  ASSERT_TRUE(second);
  alpaca_login(*second, R"({"action":"subscribe","trades":["NVDA"]})");
}

TEST_F(FeedsimServer, AlpacaMsgpackMode) {
  start({"--speed", "max", "--exit-when-done"});
  ws_client_options opt;
  opt.headers = {{"Content-Type", "application/msgpack"}};
  auto c = connect("/v2/iex", opt);
  ASSERT_TRUE(c);
  auto decode = [&]() -> std::optional<json_value> {
    auto m = c->receive(5s);
    if (!m) return std::nullopt;
    EXPECT_TRUE(m->binary);
    return decode_msgpack(m->data);
  };
  auto greeting = decode();
  ASSERT_TRUE(greeting);
  EXPECT_EQ(to_json(*greeting), R"([{"T":"success","msg":"connected"}])");

  auto pack = [](const std::string& json) {
    json_to_msgpack enc;
    std::string out;
    enc.encode(json, out);
    return out;
  };
  ASSERT_TRUE(c->send_binary(pack(R"({"action":"auth","key":"key","secret":"secret"})")));
  EXPECT_EQ(to_json(*decode()), R"([{"T":"success","msg":"authenticated"}])");
  ASSERT_TRUE(c->send_binary(pack(R"({"action":"subscribe","trades":["NVDA"],"bars":["NVDA"]})")));
  auto ack = decode();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->items.at(0).find("bars")->items.at(0).string, "NVDA");

  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 2u);
  auto first = decode_msgpack(frames[0].data);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 1u);
  const json_value& trade = first->items[0];
  EXPECT_EQ(trade.string_field("S"), "NVDA");
  EXPECT_EQ(trade.find("p")->number, 120.5);
  EXPECT_EQ(trade.find("i")->integer, 1);
  // `t` travelled as a timestamp extension with all nine digits.
  EXPECT_EQ(trade.string_field("t"), "2025-01-27T14:30:00.095123456Z");
  EXPECT_NE(frames[0].data.find(std::string("\xd7\xff", 2)), std::string::npos);
  auto second = decode_msgpack(frames[1].data);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->items.size(), 2u);  // the NVDA bar and trade, as captured
  EXPECT_EQ(second->items[0].find("o")->type, json_value::kind::number);  // "o":120 as float
}

TEST_F(FeedsimServer, BinanceCombinedStream) {
  start({"--speed", "max", "--exit-when-done"});
  auto c = connect("/stream?streams=btcusdt@trade");
  ASSERT_TRUE(c);
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 2u);  // ETHUSDT is not subscribed
  for (const auto& f : frames) {
    auto v = parse_json(f.data);
    ASSERT_TRUE(v) << f.data;
    EXPECT_EQ(v->string_field("stream"), "btcusdt@trade");
    ASSERT_NE(v->find("data"), nullptr);
    EXPECT_EQ(v->find("data")->string_field("s"), "BTCUSDT");
  }
}

TEST_F(FeedsimServer, BinanceLiveSubscribeAndServerPings) {
  start({"--wait-for", "2", "--ping-interval", "0.1"});
  auto c = connect("/ws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send_text(R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":7})"));
  EXPECT_EQ(text(*c), R"({"result":null,"id":7})");
  // Playback waits for a second client; meanwhile the server keeps pinging.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (c->pings() < 2 && std::chrono::steady_clock::now() < deadline) c->receive(100ms);
  EXPECT_GE(c->pings(), 2u);
  EXPECT_FALSE(c->closed());
}

TEST_F(FeedsimServer, PolygonFinnhubAndGeneric) {
  start({"--speed", "max", "--wait-for", "3", "--exit-when-done"});
  auto polygon = connect("/stocks");
  ASSERT_TRUE(polygon);
  EXPECT_EQ(text(*polygon),
            R"([{"ev":"status","status":"connected","message":"Connected Successfully"}])");
  ASSERT_TRUE(polygon->send_text(R"({"action":"auth","params":"key"})"));
  EXPECT_EQ(text(*polygon), R"([{"ev":"status","status":"auth_success","message":"authenticated"}])");
  ASSERT_TRUE(polygon->send_text(R"({"action":"subscribe","params":"T.MSFT"})"));
  EXPECT_EQ(text(*polygon),
            R"([{"ev":"status","status":"success","message":"subscribed to: T.MSFT"}])");

  auto finnhub = connect("/?token=key");
  ASSERT_TRUE(finnhub);
  ASSERT_TRUE(finnhub->send_text(R"({"type":"subscribe","symbol":"TSLA"})"));

  auto generic = connect("/generic");  // the third subscribed client starts playback
  ASSERT_TRUE(generic);

  auto p = drain(*polygon);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].data.rfind(R"([{"ev":"T","sym":"MSFT")", 0), 0u) << p[0].data;
  auto f = drain(*finnhub);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].data, R"({"type":"trade","data":[{"s":"TSLA","p":400.1,"t":1737988200700,"v":5}]})");
  auto g = drain(*generic);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_NE(g[0].data.find("A generic headline"), std::string::npos);
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

TEST_F(FeedsimServer, RefusedUpgrades) {
  start({"--key", "key"});
  int status = 0;
  EXPECT_FALSE(connect("/v9/nothing", {}, &status));
  EXPECT_EQ(status, 404);
  status = 0;
  EXPECT_FALSE(connect("/?token=wrong", {}, &status));
  EXPECT_EQ(status, 401);
}

TEST_F(FeedsimServer, DropAfterCutsTheConnectionWithoutCloseFrame) {
  start({"--speed", "max", "--drop-after", "1"});
  auto c = connect("/v2/iex");
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, k_nvda_trade_1);
  EXPECT_EQ(c->close_code(), 0);  // no close frame: cut
}

TEST_F(FeedsimServer, GarbageEveryInjectsNonJsonFrames) {
  start({"--speed", "max", "--exit-when-done", "--garbage-every", "1"});
  auto c = connect("/v2/iex");
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].data, k_nvda_trade_1);
  EXPECT_FALSE(parse_json(frames[1].data));
  EXPECT_EQ(frames[2].data, k_nvda_trade_3);
  EXPECT_FALSE(parse_json(frames[3].data));
}

TEST_F(FeedsimServer, OversizeEverySendsAFrameOfTheGivenSize) {
  start({"--speed", "max", "--exit-when-done", "--oversize-every", "2", "--oversize-bytes",
         "2000000"});
  ws_client_options opt;
  opt.read_message_max = 1u << 20;  // a client with a 1 MiB limit fails on it
  auto c = connect("/v2/iex", opt);
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 2u);  // the two trades, then the oversize frame ends the client
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(c->close_code(), 0) << "the server did not close: the client refused the frame";
}

TEST_F(FeedsimServer, StallKeepsTheSocketOpenButSilent) {
  start({"--speed", "max", "--stall-after", "1", "--ping-interval", "0.05"});
  auto c = connect("/v2/iex");
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  EXPECT_EQ(text(*c), k_nvda_trade_1);
  const std::size_t pings = c->pings();
  EXPECT_FALSE(c->receive(500ms));  // no data, no pings (which came every 50 ms before)
  EXPECT_FALSE(c->closed());
  EXPECT_EQ(c->pings(), pings);
}

TEST_F(FeedsimServer, PlaybackWaitsForAllClientsThenServesEach) {
  start({"--speed", "max", "--exit-when-done", "--wait-for", "2"});
  auto stocks = connect("/v2/iex");
  ASSERT_TRUE(stocks);
  alpaca_login(*stocks, R"({"action":"subscribe","trades":["NVDA"]})");
  auto news = connect("/v1beta1/news");
  ASSERT_TRUE(news);
  alpaca_login(*news, R"({"action":"subscribe","news":["AAPL"]})");
  auto n = drain(*news);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_NE(n[0].data.find("Apple expands buyback"), std::string::npos);
  EXPECT_EQ(drain(*stocks).size(), 2u);
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

// Finnhub subscribes one symbol per message: playback must not start between them, or the
// first frames miss the symbols subscribed last (it cost the chaos run an event).
TEST_F(FeedsimServer, PlaybackWaitsUntilSubscriptionsSettle) {
  start({"--speed", "max", "--exit-when-done", "--settle", "2s"});
  auto finnhub = connect("/?token=key");
  ASSERT_TRUE(finnhub);
  ASSERT_TRUE(finnhub->send_text(R"({"type":"subscribe","symbol":"AAPL"})"));
  std::this_thread::sleep_for(100ms);  // the client is streaming; the quiet period restarts
  ASSERT_TRUE(finnhub->send_text(R"({"type":"subscribe","symbol":"TSLA"})"));
  auto f = drain(*finnhub);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].data, R"({"type":"trade","data":[{"s":"TSLA","p":400.1,"t":1737988200700,"v":5}]})");
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

TEST_F(FeedsimServer, WssWithASelfSignedCertificate) {
  test::temp_dir dir;
  std::string error;
  auto certs = test::make_test_certs(dir.path(), &error);
  ASSERT_TRUE(certs) << error;
  start({"--speed", "max", "--exit-when-done", "--tls-cert", certs->self_signed_cert,
         "--tls-key", certs->self_signed_key});
  ws_client_options opt;
  opt.tls = true;
  opt.ca_file = certs->self_signed_cert;  // trust exactly this certificate
  auto c = connect("/v2/iex", opt);
  ASSERT_TRUE(c);
  alpaca_login(*c, R"({"action":"subscribe","trades":["NVDA"]})");
  auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, k_nvda_trade_1);
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

// permessage-deflate: one client alone is compressed by Beast; several on one endpoint get
// each frame compressed once and shared (sent under Beast through a layer of feedsim's own).
// Either way every client must read exactly the frames it subscribed to.
TEST_F(FeedsimServer, DeflateForOneClientAndSharedBetweenClients) {
  for (const int clients : {1, 3}) {
    SCOPED_TRACE(clients);
    start({"--speed", "max", "--exit-when-done", "--wait-for", std::to_string(clients)});
    ws_client_options opt;
    opt.deflate = true;
    std::vector<std::unique_ptr<ws_test_client>> cs;
    for (int i = 0; i < clients; ++i) {
      cs.push_back(connect("/v2/iex", opt));
      ASSERT_TRUE(cs.back());
      // The last client's subscription differs: its frames are its own rendering.
      alpaca_login(*cs.back(), i == 2 ? R"({"action":"subscribe","trades":["*"]})"
                                      : R"({"action":"subscribe","trades":["NVDA"]})");
    }
    for (int i = 0; i < clients; ++i) {
      auto frames = drain(*cs[i]);
      if (i == 2) {
        EXPECT_GT(frames.size(), 2u);
        continue;
      }
      ASSERT_EQ(frames.size(), 2u) << i;
      EXPECT_EQ(frames[0].data, k_nvda_trade_1) << i;
      EXPECT_EQ(frames[1].data, k_nvda_trade_3) << i;
      EXPECT_EQ(cs[i]->close_code(), 1001) << i;
    }
    EXPECT_EQ(sim_->wait_exit(10s), 0);
  }
}

// A capture of many Alpaca frames, some over Asio's 64 KiB per write, some with a vendor
// control element among the data, some with nothing but control, so that at --speed max the
// writer sends them in batches, partly through Beast.
std::string batch_capture(std::vector<std::string>& frames) {
  std::string capture;
  const char* symbols[] = {"AAA", "BBB", "CCC"};
  std::uint64_t id = 0;
  for (int f = 0; f < 400; ++f) {
    const int count = f % 97 == 5 ? 900 : f % 13 == 0 ? 60 : 1 + f % 7;  // 900: about 90 KB
    std::string frame = "[";
    for (int e = 0; e < count; ++e) {
      if (e) frame += ',';
      const char* symbol = symbols[(f + e) % 3];
      if (e % 4 == 3) {
        frame += R"({"T":"q","S":")" + std::string(symbol) +
                 R"(","bx":"V","bp":10.5,"bs":3,"ax":"V","ap":10.6,"as":2,"c":["R"],"z":"C","t":"2025-01-27T14:30:00Z"})";
      } else {
        frame += R"({"T":"t","S":")" + std::string(symbol) + R"(","i":)" + std::to_string(++id) +
                 R"(,"x":"V","p":10.5,"s":100,"c":["@"],"z":"C","t":"2025-01-27T14:30:00Z"})";
      }
    }
    if (f % 50 == 7) frame += R"(,{"T":"success","msg":"connected"})";  // never forwarded
    frame += ']';
    if (f % 111 == 9) frame = R"([{"T":"success","msg":"authenticated"}])";  // skipped whole
    char at[64];
    std::snprintf(at, sizeof at, "2025-01-27T14:30:%02d.%03dZ", f / 100, (f % 100) * 10);
    capture += std::string(R"({"at":")") + at + R"(","feed":"alpaca-stocks","frame":)" + frame +
               "}\n";
    frames.push_back(frame);
  }
  return capture;
}

// What a client with `subscribe` gets of `frames`, by the library's own rules (data_frame,
// subscriptions), in JSON or msgpack.
std::vector<std::string> expected_frames(const std::vector<std::string>& frames,
                                         const std::vector<std::string>& trades,
                                         bool all_channels, bool msgpack) {
  subscriptions subs(feeds::dialect::alpaca_stocks);
  for (const auto& t : trades) subs.channel("trades").add(t);
  if (all_channels) {
    subs.channel("quotes").add("*");
    subs.channel("bars").add("*");
  }
  std::vector<std::string> out;
  data_frame frame;
  std::vector<std::uint32_t> selected;
  for (const auto& text : frames) {
    frame.assign(feeds::dialect::alpaca_stocks, text);
    if (frame.data_count() == 0) continue;
    subs.select(frame, selected);
    auto r = frame.render(selected, render_format{msgpack, false});
    if (r.bytes) out.push_back(*r.bytes);
  }
  return out;
}

TEST_F(FeedsimServer, BatchedPlaybackGivesEveryClientItsOwnFramesIntact) {
  test::temp_dir dir;
  std::vector<std::string> frames;
  const std::string capture = dir.file("batches.ndjson");
  ASSERT_TRUE(test::write_file(capture, batch_capture(frames)));
  std::string error;
  // Keep-alive pings every few milliseconds: Beast's own frames land between the batches.
  sim_ = feedsim_process::start(
      k_binary,
      {"--listen", "127.0.0.1:0", "--start-timeout", "30s", "--speed", "max", "--exit-when-done",
       "--wait-for", "4", "--ping-interval", "0.003", capture},
      &error);
  ASSERT_TRUE(sim_) << error;

  struct client_case {
    std::string name;
    bool deflate, msgpack;
    std::string subscribe;
    std::vector<std::string> expected;
  };
  const std::string all = R"({"action":"subscribe","trades":["*"],"quotes":["*"],"bars":["*"]})";
  std::vector<client_case> cases = {
      {"json", false, false, all, expected_frames(frames, {"*"}, true, false)},
      {"json, deflate", true, false, all, expected_frames(frames, {"*"}, true, false)},
      {"filtered, deflate", true, false, R"({"action":"subscribe","trades":["AAA","CCC"]})",
       expected_frames(frames, {"AAA", "CCC"}, false, false)},
      {"msgpack, deflate", true, true, all, expected_frames(frames, {"*"}, true, true)},
  };
  std::vector<std::unique_ptr<ws_test_client>> clients;
  for (const auto& c : cases) {
    ws_client_options opt;
    opt.deflate = c.deflate;
    if (c.msgpack) opt.headers = {{"Content-Type", "application/msgpack"}};
    clients.push_back(connect("/v2/iex", opt));
    ASSERT_TRUE(clients.back()) << c.name;
    if (!c.msgpack) {
      alpaca_login(*clients.back(), c.subscribe);
      continue;
    }
    // Binary mode: the same login in msgpack, answers counted rather than read.
    ws_test_client& m = *clients.back();
    ASSERT_TRUE(m.receive(5s));
    json_to_msgpack encoder{msgpack_options{}};
    std::string packed;
    ASSERT_TRUE(encoder.encode(R"({"action":"auth","key":"key","secret":"secret"})", packed));
    ASSERT_TRUE(m.send_binary(packed));
    ASSERT_TRUE(m.receive(5s));
    packed.clear();  // encode() appends
    ASSERT_TRUE(encoder.encode(c.subscribe, packed));
    ASSERT_TRUE(m.send_binary(packed));
    ASSERT_TRUE(m.receive(5s));
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const auto got = drain(*clients[i], 30s);
    ASSERT_EQ(got.size(), cases[i].expected.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_EQ(got[k].data, cases[i].expected[k]) << "frame " << k;
      ASSERT_EQ(got[k].binary, cases[i].msgpack) << "frame " << k;
    }
    EXPECT_EQ(clients[i]->close_code(), 1001);
  }
  EXPECT_GT(cases[0].expected.size(), 300u);  // the capture is what this test is about
  EXPECT_EQ(sim_->wait_exit(10s), 0);
}

TEST_F(FeedsimServer, StartTimeoutExitsWithCode3) {
  start({"--start-timeout", "0.2"});
  EXPECT_EQ(sim_->wait_exit(10s), 3);
}

}  // namespace
}  // namespace aftershock::feedsim
