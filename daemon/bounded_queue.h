// The hand-off between the feed sessions (I/O thread) and the engine thread: a bounded
// multi-producer, single-consumer queue. Producers never block: when the queue is full an
// item is dropped and counted (a slow engine must not stall the sockets, or the vendors cut us
// off as slow consumers). The consumer takes everything queued in one swap, and producers only
// signal it when it is actually waiting, so a busy engine costs the I/O thread one uncontended
// lock per item and no system call. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace aftershock::daemon {

struct queue_stats {
  std::size_t capacity = 0;
  std::size_t depth = 0;        // items waiting now
  std::size_t high_water = 0;   // the most items ever waiting at once
  std::uint64_t pushed = 0;
  std::uint64_t dropped = 0;    // try_push refused: the queue was full
};

template <class T>
class bounded_queue {
 public:
  explicit bounded_queue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// Queues `item` unless the queue is full or closed; false means dropped (and counted).
  bool try_push(T&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) {
        ++dropped_;
        return false;
      }
      push_locked(std::move(item));
      wake = consumer_waiting_;
    }
    if (wake) ready_.notify_one();
    return true;
  }

  /// Queues `item` even when full: for rare control items that must not be lost (a stale
  /// alert, a reload). They are few by nature, so the bound still holds in practice.
  /// False only if the queue is closed.
  bool push_always(T&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      push_locked(std::move(item));
      wake = consumer_waiting_;
    }
    if (wake) ready_.notify_one();
    return true;
  }

  /// Moves every waiting item to the end of `out`, waiting up to `timeout` for the first one.
  /// Returns how many were taken (0 on timeout or when closed and empty). With `out` empty the
  /// two vectors swap: the producers get `out`'s capacity back and nothing is moved one by one.
  std::size_t pop_all(std::vector<T>& out, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!closed_ && items_.empty()) {
      consumer_waiting_ = true;
      ready_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
      consumer_waiting_ = false;
    }
    const std::size_t n = items_.size();
    if (out.empty()) {
      out.swap(items_);
    } else {
      for (T& item : items_) out.push_back(std::move(item));
    }
    items_.clear();
    return n;
  }

  /// No more pushes; wakes the consumer. What is queued stays to be drained.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  bool closed_and_empty() const {
    std::lock_guard lock(mutex_);
    return closed_ && items_.empty();
  }

  queue_stats stats() const {
    std::lock_guard lock(mutex_);
    return {capacity_, items_.size(), high_water_, pushed_, dropped_};
  }

 private:
  void push_locked(T&& item) {
    items_.push_back(std::move(item));
    ++pushed_;
    if (items_.size() > high_water_) high_water_ = items_.size();
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> items_;
  bool closed_ = false;
  bool consumer_waiting_ = false;  // in pop_all's wait: a push must signal
  std::size_t high_water_ = 0;
  std::uint64_t pushed_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace aftershock::daemon
