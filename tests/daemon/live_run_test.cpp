// Integration tests for `aftershockd run`'s machinery (daemon::live_runner) and for the binary
// itself, against the scripted WebSocket server on 127.0.0.1 port 0 (tests/feeds/
// ws_test_server.h), speaking the vendors' handshakes:
// - the DeepSeek day served over four WebSocket feeds yields exactly the alerts `replay` makes;
// - a dropped connection reconnects, resubscribes and makes no duplicate alert;
// - a stall raises one feed_stale alert and resolves it when data flows again;
// - SIGTERM/SIGINT stop the binary within 5 s with the queue drained and the alerts flushed;
// - bad credentials give a clear error and a long back-off, not a reconnect loop.
// Waits poll with deadlines; nothing sleeps to make something happen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/config_loader.h"
#include "daemon/live_runner.h"
#include "daemon/replay.h"
#include "feeds/capture_reader.h"
#include "feeds/capture_writer.h"
#include "child_process.h"
#include "ws_test_server.h"

namespace aftershock::daemon {
namespace {

using namespace std::chrono_literals;
using test::one_feed_config;
using test::ws_test_connection;
using test::ws_test_server;
using testing::HasSubstr;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
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

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::string temp_path(const std::string& name) {
  std::string test = testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& ch : test) {
    if (ch == '/') ch = '_';  // parameterized names: "suite/param"
  }
  return testing::TempDir() + "live_run_" + test + "_" + name;
}

// Alpaca's handshake, acking everything with "*".
bool alpaca_handshake(ws_test_connection& c) {
  c.send(R"([{"T":"success","msg":"connected"}])");
  if (!c.receive()) return false;
  c.send(R"([{"T":"success","msg":"authenticated"}])");
  const auto sub = c.receive();
  if (!sub) return false;
  if (sub->find("\"news\"") != std::string::npos) {
    c.send(R"([{"T":"subscription","news":["*"]}])");
  } else {
    c.send(R"([{"T":"subscription","trades":["*"],"bars":["*"],"statuses":["*"]}])");
  }
  return true;
}

// Collects alerts in memory (the engine thread publishes, the test thread reads).
class memory_sink final : public exporters::alert_sink {
 public:
  void publish(const rules::alert& a) override {
    std::lock_guard lock(mutex_);
    alerts_.push_back(a);
  }
  std::vector<rules::alert> alerts() const {
    std::lock_guard lock(mutex_);
    return alerts_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<rules::alert> alerts_;
};

// A small config of our own, so these tests do not move with the default rules.
std::string small_config(unsigned short port, const std::string& feed_extra = "") {
  return one_feed_config("127.0.0.1:" + std::to_string(port), feed_extra);
}

std::string nvda_trade(int id, double price, const char* time) {
  return R"([{"T":"t","S":"NVDA","i":)" + std::to_string(id) + R"(,"x":"V","p":)" +
         std::to_string(price) + R"(,"s":100,"t":")" + time + R"("}])";
}

// Friday's regular close at 100, then Monday's pre-market drop of about 10%.
const std::vector<std::string> k_move = {
    nvda_trade(1, 100.0, "2025-01-24T20:55:00Z"), nvda_trade(2, 100.0, "2025-01-24T20:59:00Z"),
    nvda_trade(3, 90.0, "2025-01-27T13:35:00Z"), nvda_trade(4, 90.1, "2025-01-27T13:35:01Z"),
    nvda_trade(5, 89.9, "2025-01-27T13:36:00Z")};

loaded_config load_text(const std::string& text) {
  loaded_config c = load_config(text, "test.yaml");
  for (const auto& e : c.errors) ADD_FAILURE() << e.to_string();
  return c;
}

std::vector<feeds::session_config> sessions_for(const loaded_config& c,
                                                const std::string& feed_host = "") {
  std::vector<std::string> errors, warnings;
  auto s = make_session_configs(c.config, c.compiled, feed_host, feeds::system_secret_source(),
                                errors, warnings);
  for (const auto& e : errors) ADD_FAILURE() << e;
  return s;
}

run_options fast_options() {
  run_options o;
  o.queue_capacity = 1 << 20;
  o.feeds.random = [] { return std::uint64_t{0}; };
  return o;
}

// Replays frames (all of one dialect) through `replay_captures`, returning the alert lines.
std::vector<std::string> replay_lines(const loaded_config& c, const std::vector<std::string>& frames,
                                      feeds::dialect which) {
  const std::string capture = temp_path("capture.ndjson");
  const std::string out = temp_path("replay.jsonl");
  {
    std::ofstream f(capture, std::ios::binary | std::ios::trunc);
    rules::time_ns t = *rules::parse_rfc3339("2026-01-01T00:00:00Z");
    for (const std::string& frame : frames) {
      f << feeds::capture_writer::format_line(t, which, frame, false) << '\n';
      t += rules::k_ns_per_ms;
    }
  }
  replay_options options;
  options.captures = {capture};
  options.alerts_out = out;
  std::string error;
  replay_captures(c, options, &error);
  EXPECT_TRUE(error.empty()) << error;
  return lines_of(read_file(out));
}

// ---- the DeepSeek day over WebSockets -------------------------------------------------------

TEST(live_run, deepseek_day_over_websockets_gives_the_same_alerts_as_replay) {
  const std::string demo = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/demo.yaml";
  const std::string capture_path =
      std::string(AFTERSHOCK_TEST_DATA_DIR) + "/scenarios/deepseek-2025-01-27/capture.ndjson";
  const loaded_config config = load_config_file(demo);
  ASSERT_TRUE(config.ok());

  // What replay says.
  const std::string replay_out = temp_path("replay.jsonl");
  replay_options ro;
  ro.captures = {capture_path};
  ro.alerts_out = replay_out;
  std::string error;
  const replay_summary expected = replay_captures(config, ro, &error);
  ASSERT_TRUE(error.empty()) << error;
  const std::vector<std::string> replayed = lines_of(read_file(replay_out));
  ASSERT_GT(replayed.size(), 10u);

  // The capture's frames, in order.
  struct frame {
    feeds::dialect feed;
    std::string text;
  };
  std::vector<frame> frames;
  {
    feeds::capture_reader reader;
    reader.add("deepseek", read_file(capture_path));
    feeds::capture_record r;
    while (reader.next(r)) frames.push_back({r.feed, std::string(r.frame)});
  }

  // One server, four vendor endpoints (as feedsim serves them).
  std::mutex mutex;
  std::condition_variable ready_cv;
  std::map<feeds::dialect, ws_test_connection*> conns;
  std::string finnhub_target;
  ws_test_server server([&](ws_test_connection& c) {
    feeds::dialect which = feeds::dialect::generic;
    const std::string& target = c.target();
    if (target == "/v2/sip") {
      which = feeds::dialect::alpaca_stocks;
      if (!alpaca_handshake(c)) return;
    } else if (target == "/v1beta1/news") {
      which = feeds::dialect::alpaca_news;
      if (!alpaca_handshake(c)) return;
    } else if (target.rfind("/?token=", 0) == 0) {
      which = feeds::dialect::finnhub;
      finnhub_target = target;
    } else {
      EXPECT_EQ(target, "/generic");
    }
    {
      std::lock_guard lock(mutex);
      conns[which] = &c;
    }
    ready_cv.notify_all();
    c.wait_gone(120s);
  });

  const std::string live_out = temp_path("live.jsonl");
  exporters::jsonl_sink sink(live_out);
  ASSERT_TRUE(sink.ok());
  live_runner runner(config.compiled,
                     sessions_for(config, "127.0.0.1:" + std::to_string(server.port())), sink,
                     fast_options());
  const auto started = std::chrono::steady_clock::now();
  runner.start();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(ready_cv.wait_for(lock, 10s, [&] { return conns.size() == 4; }));
  }
  EXPECT_EQ(finnhub_target, "/?token=demo-token");

