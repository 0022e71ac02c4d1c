// A capture made ready to play, once, before the server listens, so that playing it at
// --speed max costs next to nothing per event. Every record is read and scanned (data_frame)
// for what routing needs: whether it carries data at all, whether it is opaque, whether every
// element is data, and the distinct kinds of its elements. With permessage-deflate enabled,
// every frame is also compressed on its own (message_deflater), on every core.
//
// During playback, a client that wants every element of each of a frame's kinds
// (subscriptions::wants_every) is sent the frame's prepared bytes as they are: no scan, no copy
// and no compression per frame or per client. Other clients (filtered subscriptions, msgpack)
// get the frame re-scanned and rendered for them (data_frame), as before.
//
// Immutable once built: the frames' bytes live as long as the playlist, and reading it from
// several threads is safe. Building it is not thread-safe (it uses its own threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/time.h"

namespace aftershock::feedsim {

struct playlist_options {
  rules::time_ns from = 0;  // records captured before this are left out (0: none)
  bool deflate = false;     // also compress every frame for permessage-deflate
  int deflate_level = 1;    // zlib level, 1 to 9
  int deflate_window_bits = 15;
  unsigned threads = 0;  // threads for scanning and compressing; 0: one per core
};

/// One record of the capture that has data to play.
struct prepared_frame {
  std::string_view text;      // the frame as captured: what a client taking it whole gets
  std::string_view deflated;  // `text` compressed on its own; empty when not compressed
  rules::time_ns received = 0;
  std::uint32_t kinds_begin = 0;  // its elements' distinct kinds: playlist::kinds()
  std::uint32_t kinds_count = 0;
  feeds::dialect feed = feeds::dialect::generic;
  bool opaque = false;           // data_frame::opaque(): whole to every subscribed client
  bool all_data = false;         // no vendor control element among its elements
  bool binance_wrapped = false;  // data_frame::binance_wrapped()
};

struct playlist_stats {
  std::size_t records = 0;              // read from the captures
  std::size_t skipped_before_from = 0;  // captured before playlist_options::from
  std::size_t skipped_control = 0;      // only vendor control messages (the simulator speaks
                                        // the protocol itself)
  std::size_t deflated_frames = 0;
  std::size_t text_bytes = 0;      // of the frames kept
  std::size_t deflated_bytes = 0;  // their compressed payloads
  unsigned threads = 1;
};

class playlist {
 public:
  playlist() = default;
  playlist(playlist&&) noexcept = default;
  playlist& operator=(playlist&&) noexcept = default;
  playlist(const playlist&) = delete;
  playlist& operator=(const playlist&) = delete;

  /// Reads every record of `captures` (in their `at` order) and prepares it.
  static playlist build(feeds::capture_reader captures, const playlist_options& options);

  const std::vector<prepared_frame>& frames() const noexcept { return frames_; }
  /// The distinct element kinds of a frame (Alpaca `T`, Polygon `ev` ...), in no set order.
  std::span<const std::uint32_t> kinds(const prepared_frame& f) const noexcept {
    return std::span<const std::uint32_t>(kind_ids_).subspan(f.kinds_begin, f.kinds_count);
  }
  std::string_view kind_name(std::uint32_t id) const noexcept { return kind_names_[id]; }

  /// The compression every prepared_frame::deflated was made with (0: none).
  int deflate_level() const noexcept { return deflate_level_; }
  int deflate_window_bits() const noexcept { return deflate_window_bits_; }

  const playlist_stats& stats() const noexcept { return stats_; }
  const feeds::capture_stats& capture_stats() const noexcept { return captures_.stats(); }

 private:
  feeds::capture_reader captures_;  // owns the text that frames' `text` point into
  std::deque<std::string> raw_;     // `raw` records, unescaped (not in the captures' text)
  std::vector<prepared_frame> frames_;
  std::vector<std::uint32_t> kind_ids_;
  std::deque<std::string> kind_names_;       // a deque: names never move
  std::vector<std::string> deflated_store_;  // one per thread; `deflated` views point here
  int deflate_level_ = 0;
  int deflate_window_bits_ = 0;
  playlist_stats stats_;
};

}  // namespace aftershock::feedsim
