// Reads capture v1 files (one JSON object per line: at, feed, frame | raw) and yields the frames
// in `at` order, merging several files. Pure over the text it is given; not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/frame_parser.h"
#include "rules/time.h"

namespace aftershock::feeds {

/// One captured frame. `frame` points into the reader's buffer and stays valid until the
/// next call to next(). For a `frame` field it is the value's exact JSON text as captured (never
/// re-serialised, trailing whitespace trimmed); for `raw`, the unescaped string.
struct capture_record {
  rules::time_ns received = 0;  // the `at` field
  dialect feed = dialect::generic;
  std::string_view frame;   // the frame's JSON text (or the `raw` string, unescaped)
  std::string_view source;  // which capture (its name), for messages
  std::size_t line = 0;     // 1-based line number in that capture
  /// At least k_frame_padding readable bytes follow `frame` (it lies inside the capture's
  /// padded text): frame_parser::parse_padded() may parse it where it is. False for `raw`.
  bool padded = false;
};

struct capture_stats {
  std::size_t lines = 0;  // non-blank lines read so far (the reader reads one ahead)
  std::size_t frames = 0;
  std::size_t bad_lines = 0;     // not JSON, missing at/feed/frame, unknown feed name
  std::size_t out_of_order = 0;  // `at` earlier than the previous line's (kept, counted)
};

/// Reads a whole capture file into `out` with room after it for the reader's parser padding,
/// so add(name, std::move(out)) takes it without another copy: one allocation and large
/// read(2)s straight into place. False (and `error` says why) if it cannot be read.
bool read_capture_file(const std::string& path, std::string& out, std::string* error);

class capture_reader {
 public:
  capture_reader();
  ~capture_reader();
  capture_reader(capture_reader&&) noexcept;
  capture_reader& operator=(capture_reader&&) noexcept;

  /// Adds a capture's whole text under a name (used in messages). Call before next().
  void add(std::string name, std::string text);

  /// The next record across all added captures in `at` order (ties: the order of add()).
  /// Within one capture, file order always holds, even where `at` steps back (counted in
  /// out_of_order). Returns false at the end. Bad lines are counted and skipped. Lines are
  /// parsed in place in the added text, which the reader owns; keys may come in any order and
  /// unknown keys are ignored; blank lines, CRLF endings and a UTF-8 BOM are accepted.
  bool next(capture_record& out);

  const capture_stats& stats() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::feeds
