// The outbox's durable log: an append-only file of records, each framed by its length and a
// CRC-32C, written with group commit (one fdatasync covers every record appended meanwhile, at
// most one per commit interval unless a batch fills up). Opening replays every intact record
// and cuts off a torn tail left by a crash. Compaction atomically replaces the file with a
// snapshot (write, fsync, rename, fsync the directory).
//
// Thread-safety: append(), wait_durable() and the accessors may be called from any thread. One
// internal committer thread writes and syncs; the commit listener and the snapshot provider run
// on it. If the disk fails, the journal logs, counts and continues in memory (degraded): alerts
// still get delivered, they just would not survive a crash.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace aftershock::exporters {

/// CRC-32C (Castagnoli), the checksum of each record.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) noexcept;

struct journal_options {
  std::string path;
  std::chrono::microseconds commit_interval{2000};
  std::size_t commit_batch = 512;
};

struct journal_recovery {
  std::size_t records = 0;  // intact records replayed
  std::uint64_t bytes = 0;  // file bytes they occupy (with the header)
  bool torn = false;        // a damaged tail was found and cut off
  std::uint64_t torn_bytes = 0;
  std::string torn_reason;  // "short header", "checksum mismatch", ...
};

struct journal_stats {
  std::uint64_t appended = 0;  // records appended since open
  std::uint64_t durable = 0;   // of those, synced
  std::uint64_t fsyncs = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t file_bytes = 0;  // current file size
  std::uint64_t rewrites = 0;    // compactions
  std::uint64_t failures = 0;    // write/sync errors (each one switches to degraded)
  bool degraded = false;
};

class journal {
 public:
  using record_fn = std::function<void(std::string_view payload)>;
  /// Returns the snapshot that replaces the file (framed records, see frame()), or nullopt to
  /// skip. It must call take_pending_for_rewrite() while holding whatever serialises appends.
  using snapshot_fn = std::function<std::optional<std::string>(journal&)>;

  /// Opens or creates the file, replays intact records through `on_record` in order, cuts a
  /// torn tail, and starts the committer. Nullptr with `error` set if the file cannot be used.
  static std::unique_ptr<journal> open(const journal_options& options, const record_fn& on_record,
                                       journal_recovery& recovery, std::string* error);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Appends one record; never waits for the disk. Returns its log sequence number (1, 2, ...).
  std::uint64_t append(std::string_view payload);
  /// Blocks until record `lsn` is synced (or the journal is degraded or closed).
  void wait_durable(std::uint64_t lsn);
  std::uint64_t durable_lsn() const;
  std::uint64_t appended_lsn() const;

  /// Called on the committer thread, without journal locks, after each sync with the LSN now
  /// durable. Set before appending.
  void set_commit_listener(std::function<void(std::uint64_t)> listener);
  void set_snapshot_provider(snapshot_fn provider);
  /// Asks the committer to compact after its next sync.
  void request_compaction();
  /// For the snapshot provider only: the records appended so far are covered by the snapshot,
  /// so they leave the write buffer; returns the LSN they reach.
  std::uint64_t take_pending_for_rewrite();

  /// Appends `payload` framed (length, CRC-32C, bytes) to `out`.
  static void frame(std::string& out, std::string_view payload);

  journal_stats stats() const;
  /// Syncs what is pending and stops the committer. Idempotent.
  void close();

 private:
  journal(journal_options options, int fd, std::uint64_t file_bytes);
  void run();
  bool write_and_sync(const std::string& bytes);
  void compact();
  void degrade(const std::string& what);

  journal_options options_;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable durable_cv_;
  std::string pending_;
  std::size_t pending_records_ = 0;
  std::uint64_t appended_ = 0;
  std::uint64_t durable_ = 0;
  std::uint64_t rewrite_lsn_ = 0;
  bool compaction_requested_ = false;
  bool stop_ = false;
  bool closed_ = false;
  journal_stats stats_;
  std::function<void(std::uint64_t)> listener_;
  snapshot_fn provider_;
  std::thread thread_;
};

}  // namespace aftershock::exporters
