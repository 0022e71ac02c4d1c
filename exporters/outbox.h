// The durable outbox: every routed alert is journaled (journal.h) before any delivery is tried,
// and each destination's progress is recorded as append-only records, so after a crash or a
// restart every alert a destination has not confirmed is delivered again. Bounded in alerts and
// bytes: when full it drops the oldest alert of the lowest severity present (a new alert below
// every waiting one is the one dropped); every drop is journaled, counted and logged. Alert ids
// are idempotency keys: an id already waiting is not queued twice.
//
// Thread-safety: all methods are safe from any thread (one internal mutex). append() never
// waits for the disk; flush() does. The ready listener runs without outbox locks held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "exporters/delivery_stats.h"
#include "exporters/journal.h"
#include "exporters/log_limiter.h"
#include "rules/alert.h"

namespace aftershock::exporters {

struct outbox_options {
  std::string dir;  // state directory; empty: memory only (test-notify, tests)
  std::size_t max_alerts = 10000;
  std::size_t max_bytes = 64u << 20;
  std::chrono::microseconds commit_interval{2000};
  std::size_t commit_batch = 512;
  std::size_t compact_min_bytes = 8u << 20;
};

/// One alert waiting for a destination.
struct outbox_item {
  std::uint64_t seq = 0;
  std::shared_ptr<const rules::alert> alert;
  std::chrono::steady_clock::time_point queued;  // in this process (recovered: at startup)
  std::int64_t queued_wall_ns = 0;               // when first journaled
};

enum class append_result : std::uint8_t { queued, duplicate, unrouted, dropped };

class outbox {
 public:
  /// Opens (and recovers) the journal in options.dir. `destinations` are the configured
  /// destination names, in the order of the masks used with append().
  static std::unique_ptr<outbox> open(const outbox_options& options,
                                      std::vector<std::string> destinations, std::string* error);
  ~outbox();
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  /// Queues `a` for the destinations in `mask` (bit i = destinations[i]). Never waits for the
  /// disk; delivery starts once the record is synced.
  append_result append(const rules::alert& a, std::uint64_t mask);
  /// Blocks until everything appended so far is durable.
  void flush();

  /// Up to `max` synced alerts waiting for destination `d`, oldest first.
  std::vector<outbox_item> peek(std::size_t d, std::size_t max);
  /// Destination `d` is done with these alerts: delivered, or refused for good (`delivered`
  /// false, counted by the caller as a drop).
  void complete(std::size_t d, const std::vector<std::uint64_t>& seqs, bool delivered);

  std::size_t pending(std::size_t d) const;
  std::size_t pending_total() const;
  /// Blocks until no destination has anything waiting, or `deadline`; true if idle.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

  /// Called with a mask of destinations that may have new synced alerts.
  void set_ready_listener(std::function<void(std::uint64_t)> listener);

  outbox_stats stats() const;
  /// Alerts waiting and the oldest one's age, per destination.
  void destination_depths(std::vector<std::size_t>& depth, std::vector<double>& oldest_age_s) const;

  /// Syncs and stops the journal. Idempotent.
  void close();

 private:
  struct entry {
    std::uint64_t seq = 0;
    std::uint64_t lsn = 0;        // 0: durable (recovered or memory only)
    std::uint64_t remaining = 0;  // destinations still to deliver
    rules::severity level = rules::severity::warning;
    std::shared_ptr<const rules::alert> alert;
    std::string encoded;  // the alert's bytes, reused by compaction
    std::chrono::steady_clock::time_point queued;
    std::int64_t queued_wall_ns = 0;
  };

  explicit outbox(outbox_options options, std::vector<std::string> destinations);
  void recover_record(std::string_view payload);
  std::string alert_record(const entry& e) const;
  void evict(std::map<std::uint64_t, entry>::iterator it, const char* why);
  void erase(std::map<std::uint64_t, entry>::iterator it);
  void on_commit(std::uint64_t lsn);
  std::optional<std::string> snapshot(journal& j);
  void maybe_compact();
  bool durable(const entry& e) const noexcept { return e.lsn <= durable_lsn_; }

  outbox_options options_;
  std::vector<std::string> destinations_;
  std::unique_ptr<journal> journal_;

  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::map<std::uint64_t, entry> entries_;                // by seq: oldest first
  std::unordered_map<std::string, std::uint64_t> by_id_;  // alert id -> seq
  std::array<std::set<std::uint64_t>, 3> by_severity_;    // seqs per severity, for eviction
  std::vector<std::deque<std::uint64_t>> queues_;         // per destination, seq order (lazy)
  std::vector<std::size_t> pending_;                      // per destination, exact
  std::size_t pending_total_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t durable_lsn_ = 0;
  std::uint64_t live_bytes_ = 0;
  std::uint64_t garbage_estimate_ = 0;  // journal bytes written since the last compaction
  bool compaction_pending_ = false;
  std::function<void(std::uint64_t)> listener_;
  outbox_stats stats_;
  log_limiter drop_log_;
};

}  // namespace aftershock::exporters
