#include "daemon/replay.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "exporters/alert_sink.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"
#include "telemetry/engine_probe.h"

namespace aftershock::daemon {

namespace {

using steady = std::chrono::steady_clock;

// One frame of a parsed_batch: what the engine side reports about it, and how many of the
// batch's events are its own (frames follow each other in the batch's event list).
struct parsed_frame {
  feeds::dialect feed{};
  rules::time_ns received = 0;
  std::size_t bytes = 0;
  std::size_t events = 0;
  std::size_t rejected = 0;
  std::size_t controls = 0;
  steady::time_point started{};  // when its parsing began; read only for metrics
};

// Consecutive frames of the captures, parsed: the unit handed from the parse thread to the
// engine. Large enough that the hand-off costs nothing per frame, small enough to stay in cache.
struct parsed_batch {
  static constexpr std::size_t k_max_frames = 256;
  static constexpr std::size_t k_max_events = 8192;
  std::vector<rules::event> events;  // every frame's events, in capture order
  std::vector<parsed_frame> frames;
};

// Reads the merged captures and parses their frames, a batch at a time. Used by one thread.
class capture_parser {
 public:
  capture_parser(feeds::capture_reader& reader, bool stamp_frames)
      : reader_(reader), stamp_frames_(stamp_frames) {
    parsers_.reserve(feeds::k_dialect_count);
    for (std::size_t d = 0; d < feeds::k_dialect_count; ++d) {
      parsers_.emplace_back(static_cast<feeds::dialect>(d));
    }
  }

  // Replaces `batch`'s content with the next frames; false when there were none left.
  bool fill(parsed_batch& batch) {
    batch.events.clear();
    batch.frames.clear();
    while (batch.frames.size() < parsed_batch::k_max_frames &&
           batch.events.size() < parsed_batch::k_max_events && reader_.next(record_)) {
      parsed_frame& f = batch.frames.emplace_back();
      // Only the metrics probe reads it: no clock read per frame otherwise.
      if (stamp_frames_) f.started = steady::now();
      const std::size_t before = batch.events.size();
      feeds::frame_parser& parser = parsers_[static_cast<std::size_t>(record_.feed)];
      // Frames inside the capture's padded text are parsed where they lie.
      const feeds::parse_result parsed = record_.padded
                                             ? parser.parse_padded(record_.frame, batch.events)
                                             : parser.parse(record_.frame, batch.events);
      f.feed = record_.feed;
      f.received = record_.received;
      f.bytes = record_.frame.size();
      f.events = batch.events.size() - before;
      f.rejected = parsed.rejected;
      f.controls = parsed.controls.size();
    }
    return !batch.frames.empty();
  }

 private:
  feeds::capture_reader& reader_;
  bool stamp_frames_;
  std::vector<feeds::frame_parser> parsers_;
  feeds::capture_record record_;
};

// Passes batches from one producer thread to one consumer thread. A fixed set of batches
// circulates between a free list and a ready list, so their vectors keep their capacity and
// nothing is allocated once warm; the producer waits when every batch is ready and unread (a
// replay never drops). Thread-safe for one producer and one consumer.
class batch_pipe {
 public:
  explicit batch_pipe(std::size_t batches) {
    for (std::size_t i = 0; i < batches; ++i) {
      storage_.push_back(std::make_unique<parsed_batch>());
      free_.push_back(storage_.back().get());
    }
  }

  // Producer: a batch to fill, waiting for one if needed; null once the consumer stopped.
  parsed_batch* take_free() {
    std::unique_lock lock(mutex_);
    free_ready_.wait(lock, [&] { return stopped_ || !free_.empty(); });
    if (stopped_) return nullptr;
    parsed_batch* b = free_.front();
    free_.pop_front();
    return b;
  }
  // Producer: `b` is filled, in order after the batches handed over before it.
  void hand_over(parsed_batch* b) {
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(b);
    }
    filled_.notify_one();
  }
  // Producer: nothing more will come.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    filled_.notify_one();
  }
  // Consumer: the next filled batch, waiting for it; null when finished and drained.
  parsed_batch* take_ready() {
    std::unique_lock lock(mutex_);
    filled_.wait(lock, [&] { return finished_ || !ready_.empty(); });
    if (ready_.empty()) return nullptr;
    parsed_batch* b = ready_.front();
    ready_.pop_front();
    return b;
  }
  // Consumer: done with `b`.
  void give_back(parsed_batch* b) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(b);
    }
    free_ready_.notify_one();
  }
  // Consumer: stop the producer (leaving early, e.g. on an exception).
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    free_ready_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable free_ready_, filled_;
  std::vector<std::unique_ptr<parsed_batch>> storage_;
  std::deque<parsed_batch*> free_, ready_;
  bool finished_ = false;
  bool stopped_ = false;
};

}  // namespace