  // Frames go out in capture order. Where the next frame belongs to another connection, a
  // ping/pong on the previous one first proves the client has taken everything sent on it:
  // Beast answers the ping only after the reads before it completed. So the engine sees the
  // frames in the capture's order across four sockets, as replay does.
  std::map<ws_test_connection*, std::size_t> pings;
  ws_test_connection* previous = nullptr;
  auto barrier = [&](ws_test_connection* c) {
    c->ping();
    return c->wait_pongs(++pings[c], 10s);
  };
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const frame& f = frames[i];
    ws_test_connection* c = conns.at(f.feed);
    if (previous != nullptr && previous != c) {
      if (!barrier(previous)) {
        std::string state;
        for (const auto& fs : runner.snapshot().feeds) {
          state += fs.session.name + ": " + feeds::to_string(fs.session.state) + " frames " +
                   std::to_string(fs.session.frames) + " pings " +
                   std::to_string(fs.session.server_pings) + "; ";
        }
        FAIL() << "no pong before frame " << i << " (" << feeds::to_string(f.feed) << "): "
               << state;
      }
    }
    ASSERT_TRUE(c->send(f.text));
    previous = c;
  }
  ASSERT_TRUE(barrier(previous));
  ASSERT_TRUE(eventually([&] { return runner.snapshot().engine.events >= expected.events; }, 60s))
      << runner.snapshot().engine.events << " of " << expected.events;
  const auto served = std::chrono::steady_clock::now();
  const runner_snapshot snap = runner.snapshot();
  runner.stop(3000ms);

