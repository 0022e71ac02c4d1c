// Measures live ingestion end to end over loopback (issue 3's benchmark): aftershock-feedsim
// serves a synthetic day at --speed max (Alpaca-style batched frames, as fast as the client
// reads), and the daemon's live path in this process (daemon::live_runner: the WebSocket
// sessions on their I/O thread, the bounded queue, the rules engine on its own thread) ingests
// it with the rules of CONFIG. Prints:
//   events/s    engine events over the time from the first to the last event processed, and the
//               slowest whole second in between (sustained)
//   drops       frames and events the full queue refused (target: zero); with backpressure on
//               (the default) the sessions pause reading while the engine is behind (more than
//               --pause-above events, or the oldest frame waiting longer than --max-wait us),
//               and the engine wakes them once it has caught up, so TCP slows feedsim down
//               instead (--no-backpressure: drop when full; --poll-us N: no wake-up, the
//               sessions look again every N us, as before the wake-up)
//   cpu         the engine thread's and the feeds I/O thread's CPU time, and events per CPU
//               second each: what the machine could do for that stage alone, whatever the load
//   latency     p50/p99/p99.9/max from a frame's hand-off by its session (read and parsed) to
//               the engine having processed it, and to each alert it raised (target: p99 <= 1 ms)
// A measuring program, not a test: it never fails on the figures.
//
//   cmake --build build --target ingest_bench aftershock-feedsim
//   build/bin/aftershock-feedsim generate --symbols 5000 --events 10000000 --per-frame 1..100
//       --headline-every 10000 --out /tmp/day.ndjson
//   build/bin/ingest_bench /tmp/day.ndjson [--config deploy/config/aftershock.yaml]
//       [--queue FRAMES] [--no-deflate] [--no-backpressure] [--pause-above EVENTS]
//       [--max-wait US] [--poll-us US] [--speed max|FACTOR]
// (--pause-above 0 / --max-wait 0 turn that bound off; the defaults are run_options')
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config_loader.h"
#include "daemon/live_runner.h"
#include "exporters/alert_sink.h"
#include "tests/support/fixtures.h"

