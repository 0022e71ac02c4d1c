// The live ingestion path: one WebSocket client session per configured feed (ws or wss,
// permessage-deflate, deadlines on every step, keep-alive pings, vendor auth and subscription,
// reconnect with jittered backoff, staleness watchdog, optional capture recording), all on one
// I/O thread, each session on its own strand as a C++20 coroutine. Parsed events go to a
// feed_listener, which must hand them off without blocking (a bounded queue).
//
// This header has no Boost includes on purpose: Beast and Asio live in live_feeds.cpp alone,
// the one slow translation unit of the feeds folder.
//
// Thread-safety: start(), stop() and the destructor from one controlling thread; snapshot()
// and resume_reading() from any thread. Listener callbacks run on the I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "feeds/session_config.h"
#include "feeds/staleness.h"
#include "rules/event.h"

namespace aftershock::feeds {

/// A staleness episode starting (recovered == false) or ending (recovered == true).
struct stale_notice {
  std::size_t feed = 0;  // index in the configured feeds
  std::string name;
  dialect which = dialect::generic;
  bool recovered = false;
  rules::time_ns silent_for = 0;   // how long the feed was silent while its market was open
  rules::time_ns stale_after = 0;  // the configured threshold
  std::string market;              // "XNAS", "always"
  rules::time_ns last_event_time = 0;  // market time of the feed's newest event, 0 if none
  rules::time_ns utc = 0;              // wall-clock time of the notice
};

class feed_listener {
 public:
  virtual ~feed_listener() = default;
  /// The events parsed from one frame of feed `feed`, in arrival order. Runs on the I/O
  /// thread: never block. The listener may move the events out of the vector.
  virtual void on_events(std::size_t feed, std::vector<rules::event>& events) = 0;
  /// A feed went stale or came back. Runs on the I/O thread: never block.
  virtual void on_stale(const stale_notice& notice) = 0;
  /// True while the consumer is behind (its queue holds more than it can work off quickly).
  /// Sessions then stop reading until live_feeds::resume_reading() (or, failing that, for
  /// live_options::backlog_recheck at a time), up to live_options::max_read_pause per frame,
  /// so TCP flow control slows the sender down instead of the consumer dropping events. Called
  /// on the I/O thread after every frame and again before each wait: keep it to a few atomic
  /// loads. A listener that says true must call resume_reading() once it has caught up.
  virtual bool backlogged() const { return false; }
};

struct live_options {
  std::string record_dir;                // capture v1 recording (--record); empty = off
  std::shared_ptr<const clock> time;     // null = the system clocks
  std::function<std::uint64_t()> random; // backoff jitter; null = seeded std::mt19937_64
  // The longest a session waits for a backlogged listener before it reads on anyway (then the
  // listener's own bound applies). Short next to every idle and ping timeout.
  std::chrono::milliseconds max_read_pause{1000};
  // While paused for a backlogged listener, how often a session asks again by itself. A
  // listener that calls live_feeds::resume_reading() when it catches up (daemon::live_runner
  // does) wakes it sooner; this is only the fallback.
  std::chrono::microseconds backlog_recheck{200};
};

class live_feeds {
 public:
  /// Nothing connects before start(). The listener must outlive this object.
  live_feeds(std::vector<session_config> feeds, feed_listener& listener, live_options options);
  ~live_feeds();  // stop(2 s) if still running
  live_feeds(const live_feeds&) = delete;
  live_feeds& operator=(const live_feeds&) = delete;

  /// Starts the I/O thread and every session.
  void start();

  /// Stops reading: every session sends a WebSocket close (bounded by its handshake timeout)
  /// and ends; waits at most `deadline` for that, then abandons what is left and joins the
  /// I/O thread. After stop() returns no listener callback runs. Idempotent.
  void stop(std::chrono::milliseconds deadline);

  /// Wakes the sessions paused for a backlogged listener (feed_listener::backlogged): they read
  /// on at once instead of at their next backlog_recheck. Any thread, cheap when none is
  /// paused (one atomic load per session); harmless after stop().
  void resume_reading();

  /// Every session's counters and state, in configuration order.
  std::vector<feed_stats> snapshot() const;

  const std::vector<session_config>& configs() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::feeds
