// Integration tests for feeds::live_feeds against a scripted WebSocket server on 127.0.0.1
// port 0 (tests/feeds/ws_test_server.h): vendor handshakes, reconnect with resubscription,
// staleness, fatal and throttled failures without tight loops, frame limits, server pings,
// planned rotation, TLS verification and recording. Waits poll with deadlines; nothing
// sleeps to make something happen.
#include "feeds/live_feeds.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "feeds/capture_reader.h"
#include "ws_test_server.h"

namespace aftershock::feeds {
namespace {

using namespace std::chrono_literals;
using test::ws_test_connection;
using test::ws_test_server;
using rules::k_ns_per_ms;
using rules::k_ns_per_s;

// Collects what the sessions hand over, for the test thread to wait on.
class recording_listener final : public feed_listener {
 public:
  void on_events(std::size_t, std::vector<rules::event>& events) override {
    {
      std::lock_guard lock(mutex_);
      for (auto& e : events) events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  void on_stale(const stale_notice& n) override {
    {
      std::lock_guard lock(mutex_);
      notices_.push_back(n);
    }
    cv_.notify_all();
  }
  bool wait_events(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
  }
  bool wait_notices(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return notices_.size() >= n; });
  }
  std::vector<rules::event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<stale_notice> notices() {
    std::lock_guard lock(mutex_);
    return notices_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<rules::event> events_;
  std::vector<stale_notice> notices_;
};

// Polls `pred` until it holds or the deadline passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

session_config alpaca_config(const std::string& url) {
  session_config c;
  c.name = "alpaca";
  c.which = dialect::alpaca_stocks;
  c.url = url;
  c.symbols = {"NVDA", "AMD"};
  c.channels = {"trades"};
  c.key = secret("KEY");
  c.key_secret = secret("SECRET");
  c.connect_timeout = 2 * k_ns_per_s;
  c.handshake_timeout = 2 * k_ns_per_s;
  c.auth_timeout = 2 * k_ns_per_s;
  c.idle_timeout = 5 * k_ns_per_s;
  c.ping_interval = 1 * k_ns_per_s;
  c.healthy_after = 10 * k_ns_per_s;
  c.backoff = backoff_config{50 * k_ns_per_ms, 200 * k_ns_per_ms, 3600 * k_ns_per_s};
  return c;
}

live_options test_options() {
  live_options o;
  o.random = [] { return std::uint64_t{0}; };  // shortest delays: k_min_reconnect_delay
  return o;
}

std::string trade(const char* symbol, double price, int id) {
  return std::string(R"([{"T":"t","S":")") + symbol + R"(","i":)" + std::to_string(id) +
         R"(,"x":"V","p":)" + std::to_string(price) +
         R"(,"s":100,"c":["@"],"z":"C","t":"2025-01-27T14:30:00.)" +
         std::to_string(100000 + id) + R"(Z"}])";
}

// Alpaca's side of the handshake; the subscribe request goes to `subscribe`.
bool alpaca_handshake(ws_test_connection& c, std::string* subscribe = nullptr) {
  c.send(R"([{"T":"success","msg":"connected"}])");
  const auto auth = c.receive();
  if (!auth) return false;
  EXPECT_EQ(*auth, R"({"action":"auth","key":"KEY","secret":"SECRET"})");
  c.send(R"([{"T":"success","msg":"authenticated"}])");
  const auto sub = c.receive();
  if (!sub) return false;
  if (subscribe) *subscribe = *sub;
  c.send(R"([{"T":"subscription","trades":["NVDA","AMD"],"quotes":[],"bars":[]}])");
  return true;
}

feed_stats stats_of(const live_feeds& live) { return live.snapshot().at(0); }

