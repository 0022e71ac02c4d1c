// End-to-end tests of `aftershockd run` against `aftershock-feedsim`, both run as the real
// binaries on 127.0.0.1 (feedsim binds port 0 and prints it), the way scripts/demo uses them:
// - the DeepSeek day through feedsim over ws and over wss (a test CA) yields exactly the
//   alerts `replay` gives (fingerprints, event times), passes the scenario's own expectations,
//   and the live recording (--record) replays;
// - feedsim killed and restarted 20 times mid-stream: reconnects with back-off and
//   resubscription, no crash, no duplicate alert;
// - feedsim's drop fault: reconnect with backoff, full resubscription, no duplicate alert;
// - feedsim's garbage and oversize faults: counted; the session survives, or reconnects;
// - feedsim's stall fault: a feed_stale alert within stale_after, then recovery;
// - feedsim's auth rejection: a clear error, a long back-off, one connection only.
// feedsim serves in real time where the tests need time to pass (the reconnect), else as fast
// as the client reads. Skipped when feedsim is not built.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <simdjson.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "daemon/config_loader.h"
#include "daemon/replay.h"
#include "feeds/capture_writer.h"
#include "rules/time.h"

namespace aftershock::daemon {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::one_feed_config;
using test::read_text;
using testing::HasSubstr;

const std::string k_scenario =
    std::string(AFTERSHOCK_TEST_DATA_DIR) + "/scenarios/deepseek-2025-01-27";

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Per process: several build trees may run this test at the same time.
std::string unique(const std::string& name) {
  return name + "_" + std::to_string(::getpid());
}

std::string temp_dir(const std::string& name) {
  const std::string dir =
      std::filesystem::temp_directory_path().string() + "/feedsim_run_" + unique(name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + what.size())) {
    ++n;
  }
  return n;
}

// Starts feedsim and waits for its "listening HOST:PORT" line.
struct feedsim {
  feedsim(std::vector<std::string> args, const std::string& tag)
      : process("aftershock-feedsim", args, "feedsim_" + unique(tag)) {
    eventually([&] { return process.out().find('\n') != std::string::npos; }, 10s);
    const std::string first = process.out().substr(0, process.out().find('\n'));
    const std::size_t colon = first.rfind(':');
    if (first.rfind("listening ", 0) == 0 && colon != std::string::npos) {
      host_port = first.substr(std::string("listening ").size());
    }
  }
  child_process process;
  std::string host_port;  // "127.0.0.1:PORT"
};

bool feedsim_built() {
  return std::filesystem::exists(std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim");
}

// Alert lines as (fingerprint, event_time, status) keys.
std::vector<std::string> alert_keys(const std::string& jsonl) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const std::string& line : lines_of(jsonl)) {
    simdjson::dom::element a = parser.parse(line);
    out.push_back(std::string(std::string_view(a["fingerprint"])) + " " +
                  std::string(std::string_view(a["event_time"])) + " " +
                  std::string(std::string_view(a["status"])));
  }
  return out;
}

// One Alpaca feed with short timeouts, for the fault tests.
std::string small_config(const std::string& host_port, const std::string& extra = "") {
  return one_feed_config(host_port, "    handshake_timeout: 2s\n" + extra);
}

// Friday's close at 100, Monday pre-market about 10% lower: the prev_close_move fires once.
// Captured 600 ms apart, so real-time playback leaves time for a reconnect between frames.
std::string nvda_capture(const std::string& dir) {
  const char* times[] = {"2025-01-24T20:55:00Z", "2025-01-24T20:59:00Z", "2025-01-27T13:35:00Z",
                         "2025-01-27T13:35:01Z", "2025-01-27T13:36:00Z", "2025-01-27T13:37:00Z",
                         "2025-01-27T13:38:00Z", "2025-01-27T13:39:00Z"};
  const double prices[] = {100, 100, 90, 90.1, 89.9, 89.8, 89.7, 89.9};
  const std::string path = dir + "/nvda.ndjson";
  std::ofstream out(path);
  rules::time_ns at = *rules::parse_rfc3339("2026-01-05T14:30:00Z");
  for (int i = 0; i < 8; ++i) {
    const std::string frame = R"([{"T":"t","S":"NVDA","i":)" + std::to_string(i + 1) +
                              R"(,"x":"V","p":)" + std::to_string(prices[i]) +
                              R"(,"s":100,"t":")" + times[i] + R"("}])";
    out << feeds::capture_writer::format_line(at, feeds::dialect::alpaca_stocks, frame, false)
        << '\n';
    at += 600 * rules::k_ns_per_ms;
  }
  return path;
}