  EXPECT_EQ(snap.engine.events, expected.events);
  EXPECT_EQ(snap.queue_dropped, 0u);
  std::uint64_t parse_errors = 0, frames_in = 0;
  for (const auto& f : snap.feeds) {
    parse_errors += f.session.parse_errors;
    frames_in += f.session.frames;
    EXPECT_EQ(f.session.reconnects, 0u) << f.session.name;
    EXPECT_EQ(f.session.stale, 0u) << f.session.name;
  }
  EXPECT_EQ(parse_errors, expected.parse_errors);
  EXPECT_GE(frames_in, frames.size());

  const std::vector<std::string> live = lines_of(read_file(live_out));
  // The live run also flushes the engine at shutdown (held-back digests); replay's alerts must
  // be exactly its first lines, byte for byte: same ids, fingerprints and event times.
  ASSERT_GE(live.size(), replayed.size());
  for (std::size_t i = 0; i < replayed.size(); ++i) {
    ASSERT_EQ(live[i], replayed[i]) << "alert " << i;
  }
  std::printf("[ measure  ] %zu frames, %llu events, %zu alerts over 4 WebSockets in %.2f s\n",
              frames.size(), static_cast<unsigned long long>(snap.engine.events), live.size(),
              std::chrono::duration<double>(served - started).count());
}

// ---- reconnect ------------------------------------------------------------------------------

TEST(live_run, a_drop_reconnects_resubscribes_and_makes_no_duplicate_alert) {
  std::vector<std::string> subscribes(2);
  ws_test_server server([&](ws_test_connection& c) {
    if (c.index() > 1) return;
    c.send(R"([{"T":"success","msg":"connected"}])");
    c.receive();
    c.send(R"([{"T":"success","msg":"authenticated"}])");
    subscribes[c.index()] = c.receive().value_or("");
    c.send(R"([{"T":"subscription","trades":["NVDA"]}])");
    if (c.index() == 0) {
      for (std::size_t i = 0; i < 4; ++i) c.send(k_move[i]);
      c.ping();
      c.wait_pongs(1, 5s);
      c.drop();
      return;
    }
    c.send(k_move[3]);  // overlap: the last print again, as a vendor replaying its buffer might
    c.send(k_move[4]);
    c.wait_gone(20s);
  });
  const loaded_config config = load_text(small_config(server.port()));
  memory_sink sink;
  live_runner runner(config.compiled, sessions_for(config), sink, fast_options());
  runner.start();
  ASSERT_TRUE(eventually([&] { return runner.snapshot().engine.events == 6; }));
  const runner_snapshot snap = runner.snapshot();
  runner.stop(3000ms);

  EXPECT_EQ(server.connections(), 2u);
  EXPECT_EQ(snap.feeds[0].session.reconnects, 1u);
  EXPECT_EQ(subscribes[0], R"({"action":"subscribe","trades":["NVDA"]})");
  EXPECT_EQ(subscribes[1], subscribes[0]) << "the full set again";

  // Exactly what a replay of the same prints, once each, makes.
  std::vector<std::string> live;
  for (const rules::alert& a : sink.alerts()) live.push_back(rules::to_json(a));
  const std::vector<std::string> replayed =
      replay_lines(config, k_move, feeds::dialect::alpaca_stocks);
  ASSERT_FALSE(replayed.empty()) << "the 10% drop must alert";
  EXPECT_EQ(live, replayed);
  std::set<std::string> ids;
  for (const rules::alert& a : sink.alerts()) EXPECT_TRUE(ids.insert(a.id).second) << a.id;
}

// ---- backpressure ---------------------------------------------------------------------------

