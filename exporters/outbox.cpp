#include "exporters/outbox.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "exporters/alert_codec.h"

namespace aftershock::exporters {

namespace {

// Journal record types. Alert records name their destinations, so a restart with a changed
// configuration still knows which deliveries were pending.
enum record_type : std::uint8_t { k_alert = 1, k_done = 2, k_dropped = 3 };
enum done_outcome : std::uint8_t { k_delivered = 1, k_rejected = 2 };

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool make_dirs(const std::string& dir, std::string* error) {
  std::string path;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      if (error) *error = "cannot create state directory " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace

outbox::outbox(outbox_options options, std::vector<std::string> destinations)
    : options_(std::move(options)),
      destinations_(std::move(destinations)),
      queues_(destinations_.size()),
      pending_(destinations_.size(), 0) {}

std::unique_ptr<outbox> outbox::open(const outbox_options& options,
                                     std::vector<std::string> destinations, std::string* error) {
  if (destinations.size() > 64) {
    if (error) *error = "at most 64 destinations";
    return nullptr;
  }
  std::unique_ptr<outbox> o(new outbox(options, std::move(destinations)));
  if (options.dir.empty()) return o;  // memory only: everything is "durable" at once
  if (!make_dirs(options.dir, error)) return nullptr;
  journal_options jo;
  jo.path = options.dir + "/outbox.journal";
  jo.commit_interval = options.commit_interval;
  jo.commit_batch = options.commit_batch;
  journal_recovery rec;
  o->journal_ = journal::open(
      jo, [p = o.get()](std::string_view payload) { p->recover_record(payload); }, rec, error);
  if (!o->journal_) return nullptr;
  o->stats_.durable = true;
  if (rec.torn) {
    ++o->stats_.torn_tails;
    o->stats_.torn_bytes = rec.torn_bytes;
    spdlog::warn(
        "outbox journal {}: cut off a torn tail of {} bytes ({}) left by a crash; the "
        "{} intact records before it were recovered",
        jo.path, rec.torn_bytes, rec.torn_reason, rec.records);
  }
  // Recovered entries are durable and wait in seq order.
  for (auto& [seq, e] : o->entries_) {
    e.lsn = 0;
    e.queued = std::chrono::steady_clock::now();
    for (std::size_t d = 0; d < o->destinations_.size(); ++d) {
      if (e.remaining & (std::uint64_t{1} << d)) {
        o->queues_[d].push_back(seq);
        ++o->pending_[d];
        ++o->pending_total_;
      }
    }
  }
  o->stats_.recovered = o->entries_.size();
  if (o->stats_.recovered_orphans > 0) {
    spdlog::warn(
        "outbox {}: {} recovered alert{} also named destinations that are no longer "
        "configured; those deliveries are dropped",
        options.dir, o->stats_.recovered_orphans, o->stats_.recovered_orphans == 1 ? "" : "s");
  }
  if (o->stats_.corrupt_records > 0) {
    spdlog::error(
        "outbox {}: {} journal record{} had a valid checksum but did not decode; "
        "skipped",
        options.dir, o->stats_.corrupt_records, o->stats_.corrupt_records == 1 ? "" : "s");
  }
  if (!o->entries_.empty()) {
    spdlog::info("outbox {}: {} undelivered alert{} recovered; delivering them first", options.dir,
                 o->entries_.size(), o->entries_.size() == 1 ? "" : "s");
  }
  o->garbage_estimate_ = rec.bytes;
  o->journal_->set_commit_listener([p = o.get()](std::uint64_t lsn) { p->on_commit(lsn); });
  o->journal_->set_snapshot_provider([p = o.get()](journal& j) { return p->snapshot(j); });
  // Start from a compact file: what was delivered before the restart is garbage now.
  if (rec.bytes > 4096 && rec.bytes > 2 * (o->live_bytes_ + 64 * o->entries_.size())) {
    o->compaction_pending_ = true;
    o->journal_->request_compaction();
  }
  return o;
}

outbox::~outbox() { close(); }

void outbox::close() {
  if (journal_) journal_->close();
}

void outbox::recover_record(std::string_view payload) {
  // Runs inside journal::open, before any other thread exists.
  byte_reader r(payload);
  const std::uint8_t type = r.u8();
  const std::uint64_t seq = r.u64();
  if (!r.ok()) {
    ++stats_.corrupt_records;
    return;
  }
  next_seq_ = std::max(next_seq_, seq + 1);
  if (type == k_alert) {
    const std::int64_t queued_wall = r.i64();
    const std::uint16_t n = r.u16();
    std::uint64_t mask = 0;
    bool orphan = false;
    for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
      const std::string name = r.str();
      const auto it = std::find(destinations_.begin(), destinations_.end(), name);
      if (it == destinations_.end()) {
        orphan = true;
      } else {
        mask |= std::uint64_t{1} << (it - destinations_.begin());
      }
    }
    auto decoded = r.ok() ? decode_alert(r.rest()) : std::nullopt;
    if (!decoded) {
      ++stats_.corrupt_records;
      return;
    }
    if (orphan) ++stats_.recovered_orphans;
    if (mask == 0) return;
    entry e;
    e.seq = seq;
    e.remaining = mask;
    e.level = decoded->level;
    e.encoded = std::string(r.rest());
    e.queued_wall_ns = queued_wall;
    if (auto old = by_id_.find(decoded->id); old != by_id_.end()) erase(entries_.find(old->second));
    by_id_[decoded->id] = seq;
    e.alert = std::make_shared<const rules::alert>(std::move(*decoded));
    live_bytes_ += e.encoded.size();
    by_severity_[static_cast<std::size_t>(e.level)].insert(seq);
    entries_[seq] = std::move(e);
    return;
  }
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;  // already complete, or compacted away
  if (type == k_done) {
    r.u8();
    const std::string name = r.str();
    const auto d = std::find(destinations_.begin(), destinations_.end(), name);
    if (d != destinations_.end())
      it->second.remaining &= ~(std::uint64_t{1} << (d - destinations_.begin()));
    if (it->second.remaining == 0) erase(it);
  } else if (type == k_dropped) {
    erase(it);
  } else {
    ++stats_.corrupt_records;
  }
}

std::string outbox::alert_record(const entry& e) const {
  std::string payload;
  byte_writer w(payload);
  w.u8(k_alert);
  w.u64(e.seq);
  w.i64(e.queued_wall_ns);
  std::uint16_t n = 0;
  for (std::size_t d = 0; d < destinations_.size(); ++d) n += (e.remaining >> d) & 1;
  w.u16(n);
  for (std::size_t d = 0; d < destinations_.size(); ++d) {
    if (e.remaining & (std::uint64_t{1} << d)) w.str(destinations_[d]);
  }
  payload += e.encoded;
  return payload;
}

void outbox::erase(std::map<std::uint64_t, entry>::iterator it) {
  entry& e = it->second;
  live_bytes_ -= std::min<std::uint64_t>(live_bytes_, e.encoded.size());
  by_severity_[static_cast<std::size_t>(e.level)].erase(e.seq);
  if (e.alert) {
    auto id = by_id_.find(e.alert->id);
    if (id != by_id_.end() && id->second == e.seq) by_id_.erase(id);
  }
  entries_.erase(it);
}

void outbox::evict(std::map<std::uint64_t, entry>::iterator it, const char* why) {
  entry& e = it->second;
  const std::size_t level = static_cast<std::size_t>(e.level);
  ++stats_.dropped_overflow[level];
  for (std::size_t d = 0; d < destinations_.size(); ++d) {
    if (e.remaining & (std::uint64_t{1} << d)) {
      --pending_[d];
      --pending_total_;
    }
  }
  std::uint64_t suppressed = 0;
  if (drop_log_.allow(suppressed)) {
    spdlog::warn(
        "outbox full ({}): dropped {} alert {} ({}); {} dropped so far{}", why,
        rules::to_string(e.level), e.alert ? e.alert->id : "?",
        e.alert ? e.alert->summary.substr(0, 120) : "",
        stats_.dropped_overflow[0] + stats_.dropped_overflow[1] + stats_.dropped_overflow[2],
        suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : "");
  }
  if (journal_) {
    std::string payload;
    byte_writer w(payload);
    w.u8(k_dropped);
    w.u64(e.seq);
    garbage_estimate_ += payload.size() + 8;
    journal_->append(payload);
  }
  erase(it);
}

append_result outbox::append(const rules::alert& a, std::uint64_t mask) {
  std::uint64_t ready = 0;
  std::function<void(std::uint64_t)> listener;
  append_result result = append_result::queued;
  {
    std::lock_guard lock(mutex_);
    mask &= destinations_.size() >= 64 ? ~std::uint64_t{0}
                                       : (std::uint64_t{1} << destinations_.size()) - 1;
    if (mask == 0) {
      ++stats_.unrouted;
      return append_result::unrouted;
    }
    if (by_id_.count(a.id)) {
      ++stats_.duplicates;
      return append_result::duplicate;
    }
    entry e;
    encode_alert(a, e.encoded);
    e.level = a.level;
    // An alert larger than the whole outbox is dropped before it can evict anything.
    if (e.encoded.size() > options_.max_bytes) result = append_result::dropped;
    // Make room: the oldest alert of the lowest severity waiting goes first.
    while (result != append_result::dropped && !entries_.empty() &&
           (entries_.size() + 1 > options_.max_alerts ||
            live_bytes_ + e.encoded.size() > options_.max_bytes)) {
      std::size_t lowest = 0;
      while (lowest < 3 && by_severity_[lowest].empty()) ++lowest;
      if (lowest >= 3) break;
      if (static_cast<std::size_t>(a.level) < lowest) {
        result = append_result::dropped;
        break;
      }
      evict(entries_.find(*by_severity_[lowest].begin()), "oldest low-severity first");
    }
    if (result == append_result::dropped) {
      ++stats_.dropped_overflow[static_cast<std::size_t>(a.level)];
      std::uint64_t suppressed = 0;
      if (drop_log_.allow(suppressed)) {
        spdlog::warn("outbox full: dropped new {} alert {} ({}){}", rules::to_string(a.level), a.id,
                     e.encoded.size() > options_.max_bytes ? "larger than max_bytes"
                                                           : "everything waiting is more severe",
                     suppressed ? fmt::format(" ({} similar lines suppressed)", suppressed) : "");
      }
      return append_result::dropped;
    }
    e.seq = next_seq_++;
    e.remaining = mask;
    e.queued = std::chrono::steady_clock::now();
    e.queued_wall_ns = wall_now_ns();
    e.alert = std::make_shared<const rules::alert>(a);
    if (journal_) {
      const std::string payload = alert_record(e);
      garbage_estimate_ += payload.size() + 8;
      e.lsn = journal_->append(payload);
    }
    ++stats_.appended;
    live_bytes_ += e.encoded.size();
    by_id_[a.id] = e.seq;
    by_severity_[static_cast<std::size_t>(e.level)].insert(e.seq);
    for (std::size_t d = 0; d < destinations_.size(); ++d) {
      if (mask & (std::uint64_t{1} << d)) {
        queues_[d].push_back(e.seq);
        ++pending_[d];
        ++pending_total_;
      }
    }
    entries_.emplace(e.seq, std::move(e));
    if (!journal_) {
      ready = mask;
      listener = listener_;
    }
  }
  if (ready && listener) listener(ready);
  return result;
}

void outbox::flush() {
  if (!journal_) return;
  const std::uint64_t lsn = journal_->appended_lsn();
  journal_->wait_durable(lsn);
  // The commit listener may not have run yet: what flush() promises, peek() must see.
  std::lock_guard lock(mutex_);
  durable_lsn_ = std::max(durable_lsn_, std::min(lsn, journal_->durable_lsn()));
}

void outbox::on_commit(std::uint64_t lsn) {
  std::uint64_t mask = 0;
  std::function<void(std::uint64_t)> listener;
  {
    std::lock_guard lock(mutex_);
    durable_lsn_ = std::max(durable_lsn_, lsn);
    for (std::size_t d = 0; d < destinations_.size(); ++d) {
      if (pending_[d]) mask |= std::uint64_t{1} << d;
    }
    listener = listener_;
  }
  if (mask && listener) listener(mask);
}

std::vector<outbox_item> outbox::peek(std::size_t d, std::size_t max) {
  std::vector<outbox_item> out;
  std::lock_guard lock(mutex_);
  if (d >= queues_.size()) return out;
  auto& q = queues_[d];
  const std::uint64_t bit = std::uint64_t{1} << d;
  // Drop stale seqs at the front (completed, evicted); the rest are skipped while scanning.
  while (!q.empty()) {
    auto it = entries_.find(q.front());
    if (it != entries_.end() && (it->second.remaining & bit)) break;
    q.pop_front();
  }
  for (std::uint64_t seq : q) {
    if (out.size() >= max) break;
    auto it = entries_.find(seq);
    if (it == entries_.end() || !(it->second.remaining & bit)) continue;
    if (journal_ && !durable(it->second)) break;  // later ones are newer still
    out.push_back({seq, it->second.alert, it->second.queued, it->second.queued_wall_ns});
  }
  return out;
}

void outbox::complete(std::size_t d, const std::vector<std::uint64_t>& seqs, bool delivered) {
  const std::uint64_t bit = std::uint64_t{1} << d;
  {
    std::lock_guard lock(mutex_);
    for (std::uint64_t seq : seqs) {
      auto it = entries_.find(seq);
      if (it == entries_.end() || !(it->second.remaining & bit)) continue;  // evicted meanwhile
      it->second.remaining &= ~bit;
      --pending_[d];
      --pending_total_;
      if (journal_) {
        std::string payload;
        byte_writer w(payload);
        w.u8(k_done);
        w.u64(seq);
        w.u8(delivered ? k_delivered : k_rejected);
        w.str(destinations_[d]);
        garbage_estimate_ += payload.size() + 8;
        journal_->append(payload);
      }
      if (it->second.remaining == 0) erase(it);
    }
    auto& q = queues_[d];
    while (!q.empty()) {
      auto it = entries_.find(q.front());
      if (it != entries_.end() && (it->second.remaining & bit)) break;
      q.pop_front();
    }
    maybe_compact();
  }
  idle_cv_.notify_all();
}

void outbox::maybe_compact() {
  // Called with mutex_ held. Compact once the file is mostly delivered records and delivered
  // alerts; the snapshot then holds only what is still waiting.
  if (!journal_ || compaction_pending_) return;
  const std::uint64_t live = live_bytes_ + 64 * entries_.size();
  if (garbage_estimate_ < options_.compact_min_bytes || garbage_estimate_ < 4 * live) return;
  compaction_pending_ = true;
  journal_->request_compaction();
}

std::optional<std::string> outbox::snapshot(journal& j) {
  std::lock_guard lock(mutex_);
  compaction_pending_ = false;
  std::string body;
  body.reserve(live_bytes_ + 128 * entries_.size());
  for (const auto& [seq, e] : entries_) journal::frame(body, alert_record(e));
  // Everything appended until now is reflected in the snapshot (appends hold mutex_).
  // The journal marks them durable once the snapshot is renamed into place.
  j.take_pending_for_rewrite();
  garbage_estimate_ = body.size();
  return body;
}

std::size_t outbox::pending(std::size_t d) const {
  std::lock_guard lock(mutex_);
  return d < pending_.size() ? pending_[d] : 0;
}

std::size_t outbox::pending_total() const {
  std::lock_guard lock(mutex_);
  return pending_total_;
}

bool outbox::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_cv_.wait_until(lock, deadline, [&] { return pending_total_ == 0; });
}

void outbox::set_ready_listener(std::function<void(std::uint64_t)> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

outbox_stats outbox::stats() const {
  outbox_stats s;
  {
    std::lock_guard lock(mutex_);
    s = stats_;
    s.depth = entries_.size();
    s.bytes = live_bytes_;
    if (!entries_.empty()) {
      s.oldest_age_s =
          static_cast<double>(wall_now_ns() - entries_.begin()->second.queued_wall_ns) / 1e9;
    }
  }
  if (journal_) {
    s.journal = journal_->stats();
    s.durable = !s.journal.degraded;
  }
  return s;
}

void outbox::destination_depths(std::vector<std::size_t>& depth,
                                std::vector<double>& oldest_age_s) const {
  std::lock_guard lock(mutex_);
  depth.assign(destinations_.size(), 0);
  oldest_age_s.assign(destinations_.size(), 0.0);
  const std::int64_t now = wall_now_ns();
  for (std::size_t d = 0; d < destinations_.size(); ++d) {
    depth[d] = pending_[d];
    const std::uint64_t bit = std::uint64_t{1} << d;
    for (std::uint64_t seq : queues_[d]) {
      auto it = entries_.find(seq);
      if (it == entries_.end() || !(it->second.remaining & bit)) continue;
      oldest_age_s[d] = static_cast<double>(now - it->second.queued_wall_ns) / 1e9;
      break;
    }
  }
}

}  // namespace aftershock::exporters