TEST(live_feeds, alpaca_authenticates_subscribes_and_delivers) {
  std::string subscribe;
  ws_test_server server([&](ws_test_connection& c) {
    EXPECT_EQ(c.target(), "/v2/iex");
    if (!alpaca_handshake(c, &subscribe)) return;
    c.send(trade("NVDA", 120.5, 1));
    c.send(R"([{"T":"t","S":"AMD","i":2,"x":"V","p":110,"s":5,"t":"2025-01-27T14:30:01Z"},)"
           R"({"T":"t","S":"NVDA","i":3,"x":"V","p":121,"s":5,"t":"2025-01-27T14:30:02Z"}])");
    c.wait_gone(10s);
  });
  recording_listener listener;
  live_feeds live({alpaca_config(server.url("/v2/iex"))}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(3));
  EXPECT_EQ(subscribe, R"({"action":"subscribe","trades":["NVDA","AMD"]})");
  ASSERT_TRUE(eventually([&] { return stats_of(live).state == feed_state::streaming; }));
  const feed_stats s = stats_of(live);
  EXPECT_TRUE(s.connected);
  EXPECT_TRUE(s.authenticated);
  EXPECT_EQ(s.desired, 2u);
  EXPECT_EQ(s.subscribed, 2u);
  EXPECT_EQ(s.connects, 1u);
  EXPECT_EQ(s.reconnects, 0u);
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.frames, 5u);  // greeting, authenticated, ack, two data frames
  EXPECT_EQ(s.parse_errors, 0u);
  EXPECT_EQ(s.last_event_time, *rules::parse_rfc3339("2025-01-27T14:30:02Z"));
  EXPECT_GT(s.event_time_lag, 0);
  const auto events = listener.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(std::get<rules::trade>(events[0]).symbol, "NVDA");
  EXPECT_EQ(std::get<rules::trade>(events[1]).symbol, "AMD");

  // A clean stop sends a closing handshake (1001 going away).
  live.stop(2000ms);
  ws_test_connection* c = server.connection(0);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->wait_gone(2s));
  EXPECT_EQ(c->client_close_code(), 1001);
  EXPECT_EQ(stats_of(live).state, feed_state::stopped);
}

TEST(live_feeds, reconnects_after_a_drop_and_resubscribes_everything) {
  std::vector<std::string> subscribes(2);
  ws_test_server server([&](ws_test_connection& c) {
    if (c.index() > 1) return;
    if (!alpaca_handshake(c, &subscribes[c.index()])) return;
    c.send(trade("NVDA", 120 + static_cast<double>(c.index()), static_cast<int>(c.index()) + 1));
    if (c.index() == 0) {
      c.drop();  // no close frame: like a dead load balancer
      return;
    }
    c.wait_gone(10s);
  });
  recording_listener listener;
  live_feeds live({alpaca_config(server.url("/v2/iex"))}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(2));
  EXPECT_EQ(server.connections(), 2u);
  EXPECT_EQ(subscribes[0], subscribes[1]) << "the full set again after the reconnect";
  ASSERT_TRUE(eventually([&] { return stats_of(live).subscribed == 2; }));
  const feed_stats s = stats_of(live);
  EXPECT_EQ(s.connects, 2u);
  EXPECT_EQ(s.reconnects, 1u);
  EXPECT_EQ(s.connect_attempts, 2u);
  EXPECT_TRUE(s.authenticated);
  live.stop(2000ms);
}

TEST(live_feeds, a_stall_raises_stale_reconnects_and_recovers) {
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    c.send(trade("NVDA", 120, static_cast<int>(c.index()) + 1));
    c.wait_gone(20s);  // then silence; the connection stays open and answers pings
  });
  recording_listener listener;
  auto config = alpaca_config(server.url("/v2/iex"));
  config.stale_after = 1 * k_ns_per_s;
  config.market = std::make_shared<always_open>();
  live_feeds live({config}, listener, test_options());
  const auto started = std::chrono::steady_clock::now();
  live.start();
  ASSERT_TRUE(listener.wait_notices(1, 10s));
  const auto first_notice = std::chrono::steady_clock::now();
  const stale_notice n = listener.notices().at(0);
  EXPECT_FALSE(n.recovered);
  EXPECT_EQ(n.name, "alpaca");
  EXPECT_EQ(n.market, "always");
  EXPECT_EQ(n.stale_after, 1 * k_ns_per_s);
  EXPECT_GE(n.silent_for, 1 * k_ns_per_s);
  EXPECT_LT(n.silent_for, 2 * k_ns_per_s) << "detected within the threshold plus a check tick";
  EXPECT_GT(n.last_event_time, 0);
  EXPECT_LT(first_notice - started, 5s);
  // The watchdog forced a reconnect; the new connection's data ends the episode.
  ASSERT_TRUE(listener.wait_notices(2, 10s));
  EXPECT_TRUE(listener.notices().at(1).recovered);
  const feed_stats s = stats_of(live);
  EXPECT_EQ(s.stale, 1u);
  EXPECT_GE(s.stale_reconnects, 1u);
  EXPECT_GE(server.connections(), 2u);
  live.stop(2000ms);
}