std::string write_config(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/config.yaml";
  std::ofstream(path) << text;
  return path;
}

// Stops aftershockd with SIGTERM and returns its stderr; fails the test on a bad exit.
std::string stop(child_process& run) {
  run.signal(SIGTERM);
  const int code = run.wait(10s);
  EXPECT_EQ(code, 0) << run.err();
  return run.err();
}

// deploy/config/demo.yaml pointed at a wss:// feedsim: every feed URL gets the scheme wss, the
// host `host_port` and the test CA as ca_file (host-name verification stays on: the server
// certificate names 127.0.0.1); calendar paths become absolute, since the copy lives elsewhere.
std::string demo_config_over_wss(const std::string& dir, const std::string& host_port,
                                 const std::string& ca_file) {
  const std::string source_dir = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/";
  std::istringstream in(read_text(source_dir + "demo.yaml"));
  std::ostringstream out;
  std::string line;
  std::size_t urls = 0;
  const std::string placeholder = "ws://127.0.0.1:18080";
  while (std::getline(in, line)) {
    const std::size_t cal = line.find("- calendars/");
    if (cal != std::string::npos) line.replace(cal + 2, 0, source_dir);
    const std::size_t url = line.find("url: " + placeholder);
    if (url != std::string::npos) {
      line.replace(url + 5, placeholder.size(), "wss://" + host_port);
      out << line << '\n' << std::string(url, ' ') << "ca_file: " << ca_file << '\n';
      ++urls;
      continue;
    }
    out << line << '\n';
  }
  EXPECT_EQ(urls, 4u) << "demo.yaml's feeds changed: update this test";
  const std::string path = dir + "/demo-wss.yaml";
  std::ofstream(path) << out.str();
  return path;
}

// The DeepSeek day served by feedsim in the vendors' dialects over four sockets, ws or wss
// (a test CA's certificate, made by tests/support/make-test-certs.sh), ingested by
// `aftershockd run` with deploy/config/demo.yaml: the same alerts, fingerprints and event
// times, as `aftershockd replay` of the capture. feedsim --ordered keeps the capture's order
// across the four sockets (a ping answered before switching), so the engine sees the events in
// replay's order. Also: the scenario's own checker passes, and the live recording replays to
// exactly the live alerts.
class feedsim_run_deepseek : public testing::TestWithParam<bool> {};

