#include "cluster/roles.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "cluster/event_codec.h"
#include "cluster/stage_codec.h"
#include "exporters/alert_codec.h"

namespace aftershock::cluster {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Relaxed counters behind a role_snapshot.
struct counters {
  std::atomic<std::uint64_t> events{0}, skipped{0}, bad{0}, dropped{0}, alerts{0}, dedup_hits{0},
      already_known{0}, redeliveries{0}, publish_failures{0}, lag{0}, stream_sequence{0},
      queue_depth{0};
  std::atomic<bool> caught_up{false};

  role_snapshot copy(const std::string& name, const jetstream& js) const {
    role_snapshot s;
    s.role = name;
    s.events = events.load(std::memory_order_relaxed);
    s.skipped = skipped.load(std::memory_order_relaxed);
    s.bad = bad.load(std::memory_order_relaxed);
    s.dropped = dropped.load(std::memory_order_relaxed);
    s.alerts = alerts.load(std::memory_order_relaxed);
    s.dedup_hits = dedup_hits.load(std::memory_order_relaxed);
    s.already_known = already_known.load(std::memory_order_relaxed);
    s.redeliveries = redeliveries.load(std::memory_order_relaxed);
    s.publish_failures = publish_failures.load(std::memory_order_relaxed);
    s.lag = lag.load(std::memory_order_relaxed);
    s.stream_sequence = stream_sequence.load(std::memory_order_relaxed);
    s.queue_depth = queue_depth.load(std::memory_order_relaxed);
    s.caught_up = caught_up.load(std::memory_order_relaxed);
    s.disconnects = js.stats().disconnects.load(std::memory_order_relaxed);
    s.reconnects = js.stats().reconnects.load(std::memory_order_relaxed);
    return s;
  }
};

std::chrono::milliseconds remaining(clock_type::time_point until,
                                    std::chrono::milliseconds floor = 100ms) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
  return left < floor ? floor : left;
}

// ---- ingest ------------------------------------------------------------------------------

class ingest_role final : public role, private feeds::feed_listener {
 public:
  ingest_role(jetstream& js, std::shared_ptr<const rules::compiled_rules> rules,
              std::vector<feeds::session_config> feeds, feeds::live_options options,
              stale_alert_maker stale, std::size_t capacity)
      : js_(js),
        rules_(std::move(rules)),
        stale_(std::move(stale)),
        capacity_(capacity),
        feeds_(std::move(feeds), *this, std::move(options)) {
    // Unique per process start: a retry reuses its id (dropped as a duplicate when the first
    // attempt was stored after all), and a restarted ingest never collides with its past.
    char host[64] = {0};
    ::gethostname(host, sizeof host - 1);
    id_prefix_ = std::string(host) + "-" + std::to_string(::getpid()) + "-" +
                 std::to_string(clock_type::now().time_since_epoch().count()) + "-";
  }
  ~ingest_role() override { stop(2000ms); }

  void start() override {
    publisher_ = std::thread([this] { publish_loop(); });
    feeds_.start();
  }

