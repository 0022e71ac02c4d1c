#include "exporters/journal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace aftershock::exporters {

namespace {

constexpr std::string_view k_magic = "AFSJRNL1";   // file header: format and version
constexpr std::size_t k_frame_header = 8;          // u32 length, u32 crc
constexpr std::uint32_t k_max_record = 64u << 20;  // anything longer is damage, not data

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

std::uint32_t read_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::string errno_text() { return std::strerror(errno); }

bool write_fully(int fd, const char* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
  return true;
}

std::string parent_dir(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A rename or a new file is durable only once its directory entry is.
void sync_dir(const std::string& path) {
  const int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) noexcept {
  static const std::array<std::uint32_t, 256> table = make_crc_table();
  crc = ~crc;
  for (char ch : data) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void journal::frame(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out += payload;
}

std::unique_ptr<journal> journal::open(const journal_options& options, const record_fn& on_record,
                                       journal_recovery& recovery, std::string* error) {
  recovery = journal_recovery{};
  const int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (error) *error = "cannot open journal " + options.path + ": " + errno_text();
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    if (error) *error = "cannot stat journal " + options.path + ": " + errno_text();
    ::close(fd);
    return nullptr;
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t r = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  data.resize(got);

  std::uint64_t good = 0;
  if (data.size() < k_magic.size()) {
    // Empty, or a crash while the header was written: start over.
    if (!data.empty()) {
      recovery.torn = true;
      recovery.torn_bytes = data.size();
      recovery.torn_reason = "short header";
    }
    if (!write_fully(fd, k_magic.data(), k_magic.size(), 0) ||
        ::ftruncate(fd, k_magic.size()) != 0 || ::fdatasync(fd) != 0) {
      if (error) *error = "cannot initialise journal " + options.path + ": " + errno_text();
      ::close(fd);
      return nullptr;
    }
    sync_dir(options.path);
    good = k_magic.size();
  } else if (std::string_view(data).substr(0, k_magic.size()) != k_magic) {
    if (error) *error = options.path + " is not an aftershock outbox journal (bad header)";
    ::close(fd);
    return nullptr;
  } else {
    std::size_t pos = k_magic.size();
    while (pos < data.size()) {
      if (data.size() - pos < k_frame_header) {
        recovery.torn_reason = "short record header";
        break;
      }
      const std::uint32_t len = read_u32(data.data() + pos);
      const std::uint32_t crc = read_u32(data.data() + pos + 4);
      if (len > k_max_record || data.size() - pos - k_frame_header < len) {
        recovery.torn_reason = "record longer than the file";
        break;
      }
      const std::string_view payload(data.data() + pos + k_frame_header, len);
      if (crc32c(payload) != crc) {
        recovery.torn_reason = "checksum mismatch";
        break;
      }
      on_record(payload);
      ++recovery.records;
      pos += k_frame_header + len;
    }
    good = pos;
    if (pos < data.size()) {
      recovery.torn = true;
      recovery.torn_bytes = data.size() - pos;
      // Cut the damage so new records follow intact ones.
      if (::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fdatasync(fd) != 0) {
        if (error)
          *error = "cannot truncate the torn tail of " + options.path + ": " + errno_text();
        ::close(fd);
        return nullptr;
      }
    }
  }
  recovery.bytes = good;
  std::unique_ptr<journal> j(new journal(options, fd, good));
  j->thread_ = std::thread([p = j.get()] { p->run(); });
  return j;
}

journal::journal(journal_options options, int fd, std::uint64_t file_bytes)
    : options_(std::move(options)), fd_(fd), file_bytes_(file_bytes) {
  stats_.file_bytes = file_bytes;
}

journal::~journal() { close(); }

std::uint64_t journal::append(std::string_view payload) {
  std::lock_guard lock(mutex_);
  frame(pending_, payload);
  ++pending_records_;
  ++stats_.appended;
  const std::uint64_t lsn = ++appended_;
  if (pending_records_ == 1 || pending_records_ == options_.commit_batch) work_cv_.notify_one();
  return lsn;
}

void journal::wait_durable(std::uint64_t lsn) {
  std::unique_lock lock(mutex_);
  durable_cv_.wait(lock, [&] { return durable_ >= lsn || closed_; });
}

std::uint64_t journal::durable_lsn() const {
  std::lock_guard lock(mutex_);
  return durable_;
}

std::uint64_t journal::appended_lsn() const {
  std::lock_guard lock(mutex_);
  return appended_;
}

void journal::set_commit_listener(std::function<void(std::uint64_t)> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void journal::set_snapshot_provider(snapshot_fn provider) {
  std::lock_guard lock(mutex_);
  provider_ = std::move(provider);
}

void journal::request_compaction() {
  std::lock_guard lock(mutex_);
  compaction_requested_ = true;
  work_cv_.notify_one();
}

std::uint64_t journal::take_pending_for_rewrite() {
  std::lock_guard lock(mutex_);
  pending_.clear();
  pending_records_ = 0;
  rewrite_lsn_ = appended_;
  return appended_;
}

journal_stats journal::stats() const {
  std::lock_guard lock(mutex_);
  journal_stats s = stats_;
  s.durable = durable_;
  return s;
}

void journal::degrade(const std::string& what) {
  // Called with mutex_ held. From here on records are "committed" as soon as they are appended
  // (delivery continues), but nothing more is written: the file's state is unknown after a
  // failed write or sync, and retrying a failed fsync can silently lose data.
  ++stats_.failures;
  if (!stats_.degraded) {
    spdlog::error(
        "outbox journal {}: {}; continuing without durability (alerts will be "
        "delivered but would not survive a crash)",
        options_.path, what);
  }
  stats_.degraded = true;
}

bool journal::write_and_sync(const std::string& bytes) {
  if (!write_fully(fd_, bytes.data(), bytes.size(), file_bytes_)) return false;
  if (::fdatasync(fd_) != 0) return false;
  return true;
}

void journal::run() {
  std::unique_lock lock(mutex_);
  auto last_sync = std::chrono::steady_clock::now() - options_.commit_interval;
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !pending_.empty() || compaction_requested_; });
    if (!pending_.empty() && !stop_ && !stats_.degraded) {
      // Group commit: at most one sync per interval unless a full batch is waiting. The first
      // record after a quiet spell is synced at once.
      const auto next = last_sync + options_.commit_interval;
      work_cv_.wait_until(lock, next,
                          [&] { return stop_ || pending_records_ >= options_.commit_batch; });
    }
    if (!pending_.empty()) {
      std::string batch;
      batch.swap(pending_);
      pending_records_ = 0;
      const std::uint64_t lsn = appended_;
      const bool degraded = stats_.degraded;
      lock.unlock();
      const bool ok = degraded || write_and_sync(batch);
      const int err = errno;
      lock.lock();
      if (!degraded) {
        if (ok) {
          file_bytes_ += batch.size();
          ++stats_.fsyncs;
          stats_.bytes_written += batch.size();
          stats_.file_bytes = file_bytes_;
        } else {
          errno = err;
          degrade("write or sync failed: " + errno_text());
        }
      }
      last_sync = std::chrono::steady_clock::now();
      durable_ = std::max(durable_, lsn);
      durable_cv_.notify_all();
      auto listener = listener_;
      lock.unlock();
      if (listener) listener(lsn);
      lock.lock();
    }
    if (compaction_requested_ && !stats_.degraded) {
      compaction_requested_ = false;
      lock.unlock();
      compact();
      lock.lock();
    } else {
      compaction_requested_ = false;
    }
    if (stop_ && pending_.empty()) break;
  }
  closed_ = true;
  durable_cv_.notify_all();
}

void journal::compact() {
  snapshot_fn provider;
  {
    std::lock_guard lock(mutex_);
    provider = provider_;
  }
  if (!provider) return;
  std::optional<std::string> body = provider(*this);
  if (!body) return;
  const std::string tmp = options_.path + ".compact";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  ok = ok && write_fully(fd, k_magic.data(), k_magic.size(), 0);
  ok = ok && write_fully(fd, body->data(), body->size(), k_magic.size());
  ok = ok && ::fdatasync(fd) == 0;
  ok = ok && ::rename(tmp.c_str(), options_.path.c_str()) == 0;
  const int err = errno;
  if (ok) sync_dir(options_.path);
  std::uint64_t lsn = 0;
  std::function<void(std::uint64_t)> listener;
  {
    std::lock_guard lock(mutex_);
    if (ok) {
      ::close(fd_);
      fd_ = fd;
      file_bytes_ = k_magic.size() + body->size();
      stats_.file_bytes = file_bytes_;
      ++stats_.rewrites;
    } else {
      if (fd >= 0) ::close(fd);
      ::unlink(tmp.c_str());
      errno = err;
      // The snapshot's records already left the write buffer, so the old file is now behind:
      // run degraded rather than pretend they are on disk.
      degrade("compaction failed: " + errno_text());
    }
    durable_ = std::max(durable_, rewrite_lsn_);
    lsn = durable_;
    durable_cv_.notify_all();
    listener = listener_;
  }
  if (listener) listener(lsn);
}

void journal::close() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stop_ = true;
    work_cv_.notify_one();
  }
  thread_.join();
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  closed_ = true;
  durable_cv_.notify_all();
}

}  // namespace aftershock::exporters
