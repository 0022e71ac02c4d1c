// End-to-end tests of `aftershockd run` against `aftershock-feedsim`, both run as the real
// binaries on 127.0.0.1 (feedsim binds port 0 and prints it), the way scripts/demo uses them:
// - the DeepSeek day through feedsim passes the scenario's own expectations, and the live
//   recording (--record) replays to exactly the live alerts;
// - feedsim's drop fault: reconnect with backoff, full resubscription, no duplicate alert;
// - feedsim's stall fault: a feed_stale alert within stale_after, then recovery;
// - feedsim's auth rejection: a clear error, a long back-off, one connection only.
// feedsim serves in real time where the tests need time to pass (the reconnect), else as fast
// as the client reads. Skipped when feedsim is not built.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <filesystem>
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

std::string temp_dir(const std::string& name) {
  const std::string dir =
      std::filesystem::temp_directory_path().string() + "/feedsim_run_" + name;
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
      : process("aftershock-feedsim", args, "feedsim_" + tag) {
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
  return R"(version: 1
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
feeds:
  - name: alpaca
    dialect: alpaca-stocks
    url: ws://)" + host_port + R"(/v2/iex
    key: test-key
    secret: test-secret
    symbols: [NVDA]
    channels: [trades]
    backoff_base: 50ms
    backoff_cap: 200ms
    handshake_timeout: 2s
)" + extra;
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

TEST(feedsim_run, deepseek_day_passes_the_scenario_and_the_recording_replays_exactly) {
  if (!feedsim_built()) GTEST_SKIP() << "aftershock-feedsim is not built";
  const std::string dir = temp_dir("deepseek");
  feedsim sim({"--speed", "max", "--wait-for", "4", "--exit-when-done", "--start-timeout", "20s",
               k_scenario + "/capture.ndjson"},
              "deepseek");
  ASSERT_FALSE(sim.host_port.empty()) << sim.process.err();
  const std::string config = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/demo.yaml";
  child_process run("aftershockd",
                    {"run", "--config", config, "--feed-host", sim.host_port, "--alerts-out",
                     dir + "/live.jsonl", "--record", dir + "/rec", "--print", "none",
                     "--status-interval", "0"},
                    "feedsim_run_deepseek");
  // feedsim exits once every frame is sent; its closing frames (1001) come after the data on
  // each socket, so once aftershockd has seen all four, it has read everything.
  ASSERT_EQ(sim.process.wait(60s), 0) << sim.process.err();
  ASSERT_TRUE(eventually([&] {
    return count(run.err(), "(code 1001: feedsim shutting down)") >= 4;
  })) << run.err();
  const std::string err = stop(run);
  EXPECT_THAT(err, HasSubstr("run: 46397 events"));
  EXPECT_THAT(err, HasSubstr("0 frames dropped"));
  EXPECT_EQ(count(err, " 0 parse errors,"), 4u) << err;

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
  const loaded_config loaded = load_config_file(config);
  ASSERT_TRUE(loaded.ok());
  replay_options ro;
  ro.captures = recorded;
  ro.alerts_out = dir + "/recorded-replay.jsonl";
  std::string error;
  const replay_summary s = replay_captures(loaded, ro, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(s.events, 46397u);
  EXPECT_EQ(s.bad_lines, 0u);
  const auto live = alert_keys(read_text(dir + "/live.jsonl"));
  const auto replayed = alert_keys(read_text(dir + "/recorded-replay.jsonl"));
  ASSERT_GE(live.size(), replayed.size());
  EXPECT_TRUE(std::equal(replayed.begin(), replayed.end(), live.begin()))
      << "live and the replay of its recording disagree";

  // How close the live run came to replaying the original capture: the four sockets are read
  // concurrently, so frames of different feeds within the same moment may swap places.
  ro.captures = {k_scenario + "/capture.ndjson"};
  ro.alerts_out = dir + "/capture-replay.jsonl";
  replay_captures(loaded, ro, &error);
  const auto original = alert_keys(read_text(dir + "/capture-replay.jsonl"));
  const std::set<std::string> live_set(live.begin(), live.end());
  std::size_t same = 0;
  for (const auto& k : original) same += live_set.count(k);
  std::printf("[ measure  ] feedsim --speed max: %zu live alerts, %zu of the capture replay's %zu "
              "identical (fingerprint, event time)\n",
              live.size(), same, original.size());
}

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
                    "feedsim_run_drop");
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
                    "feedsim_run_stall");
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
                    "feedsim_run_auth");
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