TEST_P(feedsim_run_deepseek, same_alerts_as_replay_and_a_replayable_recording) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const bool tls = GetParam();
  const std::string tag = tls ? "deepseek_wss" : "deepseek_ws";
  const std::string dir = temp_dir(tag);
  std::vector<std::string> sim_args = {"--speed", "max", "--ordered", "--wait-for", "4",
                                       "--exit-when-done", "--start-timeout", "20s"};
  const std::string certs = dir + "/certs";
  if (tls) {
    const std::string make = "bash " + std::string(AFTERSHOCK_SOURCE_DIR) +
                             "/tests/support/make-test-certs.sh " + certs + " > " + dir +
                             "/certs.log 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0) << read_text(dir + "/certs.log");
    sim_args.insert(sim_args.end(), {"--tls-cert", certs + "/server.pem", "--tls-key",
                                     certs + "/server.key"});
  }
  sim_args.push_back(k_scenario + "/capture.ndjson");
  feedsim sim(sim_args, tag);
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string demo = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/demo.yaml";
  const std::string config =
      tls ? demo_config_over_wss(dir, sim.host_port, certs + "/ca.pem") : demo;
  std::vector<std::string> run_args = {"run", "--config", config, "--alerts-out",
                                       dir + "/live.jsonl", "--record", dir + "/rec", "--print",
                                       "none", "--status-interval", "0"};
  if (!tls) run_args.insert(run_args.end(), {"--feed-host", sim.host_port});
  child_process run("aftershockd", run_args, unique("feedsim_run_" + tag));
  // feedsim exits once every frame is sent; its closing frames (1001) come after the data on
  // each socket, so once aftershockd has seen all four, it has read everything.
  ASSERT_EQ(sim.process.wait(60s), 0) << sim.process.err() << run.err();
  ASSERT_TRUE(eventually([&] {
    return count(run.err(), "(code 1001: feedsim shutting down)") >= 4;
  })) << run.err();
  const std::string err = stop(run);
  EXPECT_THAT(err, HasSubstr("run: 46397 events"));
  EXPECT_THAT(err, HasSubstr("0 frames dropped"));
  EXPECT_EQ(count(err, " 0 parse errors,"), 4u) << err;
  EXPECT_EQ(count(err, " 0 reconnects"), 4u) << err;
  if (tls) {
    EXPECT_EQ(count(err, "connected to wss://127.0.0.1:"), 4u) << err;
  }

  // The same alerts as `replay` of the capture: fingerprints, event times, statuses, in order.
  const loaded_config loaded = load_config_file(config);
  ASSERT_TRUE(loaded.ok());
  replay_options ro;
  ro.captures = {k_scenario + "/capture.ndjson"};
  ro.alerts_out = dir + "/capture-replay.jsonl";
  std::string error;
  const replay_summary replayed_day = replay_captures(loaded, ro, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(replayed_day.events, 46397u);
  const auto live = alert_keys(read_text(dir + "/live.jsonl"));
  const auto original = alert_keys(read_text(dir + "/capture-replay.jsonl"));
  ASSERT_GT(original.size(), 10u);
  EXPECT_EQ(live, original) << "live over " << (tls ? "wss" : "ws") << " and replay disagree";

  // The scenario's own checker, as a user would run it.
  const std::string check = "python3 " + std::string(AFTERSHOCK_TEST_DATA_DIR) +
                            "/scenarios/check_alerts.py " + k_scenario + "/expected.json " +
                            dir + "/live.jsonl > " + dir + "/check.txt 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << read_text(dir + "/check.txt");

  // The recording replays to exactly what the live run alerted.
  std::vector<std::string> recorded;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/rec")) {
    recorded.push_back(e.path().string());
  }
  EXPECT_EQ(recorded.size(), 4u) << "one file per feed (all within the hour)";
  ro.captures = recorded;
  ro.alerts_out = dir + "/recorded-replay.jsonl";
  const replay_summary s = replay_captures(loaded, ro, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(s.events, 46397u);
  EXPECT_EQ(s.bad_lines, 0u);
  // Capture v1 keeps receive times in milliseconds and a recording has one file per feed, so
  // frames of different feeds received within the same millisecond (all of them, at --speed
  // max) replay in file order: the recording's replay passes the scenario, and mostly agrees.
  const std::string check_recorded = "python3 " + std::string(AFTERSHOCK_TEST_DATA_DIR) +
                                     "/scenarios/check_alerts.py " + k_scenario +
                                     "/expected.json " + dir + "/recorded-replay.jsonl > " + dir +
                                     "/check-recorded.txt 2>&1";
  EXPECT_EQ(std::system(check_recorded.c_str()), 0) << read_text(dir + "/check-recorded.txt");
  const auto recorded_alerts = alert_keys(read_text(dir + "/recorded-replay.jsonl"));
  const std::set<std::string> live_set(live.begin(), live.end());
  std::size_t same = 0;
  for (const auto& k : recorded_alerts) same += live_set.count(k);
  std::printf("[ measure  ] feedsim --speed max --ordered over %s: %zu live alerts, all equal to "
              "replay's; the recording's replay: %zu of %zu identical\n",
              tls ? "wss" : "ws", live.size(), same, recorded_alerts.size());
}

INSTANTIATE_TEST_SUITE_P(transport, feedsim_run_deepseek, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "wss" : "ws");
                         });

TEST(feedsim_run, a_dropped_connection_reconnects_resubscribes_and_alerts_once) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("drop");
  const std::string capture = nvda_capture(dir);
  feedsim sim({"--speed", "1", "--wait-for", "1", "--exit-when-done", "--start-timeout", "20s",
               "--drop-after", "3", "--fault-connections", "1", capture},
              "drop");
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config = write_config(dir, small_config(sim.host_port));
  child_process run("aftershockd",
                    {"run", "--config", config, "--alerts-out", dir + "/live.jsonl", "--print",
                     "none", "--status-interval", "1"},
                    unique("feedsim_run_drop"));
  ASSERT_EQ(sim.process.wait(30s), 0) << sim.process.err();
  // Reconnect warnings are rate limited; the once-a-second status line counts the events.
  ASSERT_TRUE(eventually([&] { return run.err().find(" 8 events,") != std::string::npos; }))
      << run.err();
  const std::string err = stop(run);
  // Dropped after 3 prints, reconnected, re-authenticated and resubscribed to the full set.
  EXPECT_EQ(count(err, "feed alpaca: authenticated"), 2u) << err;
  EXPECT_EQ(count(err, "feed alpaca: subscription acknowledged: 1 pairs"), 2u) << err;
  EXPECT_THAT(err, HasSubstr("reconnecting in"));
  EXPECT_THAT(err, HasSubstr("feed alpaca: stopped, "));
  EXPECT_THAT(err, HasSubstr(" 1 reconnects"));
  EXPECT_GE(count(sim.process.err(), ": open"), 2u) << sim.process.err();
  // Nothing lost (the reconnect beat the next print), nothing alerted twice: the same alerts as
  // a replay of the capture.
  EXPECT_THAT(err, HasSubstr("run: 8 events"));
  const loaded_config loaded = load_config_file(config);
  replay_options ro;
  ro.captures = {capture};
  ro.alerts_out = dir + "/replay.jsonl";
  std::string error;
  replay_captures(loaded, ro, &error);
  const auto replayed = alert_keys(read_text(dir + "/replay.jsonl"));
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(alert_keys(read_text(dir + "/live.jsonl")), replayed);
}