TEST(live_run, sessions_paused_for_the_engine_are_woken_and_nothing_is_lost) {
  // Friday's quiet afternoon, then k_move's drop: many frames, sent as fast as the socket
  // takes them.
  std::vector<std::string> frames;
  for (int i = 0; i < 500; ++i) {
    char time[32];
    std::snprintf(time, sizeof time, "2025-01-24T20:%02d:%02dZ", i / 60, i % 60);
    frames.push_back(nvda_trade(1000 + i, 100.0, time));
  }
  frames.insert(frames.end(), k_move.begin(), k_move.end());
  ws_test_server server([&](ws_test_connection& c) {
    c.send(R"([{"T":"success","msg":"connected"}])");
    c.receive();
    c.send(R"([{"T":"success","msg":"authenticated"}])");
    c.receive();
    c.send(R"([{"T":"subscription","trades":["NVDA"]}])");
    for (const std::string& f : frames) c.send(f);
    c.wait_gone(30s);
  });
  const loaded_config config = load_text(small_config(server.port()));
  memory_sink sink;
  run_options options = fast_options();
  // Tiny bounds: the session pauses after nearly every frame. Only the engine's wake-up can
  // end a pause within the test (the sessions' own re-check and the pause limit are an hour),
  // so a lost wake-up stalls the run and the wait below fails.
  options.pause_reading_above = 1;
  options.max_queue_wait = std::chrono::microseconds(1);
  options.feeds.backlog_recheck = std::chrono::hours(1);
  options.feeds.max_read_pause = std::chrono::hours(1);
  live_runner runner(config.compiled, sessions_for(config), sink, options);
  runner.start();
  ASSERT_TRUE(eventually([&] { return runner.snapshot().engine.events == frames.size(); }, 30s))
      << runner.snapshot().engine.events << " of " << frames.size();
  const runner_snapshot snap = runner.snapshot();
  runner.stop(3000ms);
  EXPECT_EQ(snap.queue_dropped, 0u);
  EXPECT_EQ(snap.feeds[0].dropped_events, 0u);
  EXPECT_EQ(snap.feeds[0].session.reconnects, 0u);
  std::vector<std::string> live;
  for (const rules::alert& a : sink.alerts()) live.push_back(rules::to_json(a));
  const std::vector<std::string> replayed =
      replay_lines(config, frames, feeds::dialect::alpaca_stocks);
  ASSERT_FALSE(replayed.empty()) << "the 10% drop must alert";
  EXPECT_EQ(live, replayed);
  std::printf("[ measure  ] %zu frames: %llu read pauses, %llu wake-ups by the engine\n",
              frames.size(), static_cast<unsigned long long>(snap.read_pauses),
              static_cast<unsigned long long>(snap.read_resumes));
}

// ---- staleness ------------------------------------------------------------------------------