TEST(live_feeds, bad_credentials_are_fatal_and_never_retried_in_a_loop) {
  ws_test_server server([&](ws_test_connection& c) {
    c.send(R"([{"T":"success","msg":"connected"}])");
    c.receive();
    c.send(R"([{"T":"error","code":402,"msg":"auth failed"}])");
    c.wait_gone(10s);
  });
  recording_listener listener;
  auto config = alpaca_config(server.url("/v2/iex"));
  config.key_secret = secret("WRONG-SECRET");
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(eventually([&] {
    const feed_stats s = stats_of(live);
    return s.state == feed_state::backing_off && s.fatal_failures == 1;
  }));
  const feed_stats s = stats_of(live);
  EXPECT_EQ(s.last_failure, failure_class::fatal);
  EXPECT_GE(s.next_attempt_in, 30 * 60 * k_ns_per_s) << "fatal_retry (1 h) with jitter";
  EXPECT_NE(s.last_error.find("authentication failed (402)"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("WRONG-SECRET"), std::string::npos);
  EXPECT_EQ(server.upgrades(), 1u);
  // Stopping interrupts the long wait at once.
  const auto t0 = std::chrono::steady_clock::now();
  live.stop(2000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(server.upgrades(), 1u);
}

TEST(live_feeds, http_4xx_on_upgrade_is_fatal_and_429_is_throttled) {
  ws_test_server server([&](ws_test_connection& c) {
    alpaca_handshake(c);
    c.send(trade("NVDA", 120, 1));
    c.wait_gone(10s);
  });
  {
    server.refuse_with(403);
    recording_listener listener;
    live_feeds live({alpaca_config(server.url("/v2/sip"))}, listener, test_options());
    live.start();
    ASSERT_TRUE(eventually([&] { return stats_of(live).fatal_failures == 1; }));
    const feed_stats s = stats_of(live);
    EXPECT_NE(s.last_error.find("HTTP 403"), std::string::npos) << s.last_error;
    EXPECT_GE(s.next_attempt_in, 30 * 60 * k_ns_per_s);
    live.stop(2000ms);
  }
  {
    server.refuse_with(429);
    const std::size_t before = server.upgrades();
    recording_listener listener;
    live_feeds live({alpaca_config(server.url("/v2/sip"))}, listener, test_options());
    live.start();
    ASSERT_TRUE(eventually([&] { return stats_of(live).throttled >= 2; }));
    const feed_stats s = stats_of(live);
    EXPECT_EQ(s.last_failure, failure_class::throttled);
    EXPECT_EQ(s.fatal_failures, 0u);
    // Throttled waits use equal jitter: at least half the ceiling, never the 100 ms floor only.
    EXPECT_GE(s.next_attempt_in, 100 * k_ns_per_ms);
    // Once the server lets us in, the session recovers by itself.
    server.refuse_with(0);
    ASSERT_TRUE(listener.wait_events(1));
    EXPECT_GE(server.upgrades() - before, 3u);
    live.stop(2000ms);
  }
}

TEST(live_feeds, no_greeting_within_auth_timeout_reconnects) {
  ws_test_server server([&](ws_test_connection& c) {
    if (c.index() == 0) {
      c.wait_gone(10s);  // says nothing
      return;
    }
    alpaca_handshake(c);
    c.send(trade("NVDA", 120, 1));
    c.wait_gone(10s);
  });
  recording_listener listener;
  auto config = alpaca_config(server.url("/v2/iex"));
  config.auth_timeout = 300 * k_ns_per_ms;
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  const feed_stats s = stats_of(live);
  EXPECT_EQ(s.connects, 2u);
  live.stop(2000ms);
  EXPECT_EQ(server.connection(0)->client_close_code(), 0)
      << "abandoned without a closing handshake: that server was not answering";
}

TEST(live_feeds, an_oversized_frame_is_counted_and_the_session_reconnects) {
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    if (c.index() == 0) {
      c.send(R"([{"T":"n","headline":")" + std::string(4000, 'x') + R"("}])");
    } else {
      c.send(trade("NVDA", 120, 7));
    }
    c.wait_gone(10s);
  });
  recording_listener listener;
  auto config = alpaca_config(server.url("/v2/iex"));
  config.max_frame_bytes = 1024;
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  const feed_stats s = stats_of(live);
  EXPECT_EQ(s.oversized_frames, 1u);
  EXPECT_EQ(s.reconnects, 1u);
  EXPECT_EQ(std::get<rules::trade>(listener.events().at(0)).id, 7);
  live.stop(2000ms);
}