std::string human_line(const rules::alert& a) {
  std::string line = rules::format_rfc3339_s(a.event_time);
  line[10] = ' ';
  line.resize(16);  // "2025-01-27 09:33"
  line += "Z  ";
  std::string level = rules::to_string(a.level);
  level.resize(9, ' ');
  line += level;
  line += a.summary;
  return line;
}

replay_summary replay_captures(const loaded_config& config, const replay_options& options,
                               std::string* error) {
  replay_summary summary;
  const auto started = std::chrono::steady_clock::now();

  std::unique_ptr<exporters::jsonl_sink> out;
  if (!options.alerts_out.empty()) {
    out = std::make_unique<exporters::jsonl_sink>(options.alerts_out);
    if (!out->ok()) {
      if (error) *error = "cannot write alerts to " + options.alerts_out;
      out.reset();
    }
  }

  feeds::capture_reader reader;
  for (const auto& path : options.captures) {
    std::string text;  // read with room for the parser padding: no copy on add()
    if (!feeds::read_capture_file(path, text, nullptr)) {
      if (error) *error = "cannot read capture " + path;
      continue;
    }
    reader.add(path, std::move(text));
  }

  rules::engine engine(config.compiled);
  std::optional<telemetry::engine_probe> probe;  // metrics, read between events
  if (options.metrics) probe.emplace(*options.metrics);
  std::vector<rules::alert> alerts;
  auto handle = [&](const std::vector<rules::alert>& batch) {
    for (const auto& a : batch) {
      ++summary.alerts;
      if (out) out->publish(a);
      if (options.deliver_to) options.deliver_to->publish(a);
      if (options.alerts_out == "-") continue;
      if (options.print == print_mode::human && a.status == rules::alert_status::firing) {
        std::printf("%s\n", human_line(a).c_str());
      } else if (options.print == print_mode::json) {
        std::printf("%s\n", rules::to_json(a).c_str());
      }
    }
  };
  // The engine's side of a batch: the frames' counts, then every event in order.
  auto run_batch = [&](const parsed_batch& batch) {
    std::size_t at = 0;
    for (const parsed_frame& f : batch.frames) {
      ++summary.frames;
      summary.parse_errors += f.rejected;
      summary.controls += f.controls;
      summary.events += f.events;
      if (options.feeds) {
        rules::time_ns newest = 0;
        for (std::size_t i = at; i < at + f.events; ++i) {
          newest = std::max(newest, rules::event_time(batch.events[i]));
        }
        options.feeds->on_frame(f.feed, f.received, f.bytes, f.events, f.rejected, newest);
      }
      at += f.events;
    }
    std::size_t frame = 0;
    std::size_t frame_end = 0;  // one past the current frame's last event
    engine.process_batch(batch.events, alerts,
                         [&](const rules::event& e, std::vector<rules::alert>& made) {
                           if (probe) {
                             const auto i = static_cast<std::size_t>(&e - batch.events.data());
                             while (i >= frame_end) frame_end += batch.frames[frame++].events;
                             probe->after_event(engine, e, made, batch.frames[frame - 1].started);
                           }
                           handle(made);
                         });
    if (probe) probe->tick(engine);
  };

  capture_parser source(reader, probe.has_value());
  if (options.parse_thread) {
    batch_pipe pipe(4);
    std::thread parse_thread([&] {
      pthread_setname_np(pthread_self(), "replay-parse");
      while (parsed_batch* b = pipe.take_free()) {
        if (!source.fill(*b)) break;
        pipe.hand_over(b);
      }
      pipe.finish();
    });
    try {
      while (parsed_batch* b = pipe.take_ready()) {
        run_batch(*b);
        pipe.give_back(b);
      }
    } catch (...) {
      pipe.stop();
      parse_thread.join();
      throw;
    }
    parse_thread.join();
  } else {
    parsed_batch batch;
    while (source.fill(batch)) run_batch(batch);
  }

  // Bursts held back for a digest are emitted at the end of the capture, never lost.
  alerts.clear();
  engine.flush(alerts);
  handle(alerts);
  if (probe) {
    probe->count_alerts(alerts);
    probe->tick(engine, /*force=*/true);
  }
  if (options.feeds) options.feeds->finish();
  if (out) out->flush();
  if (options.deliver_to) options.deliver_to->flush();
  std::fflush(stdout);
  summary.bad_lines = reader.stats().bad_lines;
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace aftershock::daemon