TEST(live_run, a_stall_raises_one_feed_stale_alert_and_resolves_it) {
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    c.send(k_move[static_cast<std::size_t>(std::min<std::size_t>(c.index(), 1))]);
    c.wait_gone(20s);  // silence, while still answering pings
  });
  const loaded_config config =
      load_text(small_config(server.port(), "    stale_after: 1s\n    market: always\n"));
  memory_sink sink;
  live_runner runner(config.compiled, sessions_for(config), sink, fast_options());
  const auto started = std::chrono::steady_clock::now();
  runner.start();
  ASSERT_TRUE(eventually([&] { return runner.snapshot().stale_alerts == 1; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s) << "within stale_after plus a tick";
  // The reconnect brings data; the episode resolves.
  ASSERT_TRUE(eventually([&] {
    for (const rules::alert& a : sink.alerts()) {
      if (a.kind == "feed_stale" && a.status == rules::alert_status::resolved) return true;
    }
    return false;
  }));
  runner.stop(3000ms);
  std::vector<rules::alert> stale;
  for (const rules::alert& a : sink.alerts()) {
    if (a.kind == "feed_stale") stale.push_back(a);
  }
  ASSERT_GE(stale.size(), 2u);
  const rules::alert& a = stale[0];
  EXPECT_EQ(a.status, rules::alert_status::firing);
  EXPECT_TRUE(a.symbol.empty());
  EXPECT_FALSE(a.change_pct.has_value());
  EXPECT_EQ(a.event_time, *rules::parse_rfc3339("2025-01-24T20:55:00Z")) << "last market time";
  EXPECT_THAT(a.summary, HasSubstr("feed alpaca (alpaca-stocks) silent for"));
  EXPECT_THAT(a.summary, HasSubstr("stale_after 1s"));
  EXPECT_EQ(stale[1].status, rules::alert_status::resolved);
  EXPECT_EQ(stale[1].fingerprint, a.fingerprint);
  std::size_t firing = 0;
  for (const rules::alert& s : stale) firing += s.status == rules::alert_status::firing;
  EXPECT_EQ(firing, 1u) << "one alert per stale episode";
}

// ---- the binary: signals and bad credentials ---------------------------------------------------

class live_run_signal : public testing::TestWithParam<int> {};

TEST_P(live_run_signal, stops_within_5s_draining_the_queue_and_flushing_alerts) {
  ws_test_server server([&](ws_test_connection& c) {
    if (!alpaca_handshake(c)) return;
    for (const std::string& f : k_move) c.send(f);
    c.ping();
    c.wait_pongs(1, 5s);
    c.wait_gone(20s);
  });
  const std::string config_path = temp_path("config.yaml");
  std::ofstream(config_path) << small_config(server.port());
  const std::string alerts = temp_path("alerts.jsonl");
  std::filesystem::remove(alerts);
  test::child_process c("aftershockd",
                        {"run", "--config", config_path, "--alerts-out", alerts, "--print",
                         "none", "--status-interval", "0"},
                        "live_run_signal_" + std::to_string(GetParam()));
  ASSERT_GT(c.pid(), 0);
  // Once the client has answered the ping, every print sits in the process (queue or engine).
  ASSERT_TRUE(server.wait_connections(1, 10s)) << c.err();
  ASSERT_TRUE(server.connection(0)->wait_pongs(1, 10s)) << c.err();
  const auto signalled = std::chrono::steady_clock::now();
  c.signal(GetParam());
  const int code = c.wait(10s);
  const auto took = std::chrono::steady_clock::now() - signalled;
  const std::string err = c.err();
  EXPECT_EQ(code, 0) << err;
  EXPECT_LT(took, 5s) << err;
  EXPECT_THAT(err, HasSubstr("received: stopping the feeds, draining the queue"));
  EXPECT_THAT(err, HasSubstr("run: 5 events"));
  EXPECT_TRUE(server.connection(0)->wait_gone(1s));
  EXPECT_EQ(server.connection(0)->client_close_code(), 1001) << "a polite goodbye";
  const std::vector<std::string> lines = lines_of(read_file(alerts));
  ASSERT_FALSE(lines.empty()) << "the alerts were flushed before exit";
  EXPECT_THAT(lines[0], HasSubstr(R"("symbol":"NVDA")"));
  std::printf("[ measure  ] stopped %d ms after %s\n",
              static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              GetParam() == SIGTERM ? "SIGTERM" : "SIGINT");
}

INSTANTIATE_TEST_SUITE_P(signals, live_run_signal, testing::Values(SIGTERM, SIGINT),
                         [](const testing::TestParamInfo<int>& p) {
                           return std::string(p.param == SIGTERM ? "sigterm" : "sigint");
                         });

TEST(live_run, bad_credentials_give_a_clear_error_and_no_reconnect_loop) {
  ws_test_server server([&](ws_test_connection& c) {
    c.send(R"([{"T":"success","msg":"connected"}])");
    c.receive();
    c.send(R"([{"T":"error","code":402,"msg":"auth failed"}])");
    c.wait_gone(20s);
  });
  const std::string config_path = temp_path("config.yaml");
  std::ofstream(config_path) << small_config(server.port());
  test::child_process c("aftershockd",
                        {"run", "--config", config_path, "--print", "none", "--status-interval",
                         "0"},
                        "live_run_bad_credentials");
  ASSERT_GT(c.pid(), 0);
  ASSERT_TRUE(eventually([&] { return c.err().find("will not heal") != std::string::npos; }))
      << c.err();
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(10s), 0);
  const std::string err = c.err();
  EXPECT_THAT(err, HasSubstr("feed alpaca: authentication failed (402): auth failed (check the "
                             "feed's key and secret)"));
  EXPECT_THAT(err, HasSubstr("Next attempt in"));
  EXPECT_EQ(err.find("test-secret"), std::string::npos) << "never the secret";
  EXPECT_EQ(server.upgrades(), 1u) << "one attempt, then a long back-off";
}

}  // namespace
}  // namespace aftershock::daemon