TEST(live_feeds, binance_streams_in_the_url_and_server_pings_answered) {
  ws_test_server server([&](ws_test_connection& c) {
    EXPECT_EQ(c.target(), "/stream?streams=btcusdt@trade/ethusdt@trade");
    // Binance pings every 20 s and drops clients that do not answer within a minute.
    c.ping();
    EXPECT_TRUE(c.wait_pongs(1, 3s));
    c.send(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1737988200000,"s":"BTCUSDT",)"
           R"("t":12345,"p":"101000.5","q":"0.01","T":1737988200000,"m":true,"M":true}})");
    c.wait_gone(10s);
  });
  recording_listener listener;
  session_config config = alpaca_config(server.url("/ws"));
  config.name = "binance";
  config.which = dialect::binance;
  config.symbols = {"BTCUSDT", "ETHUSDT"};
  config.channels = {};
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  const feed_stats s = stats_of(live);
  EXPECT_GE(s.server_pings, 1u);
  EXPECT_TRUE(s.authenticated) << "no auth in this dialect";
  EXPECT_EQ(s.state, feed_state::streaming);
  EXPECT_EQ(std::get<rules::trade>(listener.events().at(0)).price, 101000.5);
  live.stop(2000ms);
}

TEST(live_feeds, finnhub_token_in_the_url_and_one_subscribe_per_symbol) {
  std::vector<std::string> got;
  ws_test_server server([&](ws_test_connection& c) {
    EXPECT_EQ(c.target(), "/?token=FHKEY");
    for (int i = 0; i < 2; ++i) {
      if (auto m = c.receive()) got.push_back(*m);
    }
    c.send(R"({"type":"ping"})");
    c.send(R"({"type":"trade","data":[{"s":"AAPL","p":230.5,"v":10,"t":1737988200000}]})");
    c.wait_gone(10s);
  });
  recording_listener listener;
  session_config config = alpaca_config(server.url("/"));
  config.name = "finnhub";
  config.which = dialect::finnhub;
  config.symbols = {"AAPL", "MSFT"};
  config.channels = {};
  config.key = secret("FHKEY");
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], R"({"type":"subscribe","symbol":"AAPL"})");
  EXPECT_EQ(got[1], R"({"type":"subscribe","symbol":"MSFT"})");
  live.stop(2000ms);
}

TEST(live_feeds, planned_rotation_opens_the_new_connection_before_closing_the_old) {
  ws_test_server server([&](ws_test_connection& c) {
    const int base = static_cast<int>(c.index()) * 1000;
    c.send(R"({"e":"trade","E":1737988200000,"s":"BTCUSDT","t":)" + std::to_string(base + 1) +
           R"(,"p":"100","q":"1","T":1737988200000,"m":true,"M":true})");
    c.wait_gone(10s);
  });
  recording_listener listener;
  session_config config = alpaca_config(server.url("/ws"));
  config.which = dialect::binance;
  config.symbols = {"BTCUSDT"};
  config.channels = {};
  config.max_connection_age = 500 * k_ns_per_ms;
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(server.wait_connections(2, 5s));
  ASSERT_TRUE(listener.wait_events(2));
  ws_test_connection* first = server.connection(0);
  ws_test_connection* second = server.connection(1);
  ASSERT_TRUE(first->wait_gone(5s));
  EXPECT_LT(second->opened_at(), first->gone_at()) << "the replacement was open first";
  EXPECT_EQ(first->client_close_code(), 1000);
  ASSERT_TRUE(eventually([&] { return stats_of(live).planned_reconnects >= 1; }));
  EXPECT_EQ(stats_of(live).fatal_failures, 0u);
  live.stop(2000ms);
}

TEST(live_feeds, binance_server_shutdown_reconnects_at_once) {
  ws_test_server server([&](ws_test_connection& c) {
    if (c.index() == 0) {
      c.send(R"({"e":"serverShutdown","E":1737988200000})");
    } else {
      c.send(R"({"e":"trade","E":1737988200000,"s":"BTCUSDT","t":5,"p":"100","q":"1",)"
             R"("T":1737988200000,"m":true,"M":true})");
    }
    c.wait_gone(10s);
  });
  recording_listener listener;
  session_config config = alpaca_config(server.url("/ws"));
  config.which = dialect::binance;
  config.symbols = {"BTCUSDT"};
  config.channels = {};
  live_feeds live({config}, listener, test_options());
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  EXPECT_EQ(stats_of(live).planned_reconnects, 1u);
  EXPECT_EQ(server.connection(0)->client_close_code(), 1000);
  live.stop(2000ms);
}