  void stop(std::chrono::milliseconds deadline) override {
    if (stopped_.exchange(true)) return;
    const auto until = clock_type::now() + deadline;
    feeds_.stop(deadline / 2);
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      drain_until_ = until;
    }
    ready_.notify_all();
    if (publisher_.joinable()) publisher_.join();
  }

  role_snapshot snapshot() const override { return counters_.copy("ingest", js_); }

 private:
  struct item {
    bool is_alert = false;
    rules::event event;
    rules::alert alert;
  };

  void on_events(std::size_t, std::vector<rules::event>& events) override {
    std::size_t refused = 0;
    {
      std::lock_guard lock(mutex_);
      for (auto& e : events) {
        if (queue_.size() >= capacity_) {
          ++refused;
          continue;
        }
        const rules::time_ns t = rules::event_time(e);
        if (t > watermark_) watermark_ = t;
        queue_.push_back(item{false, std::move(e), {}});
      }
      counters_.queue_depth.store(queue_.size(), std::memory_order_relaxed);
    }
    if (refused > 0) {
      counters_.dropped.fetch_add(refused, std::memory_order_relaxed);
      spdlog::warn("ingest: queue full ({} events): {} events dropped", capacity_, refused);
    }
    ready_.notify_one();
  }

  void on_stale(const feeds::stale_notice& notice) override {
    if (!stale_) return;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(item{true, {}, stale_(notice, watermark_)});
    }
    ready_.notify_one();
  }

  // Takes up to k_batch events off the queue (or one stale alert), in order.
  static constexpr std::size_t k_batch = 4096;
  // Ticks at least this often while busy (and whenever the queue runs dry).
  static constexpr std::uint64_t k_tick_every = 1024;

  void publish_loop() {
    std::vector<jetstream::outgoing> unconfirmed;  // prepared, in order, not yet stored
    std::vector<bool> carries_event;  // per unconfirmed message: an event's first copy
    std::string last_id;  // the id the events stream ends with, as far as we know
    std::uint64_t seq = 0;
    const std::uint32_t shards = std::max<std::uint32_t>(js_.config().shards, 1);
    rules::time_ns watermark = 0;     // the stream's: latest event time published so far
    std::uint64_t since_tick = 0;     // events prepared since the last ticks
    // A tick on every shard's subject: each shard reports that it has read up to it, so the
    // arbiter may release everything before it (a shard's own events may stop at any time).
    auto add_ticks = [&] {
      for (std::uint32_t k = 0; k < shards; ++k) {
        jetstream::outgoing m;
        encode_stream_tick(watermark, m.data);
        m.subject = tick_subject(k);
        m.msg_id = id_prefix_ + std::to_string(++seq);
        unconfirmed.push_back(std::move(m));
        carries_event.push_back(false);
      }
      since_tick = 0;
    };
    while (true) {
      std::vector<item> taken;
      bool stopping = false;
      clock_type::time_point until;
      {
        std::unique_lock lock(mutex_);
        if (unconfirmed.empty()) {
          ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        }
        stopping = stopping_;
        until = drain_until_;
        if (stopping && clock_type::now() >= until) {
          const std::size_t left = queue_.size() + unconfirmed.size();
          if (left > 0) spdlog::error("ingest: stopping with {} events not published", left);
          counters_.publish_failures.fetch_add(left, std::memory_order_relaxed);
          return;
        }
        if (unconfirmed.empty() && queue_.empty()) return;  // stopping, all published
        // A stale alert goes out on its own, after the events before it.
        while (!queue_.empty() && unconfirmed.size() + taken.size() < k_batch) {
          if (queue_.front().is_alert && (!unconfirmed.empty() || !taken.empty())) break;
          taken.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (taken.back().is_alert) break;
        }
        counters_.queue_depth.store(queue_.size(), std::memory_order_relaxed);
      }
      if (taken.size() == 1 && taken.front().is_alert) {
        publish_alert(taken.front().alert, stopping ? remaining(until) : 10'000ms);
        continue;
      }
      for (item& it : taken) {
        watermark = std::max(watermark, rules::event_time(it.event));
        jetstream::outgoing m;
        encode_stream_event(watermark, it.event, m.data);
        if (std::holds_alternative<rules::news>(it.event)) {
          // Every shard cites headlines: one copy per shard, one after another.
          for (std::uint32_t k = 0; k < shards; ++k) {
            jetstream::outgoing copy;
            copy.data = m.data;
            copy.subject = event_subject(it.event, "_", k);
            copy.msg_id = id_prefix_ + std::to_string(++seq);
            unconfirmed.push_back(std::move(copy));
            carries_event.push_back(k == 0);
          }
        } else {
          const std::string& symbol = rules::event_symbol(it.event);
          const auto& cal = rules_->calendars();
          const std::size_t ex = rules_->exchange_for(symbol);
          const shard_spec owner{0, shards};
          m.subject = event_subject(it.event, ex < cal.size() ? cal[ex].spec().mic : "_",
                                    owner.shard_of(symbol));
          m.msg_id = id_prefix_ + std::to_string(++seq);
          unconfirmed.push_back(std::move(m));
          carries_event.push_back(true);
        }
        if (++since_tick >= k_tick_every) add_ticks();
      }
      if (since_tick > 0 && !taken.empty()) {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) add_ticks();  // idle: let the arbiter release what is in hand
      }
      // Keep trying while running: the feeds' order must survive a server failover, so a
      // later event never overtakes this one. Stopping bounds the wait.
      const std::uint64_t dups_before = js_.stats().duplicates.load(std::memory_order_relaxed);
      const std::size_t stored =
          js_.publish_ordered(unconfirmed, last_id, stopping ? remaining(until) : 10'000ms);
      counters_.dedup_hits.fetch_add(
          js_.stats().duplicates.load(std::memory_order_relaxed) - dups_before,
          std::memory_order_relaxed);
      counters_.events.fetch_add(
          static_cast<std::uint64_t>(std::count(carries_event.begin(),
                                                carries_event.begin() + static_cast<long>(stored),
                                                true)),
          std::memory_order_relaxed);
      counters_.stream_sequence.fetch_add(stored, std::memory_order_relaxed);
      unconfirmed.erase(unconfirmed.begin(), unconfirmed.begin() + static_cast<long>(stored));
      carries_event.erase(carries_event.begin(), carries_event.begin() + static_cast<long>(stored));
      if (!unconfirmed.empty()) {
        spdlog::warn("ingest: {} events not acknowledged yet; sending them again in order",
                     unconfirmed.size());
        std::this_thread::sleep_for(100ms);
      }
    }
  }

  void publish_alert(const rules::alert& a, std::chrono::milliseconds deadline) {
    std::string bytes;
    exporters::encode_alert(a, bytes);
    const auto r = js_.publish(std::string(k_alerts_prefix) + "ingest", bytes, a.id, deadline);
    if (r == jetstream::publish_result::failed) {
      counters_.publish_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("ingest: feed_stale alert {} could not be published", a.id);
    } else if (r == jetstream::publish_result::duplicate) {
      counters_.dedup_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.alerts.fetch_add(1, std::memory_order_relaxed);
    }
  }

  jetstream& js_;
  std::shared_ptr<const rules::compiled_rules> rules_;
  stale_alert_maker stale_;
  std::size_t capacity_;
  std::string id_prefix_;
  counters counters_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<item> queue_;
  rules::time_ns watermark_ = 0;
  bool stopping_ = false;
  clock_type::time_point drain_until_{};
  std::atomic<bool> stopped_{false};
  std::thread publisher_;
  feeds::live_feeds feeds_;  // last: its callbacks use everything above
};