// The decimal number ending at `at` in `text` ("... 20 reconnects": at the space), or -1.
long long number_ending_at(const std::string& text, std::size_t at) {
  if (at == std::string::npos) return -1;
  std::size_t begin = at;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1]))) --begin;
  if (begin == at) return -1;
  return std::stoll(text.substr(begin, at - begin));
}

// The number just before the first / the last `suffix` in `text`, or -1.
long long number_before(const std::string& text, const std::string& suffix) {
  return number_ending_at(text, text.find(suffix));
}
long long last_number_before(const std::string& text, const std::string& suffix) {
  return number_ending_at(text, text.rfind(suffix));
}

// Killed (SIGKILL) and restarted on the same port 20 times, each time in the middle of the
// stream (connected, subscribed, data flowing): aftershockd reconnects each time after a
// back-off, authenticates and subscribes again, never crashes, and alerts exactly as a replay
// of everything that was served (no duplicate, nothing lost). Each feedsim instance serves the
// next slice of the day (--ordered: it says when the client has read every frame, so the kill
// loses nothing in flight).
TEST(feedsim_run, killed_and_restarted_20_times_reconnects_with_backoff_and_alerts_once) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("restarts");
  constexpr int k_instances = 21;  // the first one and 20 restarts
  // Friday's close at 100, then Monday pre-market sliding 1% per slice: fires at 5%,
  // escalates at 10% and 15%; three prints per slice, one minute apart.
  std::vector<std::string> slices;
  rules::time_ns at = *rules::parse_rfc3339("2026-01-05T14:30:00Z");
  int id = 0;
  rules::time_ns market = *rules::parse_rfc3339("2025-01-27T13:00:00Z");
  for (int k = 0; k < k_instances; ++k) {
    const std::string path = dir + "/slice-" + std::to_string(k) + ".ndjson";
    std::ofstream out(path);
    for (int j = 0; j < 3; ++j) {
      double price = 100.0 - k - 0.3 * j;
      std::string time = rules::format_rfc3339_s(market);
      if (k == 0) {
        price = 100.0;
        time = "2025-01-24T20:5" + std::to_string(5 + j) + ":00Z";
      } else {
        market += 60 * rules::k_ns_per_s;
      }
      const std::string frame = R"([{"T":"t","S":"NVDA","i":)" + std::to_string(++id) +
                                R"(,"x":"V","p":)" + std::to_string(price) +
                                R"(,"s":100,"t":")" + time + R"("}])";
      out << feeds::capture_writer::format_line(at, feeds::dialect::alpaca_stocks, frame, false)
          << '\n';
      at += 100 * rules::k_ns_per_ms;
    }
    slices.push_back(path);
  }
  const std::string config = write_config(
      dir, std::string(R"(version: 1
default_exchange: XNAS
exchanges:
  - mic: XNAS
    time_zone: America/New_York
    tz_rule: EST5EDT,M3.2.0,M11.1.0
    pre_market: ["04:00-09:30"]
    regular: ["09:30-16:00"]
    after_hours: ["16:00-20:00"]
universe:
  - {symbol: NVDA, name: Nvidia, exchange: XNAS, aliases: [Nvidia]}
rules:
  - name: prev_close_move
    kind: prev_close_move
    threshold_pct: 5
    escalation_pct: [10, 15]
feeds:
  - name: alpaca
    dialect: alpaca-stocks
    url: ws://127.0.0.1:18080/v2/iex   # --feed-host
    key: test-key
    secret: test-secret
    symbols: [NVDA]
    channels: [trades]
    backoff_base: 20ms
    backoff_cap: 100ms
    handshake_timeout: 2s
)"));

  std::string port;
  std::unique_ptr<child_process> run;
  for (int k = 0; k < k_instances; ++k) {
    const std::string listen = port.empty() ? "127.0.0.1:0" : "127.0.0.1:" + port;
    feedsim sim({"--listen", listen, "--speed", "max", "--ordered", "--wait-for", "1",
                 "--start-timeout", "20s", slices[static_cast<std::size_t>(k)]},
                "restart_" + std::to_string(k));
    ASSERT_FALSE(sim.host_port.empty()) << "instance " << k << ": " << sim.process.err();
    if (!run) {
      port = sim.host_port.substr(sim.host_port.rfind(':') + 1);
      run = std::make_unique<child_process>(
          "aftershockd",
          std::vector<std::string>{"run", "--config", config, "--feed-host", sim.host_port,
                                   "--alerts-out", dir + "/live.jsonl", "--print", "none",
                                   "--status-interval", "0"},
          unique("feedsim_run_restarts"));
    }
    ASSERT_TRUE(eventually([&] {
      return sim.process.err().find("every client has read every frame") != std::string::npos;
    })) << "instance " << k << ": " << sim.process.err() << "\n" << run->err();
    ASSERT_TRUE(run->running()) << "aftershockd died: " << run->err();
    if (k + 1 < k_instances) {
      sim.process.signal(SIGKILL);  // mid-stream: the connection is open and subscribed
      ASSERT_EQ(sim.process.wait(5s), 128 + SIGKILL);
    } else {
      const std::string err = stop(*run);
      sim.process.signal(SIGTERM);
      sim.process.wait(5s);
      EXPECT_THAT(err, HasSubstr("run: 63 events"));
      EXPECT_EQ(number_before(err, " reconnects ("), 20) << err;
      EXPECT_EQ(count(err, "feed alpaca: authenticated"), 21u) << err;
      EXPECT_EQ(count(err, "feed alpaca: subscription acknowledged: 1 pairs"), 21u) << err;
      EXPECT_THAT(err, HasSubstr("reconnecting in"));
      // Back-off, not a tight loop: a few refused attempts per restart at most (a loop would
      // make thousands while feedsim restarts).
      const long long attempts = number_before(err, " connect attempts)");
      EXPECT_GE(attempts, 21);
      EXPECT_LE(attempts, 21 + 20 * 10) << err;
    }
  }

  // Exactly the alerts a replay of all the slices gives; every id once.
  const loaded_config loaded = load_config_file(config);
  ASSERT_TRUE(loaded.ok());
  replay_options ro;
  ro.captures = slices;
  ro.alerts_out = dir + "/replay.jsonl";
  std::string error;
  replay_captures(loaded, ro, &error);
  const auto replayed = alert_keys(read_text(dir + "/replay.jsonl"));
  ASSERT_GE(replayed.size(), 3u) << "5%, 10% and 15%";
  const std::string live_text = read_text(dir + "/live.jsonl");
  EXPECT_EQ(alert_keys(live_text), replayed);
  std::set<std::string> ids;
  simdjson::dom::parser parser;
  for (const std::string& line : lines_of(live_text)) {
    simdjson::dom::element a = parser.parse(line);
    EXPECT_TRUE(ids.insert(std::string(std::string_view(a["id"]))).second) << line;
  }
}

