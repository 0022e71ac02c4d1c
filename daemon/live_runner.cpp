#include "daemon/live_runner.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "daemon/bounded_queue.h"
#include "feeds/vendor_protocol.h"
#include "feeds/ws_url.h"
#include "telemetry/engine_probe.h"

namespace aftershock::daemon {

namespace {

std::string seconds_text(rules::time_ns t) {
  return fmt::format("{:.0f} s", static_cast<double>(t) / rules::k_ns_per_s);
}

std::shared_ptr<const feeds::market_hours> hours_for(
    const feed_config& f, feeds::dialect which,
    const std::shared_ptr<const rules::compiled_rules>& rules) {
  const auto& calendars = rules->calendars();
  auto calendar = [&](std::size_t i) -> std::shared_ptr<const feeds::market_hours> {
    return std::make_shared<feeds::calendar_hours>(rules, i);
  };
  if (f.market == "always") return std::make_shared<feeds::always_open>();
  if (!f.market.empty()) {
    for (std::size_t i = 0; i < calendars.size(); ++i) {
      if (calendars[i].spec().mic == f.market) return calendar(i);
    }
    return nullptr;  // the loader already refused unknown MICs
  }
  if (which == feeds::dialect::binance) return std::make_shared<feeds::always_open>();
  if (calendars.empty()) return std::make_shared<feeds::always_open>();
  // Every exchange the feed's symbols trade on; news and generic feeds follow the default one.
  std::vector<std::size_t> exchanges;
  for (const std::string& s : f.symbols) {
    if (s == "*") continue;
    const std::size_t e = rules->exchange_for(s);
    if (std::find(exchanges.begin(), exchanges.end(), e) == exchanges.end()) exchanges.push_back(e);
  }
  if (exchanges.empty()) exchanges.push_back(rules->exchange_for(""));
  if (exchanges.size() == 1) return calendar(exchanges.front());
  std::vector<std::shared_ptr<const feeds::market_hours>> markets;
  for (std::size_t e : exchanges) markets.push_back(calendar(e));
  return std::make_shared<feeds::any_of_hours>(std::move(markets));
}

}  // namespace

std::vector<feeds::session_config> make_session_configs(
    const daemon_config& config, const std::shared_ptr<const rules::compiled_rules>& rules,
    const std::string& feed_host, const feeds::secret_source& secrets,
    std::vector<std::string>& errors, std::vector<std::string>& warnings) {
  std::vector<feeds::session_config> out;
  for (std::size_t i = 0; i < config.feeds.size(); ++i) {
    const feed_config& f = config.feeds[i];
    const std::string where = "feeds[" + std::to_string(i) + "] (" + f.name + ")";
    feeds::session_config s;
    s.name = f.name;
    const auto which = feeds::dialect_from_name(f.dialect);
    if (!which) {
      errors.push_back(where + ": unknown dialect '" + f.dialect + "'");
      continue;
    }
    s.which = *which;
    s.url = f.url;
    if (!feed_host.empty()) {
      if (auto moved = feeds::override_host(f.url, feed_host)) {
        s.url = *moved;
      } else {
        errors.push_back("--feed-host '" + feed_host + "' is not HOST:PORT (or " + where +
                         " has no usable url)");
        continue;
      }
    }
    s.symbols = f.symbols;
    s.channels = f.channels;
    auto resolve = [&](const std::string& ref, const char* what, feeds::secret& into) {
      if (ref.empty()) return;
      if (!feeds::is_secret_reference(ref)) {
        warnings.push_back(where + ": " + what + " is written in the config file itself; prefer "
                           "env:NAME, file:PATH or cred:NAME so it stays out of the file");
      }
      std::string error;
      if (auto v = feeds::resolve_secret(ref, secrets, &error)) {
        into = std::move(*v);
      } else {
        errors.push_back(where + ": cannot resolve " + what + ": " + error);
      }
    };
    resolve(f.key, "key", s.key);
    resolve(f.secret, "secret", s.key_secret);
    s.subscribe_message = f.subscribe_message;
    s.binance_mode =
        f.subscribe_via == "message" ? feeds::subscribe_mode::message : feeds::subscribe_mode::url;
    s.ca_file = f.ca_file;
    if (!f.ca_file.empty() && !std::ifstream(f.ca_file).good()) {
      errors.push_back(where + ": cannot read ca_file " + f.ca_file);
    }
    s.verify_host = f.verify_host;
    s.compression = f.compression;
    s.max_frame_bytes = f.max_frame_bytes;
    s.connect_timeout = f.connect_timeout;
    s.handshake_timeout = f.handshake_timeout;
    s.auth_timeout = f.auth_timeout;
    s.idle_timeout = f.idle_timeout;
    s.ping_interval = f.ping_interval;
    s.stale_after = f.stale_after.value_or(feeds::default_stale_after(s.which));
    s.max_connection_age = f.max_connection_age.value_or(feeds::default_max_connection_age(s.which));
    s.healthy_after = f.healthy_after;
    s.backoff = feeds::backoff_config{f.backoff_base, f.backoff_cap, f.fatal_retry};
    s.market = hours_for(f, s.which, rules);
    std::string error;
    if (!feeds::make_connect_target(s, &error)) errors.push_back(where + ": " + error);
    out.push_back(std::move(s));
  }
  return out;
}

rules::alert make_feed_stale_alert(const feeds::stale_notice& n, rules::time_ns watermark) {
  rules::alert a;
  a.kind = "feed_stale";
  a.rule = "feed_stale";
  a.level = rules::severity::warning;
  a.status = n.recovered ? rules::alert_status::resolved : rules::alert_status::firing;
  a.event_time = watermark > 0 ? watermark : n.last_event_time > 0 ? n.last_event_time : n.utc;
  if (n.market != "always") a.exchange = n.market;
  a.fingerprint = rules::stable_hash_hex("feed_stale|" + n.name);
  a.id = rules::stable_hash_hex(a.fingerprint + "|" + std::to_string(a.event_time) + "|" +
                                std::to_string(n.utc) + "|" + rules::to_string(a.status));
  a.facts.emplace_back("stale_after_s", static_cast<double>(n.stale_after) / rules::k_ns_per_s);
  if (n.recovered) {
    a.summary = "feed " + n.name + " (" + feeds::to_string(n.which) + ") is receiving again";
  } else {
    a.facts.emplace_back("silent_s", static_cast<double>(n.silent_for) / rules::k_ns_per_s);
    a.summary = "feed " + n.name + " (" + feeds::to_string(n.which) + ") silent for " +
                seconds_text(n.silent_for) + " while " +
                (n.market == "always" ? std::string("its market is always open")
                                      : n.market + " is open") +
                " (stale_after " + rules::format_duration(n.stale_after) +
                "); reconnecting. Alerts for its symbols may be missing meanwhile.";
  }
  return a;
}

// ---- latency_histogram ---------------------------------------------------------------------

std::size_t latency_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < k_sub) return static_cast<std::size_t>(ns);
  const int octave = 63 - __builtin_clzll(ns);  // >= 3
  const auto sub = static_cast<std::size_t>((ns >> (octave - 3)) & (k_sub - 1));
  const std::size_t b = static_cast<std::size_t>(octave - 2) * k_sub + sub;
  return std::min<std::size_t>(b, k_buckets - 1);
}

