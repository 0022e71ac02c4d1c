#include "feedsim/playlist.h"

#include <algorithm>
#include <string>
#include <thread>
#include <unordered_map>

#include "feedsim/data_frame.h"
#include "feedsim/message_deflater.h"

namespace aftershock::feedsim {

namespace {

struct name_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// What one thread makes of its share of the frames: kinds numbered in its own table, and the
// compressed payloads one after another in one string (offsets until that string stops
// growing).
struct share {
  std::size_t begin = 0, end = 0;
  std::vector<std::string> kind_names;
  std::unordered_map<std::string, std::uint32_t, name_hash, std::equal_to<>> kind_index;
  std::vector<std::uint32_t> kind_ids;     // per frame, from frames' kinds_begin (local)
  std::vector<std::size_t> deflated_at;    // per frame of the share: offset in `deflated`
  std::vector<std::size_t> deflated_size;  // and size (0: not compressed)
  std::string deflated;
  std::vector<bool> keep;  // per frame of the share: has data

  std::uint32_t kind_id(std::string_view name) {
    auto it = kind_index.find(name);
    if (it != kind_index.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(kind_names.size());
    kind_names.emplace_back(name);
    kind_index.emplace(std::string(name), id);
    return id;
  }
};

void prepare_share(std::vector<prepared_frame>& frames, share& s, const playlist_options& opt) {
  data_frame frame;
  message_deflater deflater;
  std::string compressed;
  const std::size_t n = s.end - s.begin;
  s.keep.assign(n, false);
  s.deflated_at.assign(n, 0);
  s.deflated_size.assign(n, 0);
  for (std::size_t i = s.begin; i < s.end; ++i) {
    prepared_frame& f = frames[i];
    frame.assign(f.feed, f.text);
    if (frame.data_count() == 0) continue;
    s.keep[i - s.begin] = true;
    f.opaque = frame.opaque();
    f.all_data = frame.data_count() == frame.elements().size();
    f.binance_wrapped = frame.binance_wrapped();
    f.kinds_begin = static_cast<std::uint32_t>(s.kind_ids.size());
    if (!f.opaque) {
      std::string_view last;
      bool any = false;
      for (const frame_element& el : frame.elements()) {
        if (el.control || (any && el.kind == last)) continue;  // runs of one kind are common
        const std::uint32_t id = s.kind_id(el.kind);
        const auto first = s.kind_ids.begin() + f.kinds_begin;
        if (std::find(first, s.kind_ids.end(), id) == s.kind_ids.end()) s.kind_ids.push_back(id);
        last = el.kind;
        any = true;
      }
    }
    f.kinds_count = static_cast<std::uint32_t>(s.kind_ids.size()) - f.kinds_begin;
    if (opt.deflate &&
        deflater.deflate(f.text, opt.deflate_level, opt.deflate_window_bits, compressed)) {
      s.deflated_at[i - s.begin] = s.deflated.size();
      s.deflated_size[i - s.begin] = compressed.size();
      s.deflated += compressed;
    }
  }
}

}  // namespace

playlist playlist::build(feeds::capture_reader captures, const playlist_options& options) {
  playlist p;
  p.captures_ = std::move(captures);
  if (options.deflate) {
    p.deflate_level_ = options.deflate_level;
    p.deflate_window_bits_ = options.deflate_window_bits;
  }

  // Read every record: the reader is sequential, and fast next to the scan.
  feeds::capture_record record;
  while (p.captures_.next(record)) {
    ++p.stats_.records;
    if (options.from > 0 && record.received < options.from) {
      ++p.stats_.skipped_before_from;
      continue;
    }
    prepared_frame f;
    f.received = record.received;
    f.feed = record.feed;
    if (record.padded) {
      f.text = record.frame;  // inside the captures' text, which the playlist keeps
    } else {
      p.raw_.emplace_back(record.frame);
      f.text = p.raw_.back();
    }
    p.frames_.push_back(f);
  }

  // Scan (and compress) in contiguous shares, one per thread; small captures on this thread.
  const std::size_t count = p.frames_.size();
  unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(
      std::clamp<std::size_t>(count / 4096, 1, std::max<std::size_t>(threads, 1)));
  p.stats_.threads = threads;
  std::vector<share> shares(threads);
  for (unsigned t = 0; t < threads; ++t) {
    shares[t].begin = count * t / threads;
    shares[t].end = count * (t + 1) / threads;
  }
  if (threads == 1) {
    prepare_share(p.frames_, shares[0], options);
  } else {
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] { prepare_share(p.frames_, shares[t], options); });
    }
    for (auto& w : workers) w.join();
  }

  // One kind table; compressed payloads pointed at where they now stay; frames without data
  // left out.
  std::unordered_map<std::string, std::uint32_t, name_hash, std::equal_to<>> kind_index;
  p.deflated_store_.resize(threads);
  std::size_t kept = 0;
  for (unsigned t = 0; t < threads; ++t) {
    share& s = shares[t];
    std::vector<std::uint32_t> global(s.kind_names.size());
    for (std::size_t k = 0; k < s.kind_names.size(); ++k) {
      auto it = kind_index.find(s.kind_names[k]);
      if (it == kind_index.end()) {
        it = kind_index.emplace(s.kind_names[k], static_cast<std::uint32_t>(p.kind_names_.size()))
                 .first;
        p.kind_names_.push_back(s.kind_names[k]);
      }
      global[k] = it->second;
    }
    p.deflated_store_[t] = std::move(s.deflated);
    const std::string& store = p.deflated_store_[t];
    for (std::size_t i = s.begin; i < s.end; ++i) {
      const std::size_t local = i - s.begin;
      if (!s.keep[local]) {
        ++p.stats_.skipped_control;
        continue;
      }
      prepared_frame f = p.frames_[i];
      const std::uint32_t local_begin = f.kinds_begin;
      f.kinds_begin = static_cast<std::uint32_t>(p.kind_ids_.size());
      for (std::uint32_t k = 0; k < f.kinds_count; ++k) {
        p.kind_ids_.push_back(global[s.kind_ids[local_begin + k]]);
      }
      f.deflated = std::string_view(store).substr(s.deflated_at[local], s.deflated_size[local]);
      if (!f.deflated.empty()) {
        ++p.stats_.deflated_frames;
        p.stats_.deflated_bytes += f.deflated.size();
      }
      p.stats_.text_bytes += f.text.size();
      p.frames_[kept++] = f;
    }
  }
  p.frames_.resize(kept);
  p.frames_.shrink_to_fit();
  return p;
}

}  // namespace aftershock::feedsim