// Garbage frames and an oversized frame through the daemon: the garbage is counted as parse
// errors and the session carries on; the oversized frame (over max_frame_bytes) is counted and
// the session reconnects; the alerts are still the replay's.
TEST(feedsim_run, garbage_is_counted_and_an_oversized_frame_reconnects) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("garbage");
  const std::string capture = nvda_capture(dir);
  // Connection 1: prints 1-2, garbage, 3-4, garbage, 5, a 300 kB frame. Connection 2: the rest.
  feedsim sim({"--speed", "2", "--wait-for", "1", "--exit-when-done", "--start-timeout", "20s",
               "--garbage-every", "2", "--oversize-every", "5", "--oversize-bytes", "300000",
               "--fault-connections", "1", capture},
              "garbage");
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config =
      write_config(dir, small_config(sim.host_port, "    max_frame_bytes: 100KiB\n"));
  child_process run("aftershockd",
                    {"run", "--config", config, "--alerts-out", dir + "/live.jsonl", "--print",
                     "none", "--status-interval", "1"},
                    unique("feedsim_run_garbage"));
  ASSERT_EQ(sim.process.wait(30s), 0) << sim.process.err();
  // A third connection attempt comes only after feedsim's goodbye on the second connection,
  // which follows its last frame: by then everything sent has been read. (Reconnect warnings
  // are rate limited; the once-a-second status line counts the attempts.)
  ASSERT_TRUE(eventually([&] {
    return last_number_before(run.err(), " connect attempts)") >= 3;
  })) << run.err();
  const std::string err = stop(run);
  EXPECT_THAT(err, HasSubstr(" 2 parse errors, 1 oversized, 1 reconnects ("));
  EXPECT_THAT(err, HasSubstr("malformed element"));
  EXPECT_THAT(err, HasSubstr("a message exceeded max_frame_bytes (102400 bytes)"));
  EXPECT_EQ(count(err, "feed alpaca: subscription acknowledged: 1 pairs"), 2u) << err;
  // The reconnect (50 to 200 ms) normally beats the next print (300 ms); the first five prints
  // and the 10% drop among them arrive in any case.
  EXPECT_GE(last_number_before(err, " events, "), 5) << err;
  const auto live = alert_keys(read_text(dir + "/live.jsonl"));
  ASSERT_FALSE(live.empty()) << "the 10% drop alerts";
  const loaded_config loaded = load_config_file(config);
  replay_options ro;
  ro.captures = {capture};
  ro.alerts_out = dir + "/replay.jsonl";
  std::string error;
  replay_captures(loaded, ro, &error);
  const auto replayed = alert_keys(read_text(dir + "/replay.jsonl"));
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(live[0], replayed[0]);
}