std::uint64_t latency_histogram::upper_bound_of(std::size_t bucket) noexcept {
  if (bucket < k_sub) return bucket;
  const std::size_t octave = bucket / k_sub + 2;
  const std::uint64_t sub = bucket % k_sub;
  return ((k_sub + sub + 1) << (octave - 3)) - 1;
}

void latency_histogram::record(std::int64_t ns) noexcept {
  const std::uint64_t v = ns > 0 ? static_cast<std::uint64_t>(ns) : 0;
  counts_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
}

latency_histogram::summary latency_histogram::summarize() const noexcept {
  summary s;
  std::uint64_t counts[k_buckets];
  for (int i = 0; i < k_buckets; ++i) {
    counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += counts[i];
  }
  s.max_ns = max_.load(std::memory_order_relaxed);
  if (s.count == 0) return s;
  auto quantile = [&](double q) {
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(s.count - 1)) + 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < k_buckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return std::min(upper_bound_of(static_cast<std::size_t>(i)), s.max_ns);
    }
    return s.max_ns;
  };
  s.p50_ns = quantile(0.50);
  s.p99_ns = quantile(0.99);
  s.p999_ns = quantile(0.999);
  return s;
}

// ---- the runner ----------------------------------------------------------------------------

namespace {

std::int64_t nanoseconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct events_item {
  std::size_t feed = 0;
  std::vector<rules::event> events;
  std::chrono::steady_clock::time_point handed_off;  // by the session, after parsing
};
struct stale_item {
  feeds::stale_notice notice;
};
struct rules_item {
  std::shared_ptr<const rules::compiled_rules> rules;
};
using queue_item = std::variant<events_item, stale_item, rules_item>;

}  // namespace