// ---- roles that are one worker thread reading a stream ------------------------------------

// run() on its own thread until stop(). The derived class's destructor must call stop() (the
// thread uses the derived members), and run() must return soon after stop_requested_ is set.
class worker_role : public role {
 public:
  void start() final {
    worker_ = std::thread([this] { run(); });
  }
  void stop(std::chrono::milliseconds) final {
    if (stop_requested_.exchange(true)) return;
    if (worker_.joinable()) worker_.join();
  }

 protected:
  virtual void run() = 0;
  std::atomic<bool> stop_requested_{false};

 private:
  std::thread worker_;
};

// ---- engine shard -------------------------------------------------------------------------

// Publishes with the de-duplication id `id`, retrying while the role runs; the last result.
jetstream::publish_result publish_retrying(jetstream& js, const std::string& subject,
                                           const std::string& bytes, const std::string& id,
                                           const std::atomic<bool>& stop,
                                           const std::string& who) {
  auto r = js.publish(subject, bytes, id, 10'000ms);
  while (r == jetstream::publish_result::failed && !stop.load()) {
    spdlog::warn("{}: {} not acknowledged yet; retrying", who, id);
    r = js.publish(subject, bytes, id, 10'000ms);
  }
  return r;
}

class engine_role final : public worker_role {
 public:
  engine_role(jetstream& js, std::shared_ptr<const rules::compiled_rules> rules,
              engine_options options)
      : js_(js),
        engine_(std::move(rules), rules::engine_stage::shard),
        options_(options),
        name_("engine " + options.shard.to_string()) {}
  ~engine_role() override { stop(2000ms); }

  role_snapshot snapshot() const override { return counters_.copy(name_, js_); }

 private:
  // How far the stage stream already has this shard's records (its twin's, or an earlier
  // life's): a restarted shard re-reads its events to rebuild its state and says nothing
  // until it is past that.
  std::uint64_t said_through() {
    const auto last = js_.last_message_data(js_.config().stage_stream,
                                            stage_subject(options_.shard.index));
    if (!last) return 0;
    const auto batch = decode_stage_batch(*last);
    return batch && !batch->empty() ? batch->back().through : 0;
  }

  // Adds a record to the batch in hand.
  void say(const stage_record& rec) {
    if (batch_.empty()) batch_first_ = rec.position;
    batch_last_ = rec.position;
    batch_.emplace_back();
    encode_stage_record(rec, batch_.back());
    batch_bytes_ += batch_.back().size();
    candidates_ += rec.output.candidates.size();
  }

  // Publishes the batch in hand and waits for the stream's acknowledgement, so batches are
  // stored in order. A twin batches differently (different ids, both stored); the arbiter
  // skips the positions it has already read.
  void publish_batch() {
    if (batch_.empty()) return;
    std::string bytes;
    encode_stage_batch(batch_, bytes);
    const std::string id = "stage-" + std::to_string(options_.shard.index) + "-" +
                           std::to_string(batch_first_) + "-" + std::to_string(batch_last_);
    const auto r = publish_retrying(js_, stage_subject(options_.shard.index), bytes, id,
                                    stop_requested_, name_);
    if (r == jetstream::publish_result::failed) {
      counters_.publish_failures.fetch_add(1, std::memory_order_relaxed);
    } else if (r == jetstream::publish_result::duplicate) {
      counters_.dedup_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.alerts.fetch_add(candidates_, std::memory_order_relaxed);
    }
    batch_.clear();
    batch_bytes_ = 0;
    candidates_ = 0;
  }
  // A batch stays well under NATS's default 1 MiB message limit.
  static constexpr std::size_t k_batch_bytes = 256 << 10;
  static constexpr std::size_t k_batch_records = 1024;

  void run() override {
    if (js_.config().shards != options_.shard.count) {
      spdlog::error("{}: cluster.shards is {}, but --shard says {} shards; the ingest routes by "
                    "cluster.shards, so this shard would miss events. Stopping.",
                    name_, js_.config().shards, options_.shard.count);
      return;
    }
    std::string error;
    std::unique_ptr<ordered_reader> reader;
    std::uint64_t quiet_through = 0;
    while (!reader && !stop_requested_.load()) {
      quiet_through = said_through();
      reader = js_.read_ordered(js_.config().events_stream, 1, &error,
                                shard_events_filter(options_.shard.index));
      if (!reader) {
        spdlog::warn("{}: {}; retrying", name_, error);
        std::this_thread::sleep_for(500ms);
      }
    }
    if (quiet_through > 0) {
      spdlog::info("{}: the stage stream has this shard up to event {}; catching up quietly",
                   name_, quiet_through);
    }
    stage_record rec;
    rec.shard = options_.shard.index;
    while (!stop_requested_.load() && reader) {
      auto m = reader->next(batch_.empty() ? 200ms : 0ms);
      if (!m) {
        publish_batch();  // nothing more right now: what is in hand goes out
        continue;
      }
      counters_.stream_sequence.store(m->stream_sequence(), std::memory_order_relaxed);
      counters_.lag.store(m->pending(), std::memory_order_relaxed);
      counters_.caught_up.store(m->pending() == 0, std::memory_order_relaxed);
      if (batch_bytes_ >= k_batch_bytes || batch_.size() >= k_batch_records) publish_batch();
      std::optional<stream_event> se = decode_stream_event(m->data());
      if (!se) {
        counters_.bad.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      rec.position = m->stream_sequence();
      rec.through = rec.position;
      rec.watermark = se->watermark;
      rec.progress = !se->event;
      rec.headline.reset();
      rec.output.clear();
      if (se->event) {
        engine_.process_shard(*se->event, rec.output);
        counters_.events.fetch_add(1, std::memory_order_relaxed);
        if (const auto* n = std::get_if<rules::news>(&*se->event)) rec.headline = *n;
        // Nothing to say here: the next tick tells the arbiter this shard got past it.
        if (rec.output.empty() && !rec.headline) continue;
      }
      // Headlines and ticks come as a run of copies, shard 0's first: this shard's copy says
      // it is past the others' too.
      if (rec.progress || rec.headline) {
        rec.through = rec.position + (options_.shard.count - 1 - options_.shard.index);
      }
      if (rec.position <= quiet_through) {
        counters_.already_known.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      say(rec);
      if (m->pending() == 0) publish_batch();
    }
    publish_batch();
  }

  jetstream& js_;
  rules::engine engine_;
  engine_options options_;
  std::string name_;
  counters counters_;
  std::vector<std::string> batch_;  // encoded records not yet published
  std::uint64_t batch_first_ = 0, batch_last_ = 0;
  std::size_t batch_bytes_ = 0, candidates_ = 0;
};

// ---- arbiter ------------------------------------------------------------------------------

class arbiter_role final : public worker_role {
 public:
  arbiter_role(jetstream& js, std::shared_ptr<const rules::compiled_rules> rules,
               bool flush_on_stop)
      : js_(js),
        engine_(std::move(rules), rules::engine_stage::arbiter),
        flush_on_stop_(flush_on_stop),
        shards_(std::max<std::uint32_t>(js.config().shards, 1)),
        queues_(shards_),
        read_through_(shards_, 0) {}
  ~arbiter_role() override { stop(2000ms); }

  role_snapshot snapshot() const override { return counters_.copy("arbiter", js_); }

 private:
  // The alerts already in the alerts stream: a restarted arbiter replays the whole stage
  // stream to rebuild its state and must not announce its past again (the duplicate window
  // covers only the twins' race, not a restart an hour later).
  void learn_published_alerts() {
    std::string error;
    auto reader = js_.read_ordered(js_.config().alerts_stream, 1, &error);
    if (!reader) {
      spdlog::warn("arbiter: cannot read the alerts stream ({}); relying on the duplicate window",
                   error);
      return;
    }
    while (!stop_requested_.load()) {
      auto m = reader->next(1000ms);
      if (!m) break;
      std::string id = m->header("Nats-Msg-Id");
      if (!id.empty()) published_.insert(std::move(id));
      if (m->pending() == 0) break;
    }
    spdlog::info("arbiter: {} alerts already in stream {}", published_.size(),
                 js_.config().alerts_stream);
  }

  void publish(std::vector<rules::alert>& alerts) {
    std::string bytes;
    const std::string subject = std::string(k_alerts_prefix) + "arbiter";
    for (const rules::alert& a : alerts) {
      if (published_.count(a.id)) {
        counters_.already_known.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      bytes.clear();
      exporters::encode_alert(a, bytes);
      const auto r = publish_retrying(js_, subject, bytes, a.id, stop_requested_, "arbiter");
      if (r == jetstream::publish_result::failed) {
        counters_.publish_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("arbiter: alert {} ({} {}) could not be published", a.id, a.rule, a.symbol);
        continue;
      }
      published_.insert(a.id);
      if (r == jetstream::publish_result::duplicate) {
        counters_.dedup_hits.fetch_add(1, std::memory_order_relaxed);
      } else {
        counters_.alerts.fetch_add(1, std::memory_order_relaxed);
      }
    }
    alerts.clear();
  }

  // Hands the shards' records to the engine in stream order: the earliest waiting position
  // goes once every shard has read past it (a shard that has read up to a position has said
  // everything it will say about earlier ones).
  void release(std::vector<rules::alert>& out) {
    while (true) {
      std::size_t first = shards_;
      for (std::size_t k = 0; k < shards_; ++k) {
        if (!queues_[k].empty() &&
            (first == shards_ || queues_[k].front().position < queues_[first].front().position)) {
          first = k;
        }
      }
      if (first == shards_) return;
      const stage_record& rec = queues_[first].front();
      for (std::size_t k = 0; k < shards_; ++k) {
        if (read_through_[k] < rec.position) return;
      }
      engine_.arbitrate(rec.watermark, rec.headline ? &*rec.headline : nullptr, rec.output, out);
      counters_.events.fetch_add(1, std::memory_order_relaxed);
      queues_[first].pop_front();
    }
  }

  // Everything waits for the slowest shard; when one has said nothing for a while (both
  // twins down, or behind), say which, every 30 s, so an operator knows what to restart.
  void warn_if_held_up() {
    const auto now = clock_type::now();
    if (now < next_hold_warning_) return;
    std::size_t slowest = 0;
    for (std::size_t k = 1; k < shards_; ++k) {
      if (read_through_[k] < read_through_[slowest]) slowest = k;
    }
    if (read_through_[slowest] == last_slowest_position_ && slowest == last_slowest_) {
      std::size_t waiting = 0;
      for (const auto& q : queues_) waiting += q.size();
      spdlog::warn("arbiter: shard {}/{} has read nothing past event {} for 30 s; {} records of "
                   "other shards wait for it (is an engine --shard {}/{} running?)",
                   slowest, shards_, read_through_[slowest], waiting, slowest, shards_);
    }
    last_slowest_ = slowest;
    last_slowest_position_ = read_through_[slowest];
    next_hold_warning_ = now + 30s;
  }

  void run() override {
    learn_published_alerts();
    next_hold_warning_ = clock_type::now() + 30s;
    std::string error;
    std::unique_ptr<ordered_reader> reader;
    while (!reader && !stop_requested_.load()) {
      reader = js_.read_ordered(js_.config().stage_stream, 1, &error);
      if (!reader) {
        spdlog::warn("arbiter: {}; retrying", error);
        std::this_thread::sleep_for(500ms);
      }
    }
    std::vector<rules::alert> out;
    while (!stop_requested_.load() && reader) {
      auto m = reader->next(200ms);
      if (!m) {
        if (counters_.queue_depth.load(std::memory_order_relaxed) > 0) warn_if_held_up();
        continue;
      }
      counters_.stream_sequence.store(m->stream_sequence(), std::memory_order_relaxed);
      counters_.lag.store(m->pending(), std::memory_order_relaxed);
      counters_.caught_up.store(m->pending() == 0, std::memory_order_relaxed);
      std::optional<std::vector<stage_record>> batch = decode_stage_batch(m->data());
      if (!batch || (!batch->empty() && batch->front().shard >= shards_)) {
        counters_.bad.fetch_add(1, std::memory_order_relaxed);
        if (batch) {
          spdlog::warn("arbiter: records from shard {} but cluster.shards is {}; skipped",
                       batch->front().shard, shards_);
        }
        continue;
      }
      for (stage_record& rec : *batch) {
        // A twin's copy, or a restarted shard's past.
        if (rec.position <= read_through_[rec.shard]) {
          counters_.skipped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        read_through_[rec.shard] = rec.through;
        queues_[rec.shard].push_back(std::move(rec));
      }
      release(out);
      std::size_t waiting = 0;
      for (const auto& q : queues_) waiting += q.size();
      counters_.queue_depth.store(waiting, std::memory_order_relaxed);
      counters_.caught_up.store(m->pending() == 0 && waiting == 0, std::memory_order_relaxed);
      if (waiting > 0) warn_if_held_up();
      if (!out.empty()) publish(out);
    }
    // What the engine holds back (storm digests) goes out at the end, as in `run`, when asked.
    if (flush_on_stop_) {
      engine_.flush(out);
      publish(out);
    }
  }

  jetstream& js_;
  rules::engine engine_;
  bool flush_on_stop_;
  std::size_t shards_;
  std::vector<std::deque<stage_record>> queues_;  // per shard, records not yet released
  std::vector<std::uint64_t> read_through_;       // per shard, the last position it reported
  clock_type::time_point next_hold_warning_{};    // warn_if_held_up()
  std::size_t last_slowest_ = 0;
  std::uint64_t last_slowest_position_ = 0;
  counters counters_;
  std::unordered_set<std::string> published_;
};

// ---- notify ------------------------------------------------------------------------------

class notify_role final : public worker_role {
 public:
  notify_role(jetstream& js, exporters::alert_sink& sink) : js_(js), sink_(sink) {}
  ~notify_role() override { stop(2000ms); }

  role_snapshot snapshot() const override { return counters_.copy("notify", js_); }

 private:
  void run() override {
    const cluster_config& c = js_.config();
    std::string error;
    std::unique_ptr<durable_reader> reader;
    while (!reader && !stop_requested_.load()) {
      reader = js_.read_durable(c.alerts_stream, std::string(k_alerts_subject_filter),
                                c.notify_consumer, &error);
      if (!reader) {
        spdlog::warn("notify: {}; retrying", error);
        std::this_thread::sleep_for(500ms);
      }
    }
    while (!stop_requested_.load() && reader) {
      std::vector<message> batch = reader->fetch(64, 500ms);
      if (batch.empty()) {
        counters_.caught_up.store(true, std::memory_order_relaxed);
        continue;
      }
      for (message& m : batch) {
        counters_.stream_sequence.store(m.stream_sequence(), std::memory_order_relaxed);
        counters_.lag.store(m.pending(), std::memory_order_relaxed);
        counters_.caught_up.store(m.pending() == 0, std::memory_order_relaxed);
        if (m.deliveries() > 1) counters_.redeliveries.fetch_add(1, std::memory_order_relaxed);
        std::optional<rules::alert> a = exporters::decode_alert(m.data());
        if (!a) {
          counters_.bad.fetch_add(1, std::memory_order_relaxed);
          spdlog::warn("notify: undecodable alert at stream sequence {} skipped",
                       m.stream_sequence());
          continue;
        }
        sink_.publish(*a);
        counters_.alerts.fetch_add(1, std::memory_order_relaxed);
      }
      // The outbox has them on disk once flush() returns: only then may the stream forget.
      sink_.flush();
      for (message& m : batch) m.ack();
    }
  }

  jetstream& js_;
  exporters::alert_sink& sink_;
  counters counters_;
};

}  // namespace

std::string status_line(const role_snapshot& s) {
  std::string line = s.role + ": " + std::to_string(s.events) + " events";
  if (s.skipped) line += " (" + std::to_string(s.skipped) + " repeated records skipped)";
  line +=
      ", " + std::to_string(s.alerts) + " alerts, " + std::to_string(s.dedup_hits) + " dedup hits";
  if (s.already_known) line += ", " + std::to_string(s.already_known) + " already published";
  if (s.redeliveries) line += ", " + std::to_string(s.redeliveries) + " redeliveries";
  line += ", " + std::to_string(s.bad) + " bad, " + std::to_string(s.dropped) + " dropped, " +
          std::to_string(s.publish_failures) + " publish failures, stream seq " +
          std::to_string(s.stream_sequence) + ", lag " + std::to_string(s.lag);
  if (s.queue_depth) line += ", queue " + std::to_string(s.queue_depth);
  line += ", " + std::to_string(s.reconnects) + " reconnects";
  line += s.caught_up ? ", caught up" : "";
  return line;
}

std::unique_ptr<role> make_ingest_role(jetstream& js,
                                       std::shared_ptr<const rules::compiled_rules> rules,
                                       std::vector<feeds::session_config> feeds,
                                       feeds::live_options options, stale_alert_maker stale,
                                       std::size_t queue_capacity) {
  return std::make_unique<ingest_role>(js, std::move(rules), std::move(feeds), std::move(options),
                                       std::move(stale), queue_capacity);
}

std::unique_ptr<role> make_engine_role(jetstream& js,
                                       std::shared_ptr<const rules::compiled_rules> rules,
                                       engine_options options) {
  return std::make_unique<engine_role>(js, std::move(rules), options);
}

std::unique_ptr<role> make_arbiter_role(jetstream& js,
                                        std::shared_ptr<const rules::compiled_rules> rules,
                                        bool flush_on_stop) {
  return std::make_unique<arbiter_role>(js, std::move(rules), flush_on_stop);
}

std::unique_ptr<role> make_notify_role(jetstream& js, exporters::alert_sink& sink) {
  return std::make_unique<notify_role>(js, sink);
}

}  // namespace aftershock::cluster
