// Unit tests for the feeds: section (config_loader's read_feed), for turning it into session
// configs (make_session_configs: secrets, host override, market hours, defaults), for the
// feed_stale alert, for the bounded queue between the feeds and the engine, and for the demo
// config staying in step with the default one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "daemon/bounded_queue.h"
#include "daemon/config_loader.h"
#include "daemon/live_runner.h"
#include "feeds/vendor_protocol.h"

namespace aftershock::daemon {
namespace {

using testing::HasSubstr;

const char* k_base = R"(version: 1
default_exchange: XNAS
exchanges:
  - mic: XNAS
    tz_rule: EST5EDT,M3.2.0,M11.1.0
    regular: ["09:30-16:00"]
  - mic: XPAR
    tz_rule: CET-1CEST,M3.5.0,M10.5.0/3
    suffixes: [".PA"]
    regular: ["09:00-17:30"]
rules:
  - name: prev_close_move
    kind: prev_close_move
    threshold_pct: 5
feeds:
)";

loaded_config load_feeds(const std::string& feeds) {
  return load_config(std::string(k_base) + feeds, "cfg.yaml");
}

std::string all_errors(const loaded_config& c) {
  std::string out;
  for (const auto& e : c.errors) out += e.to_string() + "\n";
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

feeds::secret_source fake_secrets(std::map<std::string, std::string> env) {
  feeds::secret_source s;
  s.getenv = [env](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  s.read_file = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return s;
}

TEST(feeds_config, a_full_feed_is_read) {
  const auto c = load_feeds(R"(  - name: alpaca-sip
    dialect: alpaca-stocks
    url: wss://stream.data.alpaca.markets/v2/sip
    symbols: [NVDA, AMD]
    channels: [trades, quotes, updated_bars]
    key: env:APCA_KEY
    secret: cred:alpaca-secret
    ca_file: /etc/ssl/extra.pem
    verify_host: false
    compression: false
    msgpack: false
    connect_timeout: 3s
    handshake_timeout: 4s
    auth_timeout: 5s
    idle_timeout: 40s
    ping_interval: 15s
    stale_after: 2m
    max_connection_age: 0s
    backoff_base: 500ms
    backoff_cap: 2m
    fatal_retry: 30m
    healthy_after: 45s
    max_frame_bytes: 8MiB
    market: XNAS
)");
  ASSERT_TRUE(c.ok()) << all_errors(c);
  ASSERT_EQ(c.config.feeds.size(), 1u);
  const feed_config& f = c.config.feeds[0];
  EXPECT_EQ(f.name, "alpaca-sip");
  EXPECT_EQ(f.dialect, "alpaca-stocks");
  EXPECT_EQ(f.symbols, (std::vector<std::string>{"NVDA", "AMD"}));
  EXPECT_EQ(f.channels, (std::vector<std::string>{"trades", "quotes", "updated_bars"}));
  EXPECT_EQ(f.key, "env:APCA_KEY");
  EXPECT_EQ(f.secret, "cred:alpaca-secret");
  EXPECT_EQ(f.ca_file, "/etc/ssl/extra.pem");
  EXPECT_FALSE(f.verify_host);
  EXPECT_FALSE(f.compression);
  EXPECT_EQ(f.connect_timeout, 3 * rules::k_ns_per_s);
  EXPECT_EQ(f.handshake_timeout, 4 * rules::k_ns_per_s);
  EXPECT_EQ(f.auth_timeout, 5 * rules::k_ns_per_s);
  EXPECT_EQ(f.idle_timeout, 40 * rules::k_ns_per_s);
  EXPECT_EQ(f.ping_interval, 15 * rules::k_ns_per_s);
  EXPECT_EQ(f.stale_after, 2 * rules::k_ns_per_min);
  EXPECT_EQ(f.max_connection_age, 0);
  EXPECT_EQ(f.backoff_base, 500 * rules::k_ns_per_ms);
  EXPECT_EQ(f.backoff_cap, 2 * rules::k_ns_per_min);
  EXPECT_EQ(f.fatal_retry, 30 * rules::k_ns_per_min);
  EXPECT_EQ(f.healthy_after, 45 * rules::k_ns_per_s);
  EXPECT_EQ(f.max_frame_bytes, 8u << 20);
  EXPECT_EQ(f.market, "XNAS");
}

TEST(feeds_config, defaults_and_dialect_named_feeds) {
  const auto c = load_feeds(R"(  - {dialect: binance, url: "wss://stream.binance.com:9443/ws", symbols: [BTCUSDT]}
  - {dialect: generic, url: "ws://127.0.0.1:9000/generic"}
)");
  ASSERT_TRUE(c.ok()) << all_errors(c);
  const feed_config& b = c.config.feeds[0];
  EXPECT_EQ(b.name, "binance");
  EXPECT_TRUE(b.verify_host);
  EXPECT_TRUE(b.compression);
  EXPECT_EQ(b.subscribe_via, "url");
  EXPECT_FALSE(b.stale_after.has_value());
  EXPECT_EQ(b.max_frame_bytes, 4u << 20);
  EXPECT_EQ(b.idle_timeout, 30 * rules::k_ns_per_s);
  EXPECT_EQ(c.config.feeds[1].name, "generic");
}

TEST(feeds_config, every_problem_is_reported_with_its_line) {
  const auto c = load_feeds(R"(  - name: a
    dialect: alpaca-stocks
    url: https://stream.data.alpaca.markets/v2/sip
    symbols: [NVDA]
    channels: [trades, news]
    key: "env:"
    msgpack: true
    verify_host: maybe
    bogus: 1
  - name: a
    dialect: finnhub
    url: wss://ws.finnhub.io/?token=abc
    symbols: [AAPL]
  - name: b
    dialect: binance
    url: wss://stream.binance.com/ws
    key: env:BINANCE_KEY
    subscribe_via: carrier-pigeon
  - name: c
    dialect: polygon-stocks
    url: wss://socket.massive.com/stocks
    key: env:POLYGON
    backoff_base: 10s
    backoff_cap: 1s
    idle_timeout: 5s
    ping_interval: 10s
    connect_timeout: 0s
    max_frame_bytes: 100
    market: XTSE
  - name: d
    dialect: morse
    url: ws://x/
  - name: e
    dialect: generic
    url: ws://x/
    subscribe_via: url
)");
  ASSERT_FALSE(c.ok());
  const std::string e = all_errors(c);
  // The first feed, line by line (feeds: is line 15 of the document, its first item line 16).
  EXPECT_THAT(e, HasSubstr("cfg.yaml:18:10: feeds[0].url must be a ws:// or wss:// URL"));
  EXPECT_THAT(e, HasSubstr("cfg.yaml:20:24: feeds[0].channels[1]: 'news' is not one of the "
                           "alpaca-stocks channels (trades, quotes"));
  EXPECT_THAT(e, HasSubstr("cfg.yaml:21:10: feeds[0].key: env: needs a name"));
  EXPECT_THAT(e, HasSubstr("feeds[0] needs secret"));
  EXPECT_THAT(e, HasSubstr("feeds[0].msgpack: only JSON text frames are supported"));
  EXPECT_THAT(e, HasSubstr("feeds[0].verify_host must be true or false"));
  EXPECT_THAT(e, HasSubstr("cfg.yaml:24:5: unknown key 'bogus' in feeds[0]"));
  EXPECT_THAT(e, HasSubstr("feeds[1]: another feed is already named 'a'"));
  EXPECT_THAT(e, HasSubstr("feeds[1].url must not carry a token"));
  EXPECT_THAT(e, HasSubstr("feeds[1] needs key"));
  EXPECT_THAT(e, HasSubstr("feeds[2] needs symbols"));
  EXPECT_THAT(e, HasSubstr("feeds[2].key: the binance dialect uses no key"));
  EXPECT_THAT(e, HasSubstr("feeds[2].subscribe_via must be url or message"));
  EXPECT_THAT(e, HasSubstr("feeds[3] needs symbols"));
  EXPECT_THAT(e, HasSubstr("feeds[3].backoff_cap must be at least backoff_base"));
  EXPECT_THAT(e, HasSubstr("feeds[3].ping_interval must be shorter than idle_timeout"));
  EXPECT_THAT(e, HasSubstr("feeds[3].connect_timeout must be longer than 0"));
  EXPECT_THAT(e, HasSubstr("feeds[3].max_frame_bytes must be between 1KiB and 64MiB"));
  EXPECT_THAT(e, HasSubstr("feeds[3].market 'XTSE' is not an exchange of the exchanges: section (or always, XNAS, XPAR)"));
  EXPECT_THAT(e, HasSubstr("feeds[4].dialect 'morse' is not one of"));
  EXPECT_THAT(e, HasSubstr("feeds[5].subscribe_via is for the binance dialect"));
}

TEST(session_configs, secrets_defaults_host_override_and_markets) {
  const auto c = load_feeds(R"(  - name: alpaca
    dialect: alpaca-stocks
    url: wss://stream.data.alpaca.markets/v2/sip
    symbols: [NVDA]
    key: env:APCA_KEY
    secret: env:APCA_SECRET
  - name: finnhub
    dialect: finnhub
    url: wss://ws.finnhub.io
    symbols: [NVDA, SU.PA]
    key: literal-token
  - name: binance
    dialect: binance
    url: wss://stream.binance.com:9443/ws
    symbols: [BTCUSDT]
    stale_after: 0s
  - name: news
    dialect: alpaca-news
    url: wss://stream.data.alpaca.markets/v1beta1/news
    key: env:APCA_KEY
    secret: env:APCA_SECRET
    market: always
)");
  ASSERT_TRUE(c.ok()) << all_errors(c);
  std::vector<std::string> errors, warnings;
  const auto sessions = make_session_configs(
      c.config, c.compiled, "127.0.0.1:18080",
      fake_secrets({{"APCA_KEY", "AK"}, {"APCA_SECRET", "AS"}}), errors, warnings);
  EXPECT_TRUE(errors.empty()) << testing::PrintToString(errors);
  ASSERT_EQ(sessions.size(), 4u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("feeds[1] (finnhub): key is written in the config file"));
  EXPECT_EQ(warnings[0].find("literal-token"), std::string::npos);

  const feeds::session_config& a = sessions[0];
  EXPECT_EQ(a.which, feeds::dialect::alpaca_stocks);
  EXPECT_EQ(a.url, "wss://127.0.0.1:18080/v2/sip");
  EXPECT_EQ(a.key.reveal(), "AK");
  EXPECT_EQ(a.key_secret.reveal(), "AS");
  EXPECT_EQ(a.stale_after, feeds::default_stale_after(feeds::dialect::alpaca_stocks));
  EXPECT_EQ(a.max_connection_age, 0);
  ASSERT_NE(a.market, nullptr);
  EXPECT_EQ(a.market->describe(), "XNAS");  // NVDA: the default exchange

  EXPECT_EQ(sessions[1].key.reveal(), "literal-token");
  ASSERT_NE(sessions[1].market, nullptr);
  EXPECT_EQ(sessions[1].market->describe(), "XNAS+XPAR");  // open while either is

  EXPECT_EQ(sessions[2].stale_after, 0);
  EXPECT_EQ(sessions[2].max_connection_age, 23 * rules::k_ns_per_hour);
  EXPECT_EQ(sessions[2].market->describe(), "always");
  EXPECT_EQ(sessions[3].market->describe(), "always");
}

TEST(session_configs, unresolvable_secrets_refuse_startup_without_leaking) {
  const auto c = load_feeds(R"(  - name: alpaca
    dialect: alpaca-stocks
    url: wss://stream.data.alpaca.markets/v2/sip
    symbols: [NVDA]
    key: env:APCA_KEY
    secret: cred:alpaca-secret
    ca_file: /nonexistent/ca.pem
)");
  ASSERT_TRUE(c.ok()) << all_errors(c);
  std::vector<std::string> errors, warnings;
  make_session_configs(c.config, c.compiled, "", fake_secrets({}), errors, warnings);
  ASSERT_EQ(errors.size(), 3u) << testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("cannot resolve key: environment variable APCA_KEY is not set"));
  EXPECT_THAT(errors[1], HasSubstr("cred:alpaca-secret needs $CREDENTIALS_DIRECTORY"));
  EXPECT_THAT(errors[2], HasSubstr("cannot read ca_file /nonexistent/ca.pem"));
  errors.clear();
  make_session_configs(c.config, c.compiled, "not a host", fake_secrets({}), errors, warnings);
  EXPECT_THAT(testing::PrintToString(errors), HasSubstr("--feed-host 'not a host'"));
}

TEST(feed_stale_alert, names_the_feed_and_its_silence) {
  feeds::stale_notice n;
  n.name = "alpaca-sip";
  n.which = feeds::dialect::alpaca_stocks;
  n.silent_for = 95 * rules::k_ns_per_s;
  n.stale_after = 90 * rules::k_ns_per_s;
  n.market = "XNAS";
  n.last_event_time = *rules::parse_rfc3339("2025-01-27T15:00:00Z");
  n.utc = *rules::parse_rfc3339("2026-11-25T15:00:00Z");
  const rules::alert a = make_feed_stale_alert(n, *rules::parse_rfc3339("2025-01-27T15:01:00Z"));
  EXPECT_EQ(a.kind, "feed_stale");
  EXPECT_EQ(a.status, rules::alert_status::firing);
  EXPECT_TRUE(a.symbol.empty());
  EXPECT_FALSE(a.change_pct.has_value());
  EXPECT_EQ(a.event_time, *rules::parse_rfc3339("2025-01-27T15:01:00Z")) << "the watermark";
  EXPECT_EQ(a.exchange, "XNAS");
  EXPECT_THAT(a.summary, HasSubstr("feed alpaca-sip (alpaca-stocks) silent for 95 s while XNAS "
                                   "is open (stale_after 90s)"));
  const std::string json = rules::to_json(a);
  EXPECT_THAT(json, HasSubstr(R"("kind":"feed_stale")"));
  EXPECT_THAT(json, HasSubstr(R"("symbol":null)"));
  EXPECT_THAT(json, HasSubstr(R"("change_pct":null)"));

  // Same feed, same fingerprint (the episode resolves it); other feeds differ.
  n.recovered = true;
  const rules::alert r = make_feed_stale_alert(n, 0);
  EXPECT_EQ(r.status, rules::alert_status::resolved);
  EXPECT_EQ(r.fingerprint, a.fingerprint);
  EXPECT_NE(r.id, a.id);
  EXPECT_EQ(r.event_time, n.last_event_time) << "no watermark: the feed's last event time";
  n.name = "other";
  EXPECT_NE(make_feed_stale_alert(n, 0).fingerprint, a.fingerprint);
  n.last_event_time = 0;
  EXPECT_EQ(make_feed_stale_alert(n, 0).event_time, n.utc) << "nothing known: the wall clock";
}

TEST(bounded_queue, drops_are_counted_and_control_items_always_fit) {
  bounded_queue<int> q(2);
  EXPECT_TRUE(q.try_push(1));
  EXPECT_TRUE(q.try_push(2));
  EXPECT_FALSE(q.try_push(3));
  EXPECT_TRUE(q.push_always(4));
  queue_stats s = q.stats();
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(s.depth, 3u);
  EXPECT_EQ(s.high_water, 3u);
  std::vector<int> out;
  EXPECT_EQ(q.pop_all(out, std::chrono::milliseconds(0)), 3u);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 4}));
  q.close();
  EXPECT_FALSE(q.try_push(5));
  EXPECT_TRUE(q.closed_and_empty());
  EXPECT_EQ(q.pop_all(out, std::chrono::milliseconds(1000)), 0u) << "closed: returns at once";
}