namespace {

using namespace aftershock;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

class counting_sink final : public exporters::alert_sink {
 public:
  void publish(const rules::alert&) override { count.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<std::uint64_t> count{0};
};

daemon::feed_config feed(const std::string& dialect, const std::string& url,
                         std::vector<std::string> channels, bool deflate) {
  daemon::feed_config f;
  f.name = dialect;
  f.dialect = dialect;
  f.url = url;
  f.symbols = {"*"};
  f.channels = std::move(channels);
  f.key = "bench-key";
  f.secret = "bench-secret";
  f.compression = deflate;
  f.market = "always";
  f.stale_after = 0;  // the synthetic day's market hours mean nothing here
  return f;
}

// CPU seconds (user + system) of this process's threads named `name` (/proc/self/task).
double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  const long ticks = sysconf(_SC_CLK_TCK);
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string n;
    std::getline(comm, n);
    if (n != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
    unsigned long long utime = 0, stime = 0;
    fields >> utime >> stime;
    total += static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  return total;
}

// CPU seconds (user + system) of process `pid` so far, or -1 once it is gone.
double process_cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string us(std::uint64_t ns) { return fmt::format("{:.1f} us", static_cast<double>(ns) / 1e3); }

}  // namespace

int main(int argc, char** argv) {
  std::string capture, config_path = "deploy/config/aftershock.yaml";
  std::size_t queue = 65536;
  bool deflate = true;
  bool backpressure = true;  // --no-backpressure: the sessions never pause (drops when full)
  std::optional<std::uint64_t> pause_above;  // --pause-above N: run_options::pause_reading_above
  std::optional<long> max_wait_us;           // --max-wait US: run_options::max_queue_wait
  long poll_us = 0;                          // --poll-us US: no wake-up, poll (0: wake-up)
  std::string speed = "max";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--queue" && i + 1 < argc) {
      queue = std::stoul(argv[++i]);
    } else if (a == "--speed" && i + 1 < argc) {
      speed = argv[++i];  // a factor: latency below saturation (the day spans 390 minutes)
    } else if (a == "--no-backpressure") {
      backpressure = false;
    } else if (a == "--pause-above" && i + 1 < argc) {
      pause_above = std::stoull(argv[++i]);  // events queued before the sessions pause
    } else if (a == "--max-wait" && i + 1 < argc) {
      max_wait_us = std::stol(argv[++i]);  // the oldest frame's wait before the sessions pause
    } else if (a == "--poll-us" && i + 1 < argc) {
      poll_us = std::stol(argv[++i]);
    } else if (a == "--no-deflate") {
      deflate = false;
    } else if (!a.empty() && a[0] != '-' && capture.empty()) {
      capture = a;
    } else {
      std::fprintf(stderr,
                   "usage: ingest_bench CAPTURE [--config FILE] [--queue FRAMES] "
                   "[--no-deflate] [--no-backpressure] [--pause-above EVENTS] "
                   "[--max-wait US] [--poll-us US] [--speed max|FACTOR]\n");
      return 2;
    }
  }
  if (capture.empty()) {
    std::fprintf(stderr, "usage: ingest_bench CAPTURE [--config FILE] [--queue FRAMES]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);

  daemon::loaded_config loaded = daemon::load_config_file(config_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 1;
  }

  std::string error;
  const auto load_started = clock_type::now();
  std::vector<std::string> sim_args = {"--listen", "127.0.0.1:0", "--speed", speed,
                                       "--wait-for", "2", "--exit-when-done", "--log-level",
                                       "warn", "--start-timeout", "600s"};
  // feedsim compresses every frame once while loading when it may deflate: spare that (and
  // its memory) when nobody will ask for it.
  if (!deflate) sim_args.push_back("--no-deflate");
  sim_args.push_back(capture);
  auto sim = test::feedsim_process::start(std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim",
                                          sim_args, &error, 600s);  // large captures load slowly
  if (!sim) {
    std::fprintf(stderr, "feedsim: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "feedsim loaded %s in %.1f s\n", capture.c_str(),
               std::chrono::duration<double>(clock_type::now() - load_started).count());
  const std::string base = "ws://127.0.0.1:" + std::to_string(sim->port());
  loaded.config.feeds = {
      feed("alpaca-stocks", base + "/v2/sip", {"trades", "quotes", "bars"}, deflate),
      feed("alpaca-news", base + "/v1beta1/news", {}, deflate)};
  std::vector<std::string> errors, warnings;
  auto sessions = daemon::make_session_configs(loaded.config, loaded.compiled, "",
                                               feeds::system_secret_source(), errors, warnings);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }

  counting_sink sink;
  daemon::run_options options;
  options.queue_capacity = queue;
  if (pause_above) options.pause_reading_above = *pause_above;
  if (max_wait_us) options.max_queue_wait = std::chrono::microseconds(*max_wait_us);
  if (poll_us > 0) {
    options.wake_paused_readers = false;
    options.feeds.backlog_recheck = std::chrono::microseconds(poll_us);
  }
  if (!backpressure) {
    options.pause_reading_above = 0;
    options.max_queue_wait = std::chrono::microseconds(0);
  }
  daemon::live_runner runner(loaded.compiled, std::move(sessions), sink, options);
  runner.start();

  // Poll: the first event, then per-second rates, until feedsim is done and the engine has
  // everything the sessions handed on.
  clock_type::time_point first{}, last{};
  std::uint64_t last_events = 0, slowest_second = UINT64_MAX;
  auto second_start = clock_type::now();
  std::uint64_t second_events = 0;
  bool sim_done = false;
  auto quiet_since = clock_type::now();
  auto last_sim_sample = clock_type::now();
  double sim_cpu = 0, sim_cpu_at_first = 0;  // feedsim's CPU seconds: last sample, at first event
  for (;;) {
    std::this_thread::sleep_for(1ms);
    const daemon::runner_snapshot s = runner.snapshot();
    const auto now = clock_type::now();
    if (s.engine.events > 0 && first == clock_type::time_point{}) {
      first = now;
      sim_cpu_at_first = std::max(0.0, process_cpu_seconds(sim->process().pid()));
      second_start = now;
      second_events = s.engine.events;
    }
    if (s.engine.events != last_events) {
      last_events = s.engine.events;
      last = now;
      quiet_since = now;
    }
    if (first != clock_type::time_point{} && now - second_start >= 1s) {
      // Whole seconds only, while events are still flowing.
      if (now - last < 100ms) slowest_second = std::min(slowest_second, s.engine.events - second_events);
      second_start = now;
      second_events = s.engine.events;
    }
    if (!sim_done && now - last_sim_sample >= 50ms) {
      // feedsim's own CPU time, sampled while it lives: is the serving side the bottleneck?
      last_sim_sample = now;
      const double c = process_cpu_seconds(sim->process().pid());
      if (c >= 0) sim_cpu = c;
    }
    if (!sim_done && !sim->process().running()) sim_done = true;
    std::uint64_t handed_on = 0;
    for (const auto& f : s.feeds) handed_on += f.session.events - f.dropped_events;
    if (sim_done && s.engine.events >= handed_on && now - quiet_since > 500ms) break;
    if (!sim_done && first == clock_type::time_point{} && now - load_started > 900s) {
      std::fprintf(stderr, "nothing received\n");
      return 1;
    }
  }
  const double engine_cpu = thread_cpu_seconds("as-engine");
  const double io_cpu = thread_cpu_seconds("as-feeds-io");
  runner.stop(3000ms);
  const daemon::runner_snapshot s = runner.snapshot();

  std::uint64_t frames = 0, events_in = 0, dropped_frames = 0, dropped_events = 0, parse_errors = 0,
                bytes = 0;
  for (const auto& f : s.feeds) {
    frames += f.session.frames;
    events_in += f.session.events;
    bytes += f.session.bytes;
    dropped_frames += f.dropped_frames;
    dropped_events += f.dropped_events;
    parse_errors += f.session.parse_errors;
  }
  const double secs = std::chrono::duration<double>(last - first).count();
  std::printf("ingest_bench: %s at --speed %s over ws://127.0.0.1 (permessage-deflate %s), "
              "rules of %s\n",
              capture.c_str(), speed.c_str(), deflate ? "on" : "off", config_path.c_str());
  std::printf("  received   %llu frames, %llu events, %.1f MB, %llu parse errors\n",
              static_cast<unsigned long long>(frames), static_cast<unsigned long long>(events_in),
              static_cast<double>(bytes) / 1e6, static_cast<unsigned long long>(parse_errors));
  std::printf("  engine     %llu events in %.2f s: %.0f events/s (slowest whole second %s), "
              "%llu alerts\n",
              static_cast<unsigned long long>(s.engine.events), secs,
              secs > 0 ? static_cast<double>(s.engine.events) / secs : 0.0,
              slowest_second == UINT64_MAX ? "n/a (under 1 s)"
                                           : fmt::format("{} events", slowest_second).c_str(),
              static_cast<unsigned long long>(sink.count.load()));
  std::printf("  cpu        engine thread %.2f s (%.0f events per CPU second), feeds I/O "
              "thread %.2f s (%.0f events per CPU second)\n",
              engine_cpu, engine_cpu > 0 ? static_cast<double>(s.engine.events) / engine_cpu : 0.0,
              io_cpu, io_cpu > 0 ? static_cast<double>(events_in) / io_cpu : 0.0);
  sim_cpu = std::max(0.0, sim_cpu - sim_cpu_at_first);  // the playback, not the capture load
  std::printf("             feedsim process %.2f s from the first event on (sampled every 50 ms; "
              "%.0f%% of the %.2f s ingest: near 100%% means the server is the bottleneck)\n",
              sim_cpu, secs > 0 ? 100.0 * sim_cpu / secs : 0.0, secs);
  const std::string wake = options.wake_paused_readers
                               ? std::string("woken by the engine")
                               : fmt::format("polling every {} us", poll_us);
  std::printf(
      "  backlog    %llu read pauses, %llu wake-ups (backpressure %s: above %llu queued "
      "events or %lld us of wait, %s)\n",
      static_cast<unsigned long long>(s.read_pauses),
      static_cast<unsigned long long>(s.read_resumes), backpressure ? "on" : "off",
      static_cast<unsigned long long>(options.pause_reading_above),
      static_cast<long long>(options.max_queue_wait.count()), wake.c_str());
  std::printf("  drops      %llu frames, %llu events (queue %zu frames, high water %zu)\n",
              static_cast<unsigned long long>(dropped_frames),
              static_cast<unsigned long long>(dropped_events), s.queue_capacity,
              s.queue_high_water);
  const auto& e = s.frame_to_engine;
  const auto& a = s.frame_to_alert;
  std::printf("  latency    frame -> engine done: p50 %s, p99 %s, p99.9 %s, max %s (%llu frames)\n",
              us(e.p50_ns).c_str(), us(e.p99_ns).c_str(), us(e.p999_ns).c_str(),
              us(e.max_ns).c_str(), static_cast<unsigned long long>(e.count));
  std::printf("             frame -> alert:       p50 %s, p99 %s, p99.9 %s, max %s (%llu alerts)\n",
              us(a.p50_ns).c_str(), us(a.p99_ns).c_str(), us(a.p999_ns).c_str(),
              us(a.max_ns).c_str(), static_cast<unsigned long long>(a.count));
  // One machine-readable line for bench/run.
  std::printf(
      "BENCH_JSON {\"bench\":\"ingest\",\"capture\":\"%s\",\"speed\":\"%s\",\"deflate\":%s,"
      "\"frames\":%llu,\"events_in\":%llu,\"events\":%llu,\"seconds\":%.3f,"
      "\"events_per_s\":%.0f,\"slowest_second_events\":%lld,\"alerts\":%llu,"
      "\"engine_cpu_s\":%.3f,\"io_cpu_s\":%.3f,\"feedsim_cpu_s\":%.3f,\"read_pauses\":%llu,"
      "\"read_resumes\":%llu,\"pause_above\":%llu,\"max_wait_us\":%lld,\"poll_us\":%ld,"
      "\"backpressure\":%s,\"dropped_frames\":%llu,"
      "\"dropped_events\":%llu,\"parse_errors\":%llu,\"frame_to_engine_p50_us\":%.1f,"
      "\"frame_to_engine_p99_us\":%.1f,\"frame_to_engine_p999_us\":%.1f,"
      "\"frame_to_alert_p50_us\":%.1f,"
      "\"frame_to_alert_p99_us\":%.1f,\"frame_to_alert_count\":%llu}\n",
      capture.c_str(), speed.c_str(), deflate ? "true" : "false",
      static_cast<unsigned long long>(frames), static_cast<unsigned long long>(events_in),
      static_cast<unsigned long long>(s.engine.events), secs,
      secs > 0 ? static_cast<double>(s.engine.events) / secs : 0.0,
      slowest_second == UINT64_MAX ? -1LL : static_cast<long long>(slowest_second),
      static_cast<unsigned long long>(sink.count.load()), engine_cpu, io_cpu, sim_cpu,
      static_cast<unsigned long long>(s.read_pauses),
      static_cast<unsigned long long>(s.read_resumes),
      static_cast<unsigned long long>(options.pause_reading_above),
      static_cast<long long>(options.max_queue_wait.count()), poll_us,
      backpressure ? "true" : "false", static_cast<unsigned long long>(dropped_frames),
      static_cast<unsigned long long>(dropped_events),
      static_cast<unsigned long long>(parse_errors), static_cast<double>(e.p50_ns) / 1e3,
      static_cast<double>(e.p99_ns) / 1e3, static_cast<double>(e.p999_ns) / 1e3,
      static_cast<double>(a.p50_ns) / 1e3, static_cast<double>(a.p99_ns) / 1e3,
      static_cast<unsigned long long>(a.count));
  return 0;
}