TEST(live_feeds, wss_verifies_the_server_certificate) {
  ws_test_server server(
      [&](ws_test_connection& c) {
        if (!alpaca_handshake(c)) return;
        c.send(trade("NVDA", 120, 1));
        c.wait_gone(10s);
      },
      {.tls = true, .deflate = true});
  {
    recording_listener listener;
    auto config = alpaca_config(server.url("/v2/iex"));
    config.ca_file = server.ca_file();  // host-name verification stays on: SAN IP:127.0.0.1
    live_feeds live({config}, listener, test_options());
    live.start();
    ASSERT_TRUE(listener.wait_events(1)) << stats_of(live).last_error;
    live.stop(2000ms);
  }
  {
    recording_listener listener;
    live_feeds live({alpaca_config(server.url("/v2/iex"))}, listener, test_options());
    live.start();  // the system store does not know the test CA
    ASSERT_TRUE(eventually([&] { return stats_of(live).fatal_failures >= 1; }));
    EXPECT_NE(stats_of(live).last_error.find("TLS handshake"), std::string::npos)
        << stats_of(live).last_error;
    live.stop(2000ms);
  }
}

TEST(live_feeds, records_every_frame_replayably) {
  const std::string dir = testing::TempDir() + "live_feeds_record";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    c.send(trade("NVDA", 120, 1));
    c.send("this is not JSON");
    c.wait_gone(10s);
  });
  recording_listener listener;
  live_options options = test_options();
  options.record_dir = dir;
  live_feeds live({alpaca_config(server.url("/v2/iex"))}, listener, options);
  live.start();
  ASSERT_TRUE(listener.wait_events(1));
  ASSERT_TRUE(eventually([&] { return stats_of(live).frames == 5; }));
  live.stop(2000ms);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("alpaca-", 0), 0u);
  std::ifstream in(files[0]);
  std::stringstream text;
  text << in.rdbuf();
  capture_reader reader;
  reader.add("recorded", text.str());
  capture_record r;
  std::vector<std::string> frames;
  while (reader.next(r)) {
    EXPECT_EQ(r.feed, dialect::alpaca_stocks);
    frames.emplace_back(r.frame);
  }
  EXPECT_EQ(reader.stats().bad_lines, 0u);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0], R"([{"T":"success","msg":"connected"}])");
  EXPECT_EQ(frames[3], trade("NVDA", 120, 1));
  EXPECT_EQ(frames[4], "this is not JSON");
  EXPECT_EQ(stats_of(live).parse_errors, 1u);
}

// Says it is backlogged from its first data frame on until released, as a busy engine would.
class holding_listener final : public feed_listener {
 public:
  void on_events(std::size_t, std::vector<rules::event>& events) override {
    events_ += events.size();
    holding_ = true;
  }
  void on_stale(const stale_notice&) override {}
  bool backlogged() const override { return holding_.load(); }
  void release() { holding_ = false; }
  std::size_t events() const { return events_.load(); }

 private:
  std::atomic<bool> holding_{false};
  std::atomic<std::size_t> events_{0};
};

TEST(live_feeds, a_session_paused_for_a_backlogged_listener_reads_on_when_resumed) {
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    for (int i = 1; i <= 3; ++i) c.send(trade("NVDA", 120 + i, i));
    c.wait_gone(10s);
  });
  holding_listener listener;
  live_options options = test_options();
  // Neither the session's own re-check nor the pause limit can end the pause within the
  // test: only resume_reading() can.
  options.backlog_recheck = std::chrono::hours(1);
  options.max_read_pause = std::chrono::hours(1);
  live_feeds live({alpaca_config(server.url("/v2/iex"))}, listener, options);
  live.start();
  ASSERT_TRUE(eventually([&] { return listener.events() >= 1; }));
  // The session paused after the first frame; resume_reading() with nothing released
  // changes nothing, and a spurious call is harmless.
  live.resume_reading();
  EXPECT_EQ(listener.events(), 1u);
  listener.release();
  live.resume_reading();
  // Every later frame pauses it again (the listener holds again on each frame).
  for (std::size_t n = 2; n <= 3; ++n) {
    ASSERT_TRUE(eventually([&] { return listener.events() >= n; })) << n;
    EXPECT_EQ(listener.events(), n);
    if (n == 3) break;
    listener.release();
    live.resume_reading();
  }
  // Stopping ends a pause too (the session is paused after the third frame).
  live.stop(2000ms);
  EXPECT_EQ(stats_of(live).state, feed_state::stopped);
}

}  // namespace
}  // namespace aftershock::feeds