struct live_runner::impl final : feeds::feed_listener {
  impl(std::shared_ptr<const rules::compiled_rules> r, std::vector<feeds::session_config> f,
       exporters::alert_sink& s, run_options o)
      : rule_set(std::move(r)),
        sink(s),
        options(std::move(o)),
        queue(options.queue_capacity),
        pause_above(options.pause_reading_above),
        max_wait_ns(
            std::chrono::duration_cast<std::chrono::nanoseconds>(options.max_queue_wait).count()),
        drops(f.size()),
        dropped_events(f.size()) {
    live_options_ = options.feeds;
    live_options_.record_dir = options.record_dir;
    // The engine thread wakes paused sessions itself (resume_when_caught_up); the sessions'
    // own re-check is only a fallback.
    if (options.wake_paused_readers) {
      live_options_.backlog_recheck =
          std::max(live_options_.backlog_recheck, std::chrono::microseconds(k_backlog_fallback_us));
    }
    live = std::make_unique<feeds::live_feeds>(std::move(f), *this, live_options_);
  }

  // feed_listener, on the I/O thread ------------------------------------------------------
  void on_events(std::size_t feed, std::vector<rules::event>& events) override {
    const std::size_t n = events.size();
    const auto now = std::chrono::steady_clock::now();
    // The frame's events leave in their vector; the session gets an emptied one back that the
    // engine has finished with, so neither side allocates a vector per frame once warm.
    std::vector<rules::event> batch = take_spare();
    batch.swap(events);
    queued_events.fetch_add(n, std::memory_order_relaxed);
    // Frame number frames_pushed's hand-off time, for the age of the oldest waiting frame.
    handed_off_ns[frames_pushed % k_wait_ring].store(steady_ns(now), std::memory_order_relaxed);
    if (queue.try_push(events_item{feed, std::move(batch), now})) {
      frames_queued.store(++frames_pushed, std::memory_order_release);
    } else {
      queued_events.fetch_sub(n, std::memory_order_relaxed);
      drops[feed].fetch_add(1, std::memory_order_relaxed);
      dropped_events[feed].fetch_add(n, std::memory_order_relaxed);
      if (now - last_drop_log >= std::chrono::seconds(10)) {
        last_drop_log = now;
        spdlog::warn("run: the engine is behind: queue full ({} frames); dropping events "
                     "(counted per feed in the status)", queue.stats().capacity);
      }
    }
  }

  void on_stale(const feeds::stale_notice& notice) override {
    queue.push_always(stale_item{notice});
  }

  // Backpressure ----------------------------------------------------------------------------
  // The I/O thread asks backlogged() after every frame; the engine thread, after every frame
  // it finishes, wakes paused sessions once it has caught up. The handshake cannot lose a
  // wake-up: the I/O thread raises reader_waiting and then looks at the backlog again, the
  // engine thread lowers the backlog and then looks at reader_waiting (all seq_cst), so at
  // least one of them sees the other's write. The engine's last frame always leaves it caught
  // up (nothing waits), so a paused session is always woken.

  // How long the oldest frame not yet through the engine has waited, in ns (0: none waits).
  // Frames are numbered in queue order; the engine finishes them in the same order. With more
  // than k_wait_ring frames waiting the slot was reused by a newer frame, which only makes the
  // age look smaller (the event bound still holds then).
  std::int64_t oldest_wait_ns(std::int64_t now) const {
    const std::uint64_t done = frames_done.load(std::memory_order_acquire);
    if (done >= frames_queued.load(std::memory_order_acquire)) return 0;
    return now - handed_off_ns[done % k_wait_ring].load(std::memory_order_relaxed);
  }

  // Over either bound: the sessions should pause.
  bool over_bounds() const {
    if (pause_above > 0 && queued_events.load() > pause_above) return true;
    return max_wait_ns > 0 &&
           oldest_wait_ns(steady_ns(std::chrono::steady_clock::now())) > max_wait_ns;
  }

  // Under half of both bounds: paused sessions may read on (hysteresis, so a session does not
  // wake for every frame the engine finishes).
  bool caught_up() const {
    if (pause_above > 0 && queued_events.load() > pause_above / 2) return false;
    return max_wait_ns == 0 ||
           oldest_wait_ns(steady_ns(std::chrono::steady_clock::now())) <= max_wait_ns / 2;
  }