TEST(feedsim_run, a_stalled_feed_raises_feed_stale_then_recovers) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("stall");
  const std::string capture = nvda_capture(dir);
  // The first connection goes silent after 2 prints and answers nothing, not even pings.
  feedsim sim({"--speed", "1", "--wait-for", "1", "--exit-when-done", "--start-timeout", "20s",
               "--stall-after", "2", "--fault-connections", "1", capture},
              "stall");
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config = write_config(
      dir, small_config(sim.host_port, "    stale_after: 1s\n    market: always\n"));
  child_process run("aftershockd",
                    {"run", "--config", config, "--alerts-out", dir + "/live.jsonl", "--print",
                     "none", "--status-interval", "0"},
                    unique("feedsim_run_stall"));
  ASSERT_TRUE(eventually([&] { return run.err().find("receiving again") != std::string::npos; }))
      << run.err();
  sim.process.wait(30s);
  const std::string err = stop(run);
  EXPECT_THAT(err, HasSubstr("feed alpaca: stale: no message for 1."));
  EXPECT_THAT(err, HasSubstr("(1 feed_stale)"));
  std::vector<std::string> stale;
  simdjson::dom::parser parser;
  for (const std::string& line : lines_of(read_text(dir + "/live.jsonl"))) {
    simdjson::dom::element a = parser.parse(line);
    if (std::string_view(a["kind"]) != "feed_stale") continue;
    stale.emplace_back(std::string_view(a["status"]));
    EXPECT_TRUE(a["symbol"].is_null());
    EXPECT_TRUE(a["change_pct"].is_null());
    EXPECT_EQ(std::string_view(a["event_time"]), "2025-01-24T20:59:00.000Z")
        << "the last market time before the silence";
  }
  EXPECT_EQ(stale, (std::vector<std::string>{"firing", "resolved"}));
}

TEST(feedsim_run, rejected_credentials_back_off_without_a_reconnect_loop) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("auth");
  feedsim sim({"--speed", "1", "--wait-for", "1", "--reject-auth", nvda_capture(dir)}, "auth");
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config = write_config(dir, small_config(sim.host_port));
  child_process run("aftershockd",
                    {"run", "--config", config, "--print", "none", "--status-interval", "0"},
                    unique("feedsim_run_auth"));
  ASSERT_TRUE(eventually([&] { return run.err().find("will not heal") != std::string::npos; }))
      << run.err();
  const std::string err = stop(run);
  EXPECT_THAT(err, HasSubstr("feed alpaca: authentication failed (402)"));
  EXPECT_THAT(err, HasSubstr("check the feed's key and secret"));
  EXPECT_EQ(err.find("test-secret"), std::string::npos);
  EXPECT_EQ(count(sim.process.err(), ": open"), 1u) << sim.process.err();
  sim.process.signal(SIGTERM);
  sim.process.wait(5s);
}

}  // namespace
}  // namespace aftershock::daemon