TEST(bounded_queue, a_producer_thread_and_the_consumer) {
  bounded_queue<int> q(1 << 20);
  std::thread producer([&] {
    for (int i = 0; i < 100000; ++i) q.try_push(int{i});
    q.close();
  });
  std::vector<int> out;
  while (!q.closed_and_empty()) q.pop_all(out, std::chrono::milliseconds(50));
  producer.join();
  ASSERT_EQ(out.size(), 100000u);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
}

TEST(demo_config, is_the_default_config_plus_feeds_for_a_local_feedsim) {
  const std::string dir = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/";
  const std::string demo = read_file(dir + "demo.yaml");
  const std::string base = read_file(dir + "aftershock.yaml");
  EXPECT_NE(demo.find(base), std::string::npos)
      << "deploy/config/demo.yaml is out of date with aftershock.yaml: run scripts/demo-config";
  const auto c = load_config_file(dir + "demo.yaml");  // calendars/ resolve beside it
  ASSERT_TRUE(c.ok()) << all_errors(c);
  std::vector<std::string> dialects;
  for (const feed_config& f : c.config.feeds) {
    dialects.push_back(f.dialect);
    EXPECT_EQ(f.url.rfind("ws://127.0.0.1:", 0), 0u) << f.url;
  }
  EXPECT_EQ(dialects, (std::vector<std::string>{"alpaca-stocks", "alpaca-news", "finnhub", "generic"}));
  // The host override is how scripts/demo points it at feedsim.
  std::vector<std::string> errors, warnings;
  const auto sessions = make_session_configs(c.config, c.compiled, "127.0.0.1:40001",
                                             feeds::system_secret_source(), errors, warnings);
  EXPECT_TRUE(errors.empty()) << testing::PrintToString(errors);
  for (const auto& s : sessions) EXPECT_EQ(s.url.rfind("ws://127.0.0.1:40001/", 0), 0u) << s.url;
}

}  // namespace
}  // namespace aftershock::daemon