  bool backlogged() const override {
    if ((pause_above == 0 && max_wait_ns == 0) || !over_bounds()) return false;
    if (!reader_waiting.exchange(true)) read_pauses.fetch_add(1, std::memory_order_relaxed);
    // The engine may have caught up meanwhile (and may still wake us: harmless).
    return over_bounds();
  }

  // Engine thread, after each frame.
  void resume_when_caught_up() {
    if (!reader_waiting.load() || !caught_up()) return;
    if (!reader_waiting.exchange(false) || !options.wake_paused_readers) return;
    read_resumes.fetch_add(1, std::memory_order_relaxed);
    live->resume_reading();
  }

  // Event vectors emptied by the engine thread, waiting to be reused by the I/O thread.
  std::vector<rules::event> take_spare() {
    std::lock_guard lock(spare_mutex);
    if (spare.empty()) return {};
    std::vector<rules::event> v = std::move(spare.back());
    spare.pop_back();
    return v;
  }
  void give_spare(std::vector<rules::event>&& v) {
    v.clear();  // the events' strings are freed here, on the engine thread
    std::lock_guard lock(spare_mutex);
    if (spare.size() < k_max_spare) spare.push_back(std::move(v));
  }

  // the engine thread --------------------------------------------------------------------
  void engine_loop() {
    rules::engine engine(rule_set);
    std::optional<telemetry::engine_probe> probe;  // metrics, read between events
    if (options.metrics) probe.emplace(*options.metrics);
    std::vector<queue_item> batch;
    std::vector<rules::alert> alerts;
    auto publish = [&](const rules::alert& a) {
      sink.publish(a);
      alerts_published.fetch_add(1, std::memory_order_relaxed);
    };
    for (;;) {
      if (options.engine_heartbeat) options.engine_heartbeat();
      batch.clear();
      queue.pop_all(batch, std::chrono::milliseconds(200));
      for (queue_item& item : batch) {
        if (auto* ev = std::get_if<events_item>(&item)) {
          engine.process_batch(
              ev->events, alerts, [&](const rules::event& e, std::vector<rules::alert>& made) {
                if (probe) probe->after_event(engine, e, made, ev->handed_off);
                if (!made.empty()) {
                  const std::int64_t raised = nanoseconds_since(ev->handed_off);
                  for (std::size_t i = 0; i < made.size(); ++i) to_alert.record(raised);
                }
                for (const rules::alert& a : made) publish(a);
              });
          to_engine.record(nanoseconds_since(ev->handed_off));
          frames_done.store(++engine_frames, std::memory_order_release);
          queued_events.fetch_sub(ev->events.size());  // seq_cst: see backlogged()
          resume_when_caught_up();
          give_spare(std::move(ev->events));
        } else if (auto* st = std::get_if<stale_item>(&item)) {
          const rules::alert a = make_feed_stale_alert(st->notice, engine.stats().watermark);
          if (a.status == rules::alert_status::firing) {
            stale_alerts.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("alert: {}", a.summary);
          }
          if (probe) probe->count_alert(a);
          publish(a);
        } else if (auto* ru = std::get_if<rules_item>(&item)) {
          engine.replace_rules(ru->rules);
          reloads.fetch_add(1, std::memory_order_relaxed);
        }
      }
      {
        std::lock_guard lock(engine_mutex);
        engine_stats = engine.stats();
      }
      if (probe) probe->tick(engine);
      if (queue.closed_and_empty()) break;
      if (options.hang_engine_after > 0 && engine.stats().events >= options.hang_engine_after) {
        spdlog::warn("engine: hanging on purpose after {} events "
                     "(AFTERSHOCK_TEST_HANG_ENGINE_AFTER, tests only)", engine.stats().events);
        while (!stopping.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        options.hang_engine_after = 0;
      }
    }
    alerts.clear();
    engine.flush(alerts);  // digests held back for a burst
    for (const rules::alert& a : alerts) publish(a);
    if (probe) {
      probe->count_alerts(alerts);
      probe->tick(engine, /*force=*/true);
    }
    sink.flush();
    std::lock_guard lock(engine_mutex);
    engine_stats = engine.stats();
  }

  std::shared_ptr<const rules::compiled_rules> rule_set;
  exporters::alert_sink& sink;
  run_options options;
  feeds::live_options live_options_;
  bounded_queue<queue_item> queue;
  // Backpressure (backlogged(), resume_when_caught_up()).
  static constexpr long k_backlog_fallback_us = 2000;
  static constexpr std::size_t k_wait_ring = 4096;
  const std::uint64_t pause_above;              // options.pause_reading_above
  const std::int64_t max_wait_ns;               // options.max_queue_wait
  std::atomic<std::uint64_t> queued_events{0};  // handed on, not yet through the engine
  std::array<std::atomic<std::int64_t>, k_wait_ring> handed_off_ns{};  // by frame number
  std::uint64_t frames_pushed = 0;                    // I/O thread's own count of frames queued
  std::atomic<std::uint64_t> frames_queued{0};        // frames_pushed, published
  std::uint64_t engine_frames = 0;                    // engine thread's own count of frames done
  std::atomic<std::uint64_t> frames_done{0};          // engine_frames, published
  mutable std::atomic<bool> reader_waiting{false};    // a session is (about to be) paused
  mutable std::atomic<std::uint64_t> read_pauses{0};  // pauses: reader_waiting raised
  std::atomic<std::uint64_t> read_resumes{0};         // the engine woke the sessions
  static constexpr std::size_t k_max_spare = 64;
  std::mutex spare_mutex;
  std::vector<std::vector<rules::event>> spare;  // see take_spare()
  std::vector<std::atomic<std::uint64_t>> drops;
  std::vector<std::atomic<std::uint64_t>> dropped_events;
  std::chrono::steady_clock::time_point last_drop_log{};
  std::unique_ptr<feeds::live_feeds> live;
  std::thread engine_thread;
  mutable std::mutex engine_mutex;
  rules::engine_stats engine_stats;
  latency_histogram to_engine, to_alert;  // written by the engine thread
  std::atomic<std::uint64_t> alerts_published{0};
  std::atomic<std::uint64_t> stale_alerts{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<bool> stopping{false};  // stop() began (ends a test-induced hang)
  bool started = false;
  bool stopped = false;
};

live_runner::live_runner(std::shared_ptr<const rules::compiled_rules> rules,
                         std::vector<feeds::session_config> feeds, exporters::alert_sink& sink,
                         run_options options)
    : impl_(std::make_unique<impl>(std::move(rules), std::move(feeds), sink, std::move(options))) {}

live_runner::~live_runner() { stop(std::chrono::milliseconds(4000)); }

void live_runner::start() {
  impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.engine_thread = std::thread([&m] {
    pthread_setname_np(pthread_self(), "as-engine");  // for top, perf and the benchmark
    m.engine_loop();
  });
  m.live->start();
}

void live_runner::stop(std::chrono::milliseconds deadline) {
  impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  m.stopping.store(true);
  const auto until = std::chrono::steady_clock::now() + deadline;
  // 1. Stop reading: sessions close politely; no on_events after this returns.
  m.live->stop(std::chrono::duration_cast<std::chrono::milliseconds>(deadline * 6 / 10));
  // 2. Drain what was read through the engine, then flush the sink.
  m.queue.close();
  if (m.engine_thread.joinable()) m.engine_thread.join();
  const auto late = std::chrono::steady_clock::now() - until;
  if (late > std::chrono::milliseconds(0)) {
    spdlog::warn("run: shutdown took {} ms longer than planned",
                 std::chrono::duration_cast<std::chrono::milliseconds>(late).count());
  }
}

void live_runner::replace_rules(std::shared_ptr<const rules::compiled_rules> rules) {
  impl_->queue.push_always(rules_item{std::move(rules)});
}

runner_snapshot live_runner::snapshot() const {
  const impl& m = *impl_;
  runner_snapshot s;
  const std::vector<feeds::feed_stats> sessions = m.live->snapshot();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    feed_snapshot f;
    f.session = sessions[i];
    f.dropped_frames = m.drops[i].load(std::memory_order_relaxed);
    f.dropped_events = m.dropped_events[i].load(std::memory_order_relaxed);
    s.feeds.push_back(std::move(f));
  }
  const queue_stats q = m.queue.stats();
  s.queue_capacity = q.capacity;
  s.queue_depth = q.depth;
  s.queue_high_water = q.high_water;
  s.queue_dropped = q.dropped;
  s.read_pauses = m.read_pauses.load(std::memory_order_relaxed);
  s.read_resumes = m.read_resumes.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(m.engine_mutex);
    s.engine = m.engine_stats;
  }
  s.alerts_published = m.alerts_published.load(std::memory_order_relaxed);
  s.stale_alerts = m.stale_alerts.load(std::memory_order_relaxed);
  s.rule_reloads = m.reloads.load(std::memory_order_relaxed);
  s.frame_to_engine = m.to_engine.summarize();
  s.frame_to_alert = m.to_alert.summarize();
  return s;
}

}  // namespace aftershock::daemon
