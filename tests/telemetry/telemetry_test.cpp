// Telemetry: the metrics the engine probe and the snapshots produce, the label cap, the text
// format as promtool sees it, the HTTP endpoint (/metrics, /healthz, /readyz) and the
// `metrics:` config section.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/config_loader.h"
#include "rules/engine.h"
#include "telemetry/engine_probe.h"
#include "telemetry/feed_samples.h"
#include "telemetry/http_endpoint.h"
#include "telemetry/metrics.h"

namespace aftershock::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

rules::time_ns at(const char* s) { return *rules::parse_rfc3339(s); }

std::shared_ptr<const rules::compiled_rules> test_rules() {
  rules::rules_config c;
  c.default_exchange = "XNAS";
  rules::exchange_spec ex;
  ex.mic = "XNAS";
  ex.time_zone = "America/New_York";
  ex.tz_rule = "EST5EDT,M3.2.0,M11.1.0";
  ex.pre_market = {{4 * 60, 9 * 60 + 30}};
  ex.regular = {{9 * 60 + 30, 16 * 60}};
  ex.after_hours = {{16 * 60, 20 * 60}};
  c.exchanges.push_back(ex);
  rules::symbol_spec nvda;
  nvda.entity = {"NVDA", "Nvidia", {"Nvidia"}, {}, {}, {}};
  rules::symbol_spec amd;
  amd.entity = {"AMD", "AMD", {"Advanced Micro Devices"}, {}, {}, {}};
  c.universe = {nvda, amd};
  c.baskets["ai_semis"] = {"NVDA", "AMD"};
  c.themes.push_back({"deepseek", {"DeepSeek"}, {"ai_semis"}, {}});
  rules::rule_spec prev;
  prev.name = "prev_close_move";
  prev.kind = rules::rule_kind::prev_close_move;
  prev.threshold_pct = 5;
  prev.critical_pct = 10;
  prev.confirm = 0;
  c.rules.push_back(prev);
  c.outlier_pct = 50;
  std::vector<rules::config_problem> problems;
  auto compiled = rules::compiled_rules::compile(c, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message;
  return compiled;
}

// The value of the series whose line starts with `series` ("name{labels}"), or NaN.
double value_of(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return std::nan("");
}

struct engine_harness {
  explicit engine_harness(std::size_t max_extra = 64)
      : m(metrics_options{max_extra, {"0.1.0", "test", "Debug", "g++"}, "replay"}),
        eng(test_rules()),
        probe(m) {
    m.set_rules("abc123", eng.rules());
  }
  void trade(const char* symbol, double price, const char* when) {
    process(rules::trade{symbol, price, 100, at(when), 0});
  }
  void headline(const char* id, const char* text, const char* when) {
    rules::news n;
    n.id = id;
    n.headline = text;
    n.time = at(when);
    process(n);
  }
  void process(const rules::event& e) {
    std::vector<rules::alert> out;
    eng.process(e, out);
    probe.after_event(eng, e, out, engine_probe::clock::now());
  }
  metrics m;
  rules::engine eng;
  engine_probe probe;
};

TEST(telemetry, probe_counts_alerts_headlines_and_prices) {
  engine_harness h;
  h.trade("NVDA", 101, "2025-01-24T20:30:00Z");
  h.trade("NVDA", 100, "2025-01-24T20:59:59Z");  // Friday's close
  h.headline("1", "DeepSeek R1 rattles Nvidia", "2025-01-27T09:00:00Z");
  h.headline("1", "DeepSeek R1 rattles Nvidia", "2025-01-27T09:00:00Z");  // duplicate
  h.trade("NVDA", 94, "2025-01-27T09:30:00Z");  // -6%: fires
  h.probe.tick(h.eng, /*force=*/true);
  const std::string text = h.m.render();

  EXPECT_EQ(value_of(text, R"(aftershock_alerts_fired_total{kind="move",rule="prev_close_move",severity="warning"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_headline_entity_matches_total{link="direct",symbol="NVDA"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_headline_theme_matches_total{theme="deepseek"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_headlines_total{outcome="duplicate"})"), 1);
  EXPECT_NEAR(value_of(text, R"(aftershock_symbol_change_ratio{symbol="NVDA",exchange="XNAS"})"), -0.06, 1e-9);
  EXPECT_EQ(value_of(text, R"(aftershock_symbol_last_price{symbol="NVDA",exchange="XNAS"})"), 94);
  EXPECT_EQ(value_of(text, R"(aftershock_engine_events_total{type="trade"})"), 3);
  EXPECT_EQ(value_of(text, "aftershock_engine_event_to_alert_seconds_count"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_basket_member_info{basket="ai_semis",symbol="NVDA"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_rules_info{config_hash="abc123"})"), 1);
  EXPECT_THAT(text, HasSubstr(R"(aftershock_build_info{build_type="Debug",commit="test",compiler="g++",mode="replay",version="0.1.0"} 1)"));
}

TEST(telemetry, symbol_series_are_the_universe_plus_a_cap) {
  engine_harness h(/*max_extra=*/2);
  for (const char* s : {"NVDA", "X1", "X2", "X3", "X4"}) h.trade(s, 10, "2025-01-27T15:00:00Z");
  h.probe.tick(h.eng, /*force=*/true);
  const std::string text = h.m.render();
  std::size_t series = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("aftershock_symbol_last_price{", 0) == 0) ++series;
  }
  EXPECT_EQ(series, 3u);  // NVDA plus two others
  EXPECT_EQ(value_of(text, "aftershock_symbols_unexported"), 2);
}

TEST(telemetry, reloads_and_rules_info_follow_the_config) {
  engine_harness h;
  h.m.record_reload(false);
  h.m.record_reload(true);
  h.m.set_rules("def456", h.eng.rules());
  const std::string text = h.m.render();
  EXPECT_EQ(value_of(text, R"(aftershock_config_reloads_total{outcome="failure"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_config_reloads_total{outcome="success"})"), 1);
  EXPECT_EQ(value_of(text, "aftershock_config_last_reload_successful"), 1);
  EXPECT_GT(value_of(text, "aftershock_config_last_reload_success_timestamp_seconds"), 1.7e9);
  EXPECT_THAT(text, HasSubstr("def456"));
  EXPECT_THAT(text, Not(HasSubstr("abc123")));
}

metrics& full_metrics() {
  // Everything populated: engine, feeds, delivery (one destination with latencies).
  static engine_harness h;
  static bool once = [] {
    h.trade("NVDA", 100, "2025-01-24T20:59:59Z");
    h.trade("NVDA", 89, "2025-01-27T09:30:00Z");
    h.probe.tick(h.eng, true);
    h.m.set_pipeline_source([] {
      feeds::feed_stats s;
      s.name = "alpaca-sip";
      s.which = feeds::dialect::alpaca_stocks;
      s.connected = s.authenticated = true;
      s.messages = 10;
      s.last_message_at = 1'000'000'000;
      pipeline_sample p;
      p.feeds.push_back(sample_of(s, 0, 3'000'000'000, 0));
      p.queue_capacity = 65536;
      return p;
    });
    h.m.set_delivery_source([] {
      exporters::delivery_snapshot d;
      exporters::destination_stats s;
      s.name = "slack-ai";
      s.type = "slack";
      s.requests = 5;
      s.messages_delivered = 3;
      s.alerts_delivered = 4;
      s.rate_limited = 1;
      s.retries = 1;
      s.latency.observe(0.004);
      s.latency.observe(0.2);
      d.destinations.push_back(s);
      d.outbox.depth = 2;
      return d;
    });
    return true;
  }();
  (void)once;
  return h.m;
}

TEST(telemetry, delivery_and_feed_series_from_snapshots) {
  const std::string text = full_metrics().render();
  EXPECT_EQ(value_of(text, R"(aftershock_feed_connected{feed="alpaca-sip",dialect="alpaca-stocks"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_feed_last_message_age_seconds{feed="alpaca-sip",dialect="alpaca-stocks"})"), 2);
  EXPECT_EQ(value_of(text, R"(aftershock_delivery_requests_total{destination="slack-ai",type="slack",outcome="rate_limited"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_delivery_alerts_total{destination="slack-ai",type="slack",outcome="delivered"})"), 4);
  EXPECT_EQ(value_of(text, R"(aftershock_delivery_latency_seconds_bucket{destination="slack-ai",type="slack",le="0.005"})"), 1);
  EXPECT_EQ(value_of(text, R"(aftershock_delivery_latency_seconds_bucket{destination="slack-ai",type="slack",le="+Inf"})"), 2);
  EXPECT_EQ(value_of(text, "aftershock_outbox_alerts"), 2);
  EXPECT_EQ(value_of(text, R"(aftershock_alerts_dropped_total{reason="outbox_full",severity="info"})"), 0);
}

TEST(telemetry, promtool_check_metrics_has_nothing_to_say) {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed (scripts/setup)";
  char dir[] = "/tmp/aftershock-telemetry-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string in = std::string(dir) + "/metrics.txt", out = std::string(dir) + "/out.txt";
  std::ofstream(in) << full_metrics().render();
  const std::string cmd = std::string(promtool) + " check metrics < " + in + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream said(out);
  const std::string output((std::istreambuf_iterator<char>(said)), {});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(output, "");
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
}

TEST(telemetry, listen_addresses_are_ip_and_port) {
  for (const char* ok : {"127.0.0.1:9464", "0.0.0.0:0", "[::1]:9464", "[::]:80"}) {
    EXPECT_TRUE(valid_listen_address(ok)) << ok;
  }
  for (const char* bad : {"localhost:9464", "9464", "127.0.0.1", "127.0.0.1:99999", "1.2.3:80",
                          "127.0.0.1:x", "[]:80", ""}) {
    std::string why;
    EXPECT_FALSE(valid_listen_address(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

// A minimal HTTP/1.0 GET: status code and body.
std::pair<int, std::string> get(const std::string& address, const std::string& path) {
  const std::size_t colon = address.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &a.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) resp.append(buf, static_cast<std::size_t>(n));
  close(fd);
  const int status = resp.size() > 12 ? std::atoi(resp.c_str() + 9) : 0;
  const std::size_t body = resp.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : resp.substr(body + 4)};
}

TEST(telemetry, endpoint_serves_metrics_health_and_readiness) {
  std::atomic<bool> ready{false};
  endpoint_options o;
  o.listen = "127.0.0.1:0";
  o.ready = [&] { return health{ready.load(), ready ? "feeds connected" : "feeds not connected: x"}; };
  http_endpoint endpoint(full_metrics(), o);
  ASSERT_THAT(endpoint.address(), Not(HasSubstr(":0")));

  auto [status, body] = get(endpoint.address(), "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(body, HasSubstr("aftershock_build_info{"));
  EXPECT_TRUE(endpoint.wait_for_scrapes(1, std::chrono::seconds(5)));
  EXPECT_EQ(get(endpoint.address(), "/healthz").first, 200);
  auto not_ready = get(endpoint.address(), "/readyz");
  EXPECT_EQ(not_ready.first, 503);
  EXPECT_THAT(not_ready.second, HasSubstr("feeds not connected: x"));
  ready = true;
  EXPECT_EQ(get(endpoint.address(), "/readyz").first, 200);
  EXPECT_EQ(get(endpoint.address(), "/nothing-here").first, 404);

  // A second endpoint on the same port is refused with a message naming the address.
  endpoint_options same;
  same.listen = endpoint.address();
  try {
    http_endpoint second(full_metrics(), same);
    ADD_FAILURE() << "listened twice on " << endpoint.address();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(endpoint.address()));
  }
}

TEST(telemetry, replay_feeds_count_frames_on_the_replay_clock) {
  replay_feeds f;
  f.on_frame(feeds::dialect::finnhub, 10'000'000'000, 100, 2, 0, 9'500'000'000);
  f.on_frame(feeds::dialect::alpaca_news, 12'000'000'000, 50, 0, 1, 0);
  pipeline_sample p = f.sample();
  ASSERT_EQ(p.feeds.size(), 2u);
  const feed_sample& finnhub = p.feeds[1].name == "finnhub" ? p.feeds[1] : p.feeds[0];
  EXPECT_EQ(finnhub.events, 2u);
  EXPECT_DOUBLE_EQ(finnhub.last_message_age_s, 2.0);
  EXPECT_DOUBLE_EQ(finnhub.event_time_lag_s, 0.5);
  EXPECT_TRUE(finnhub.connected);
  f.finish();
  EXPECT_FALSE(f.sample().feeds[0].connected);
}

TEST(telemetry, metrics_config_section) {
  // The default config (its calendars/ resolve beside it) with a metrics: section appended.
  const std::string path = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml";
  std::ifstream in(path);
  const std::string base = std::string((std::istreambuf_iterator<char>(in)), {}) + "\nmetrics:\n";
  auto ok = daemon::load_config(base + "  listen: \"[::1]:9500\"\n  max_extra_symbols: 5\n", path);
  ASSERT_TRUE(ok.ok()) << ok.errors.front().message;
  EXPECT_EQ(ok.config.metrics.listen, "[::1]:9500");
  EXPECT_EQ(ok.config.metrics.max_extra_symbols, 5u);
  EXPECT_TRUE(ok.config.metrics.enabled);
  auto off = daemon::load_config(base + "  enabled: false\n", path);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off.config.metrics.enabled);
  auto bad = daemon::load_config(base + "  listen: localhost:9464\n  colour: red\n", path);
  ASSERT_EQ(bad.errors.size(), 2u);
  EXPECT_THAT(bad.errors[0].message + bad.errors[1].message, HasSubstr("metrics.listen"));
  EXPECT_THAT(bad.errors[0].message + bad.errors[1].message, HasSubstr("unknown key 'colour'"));
}

}  // namespace
}  // namespace aftershock::telemetry
