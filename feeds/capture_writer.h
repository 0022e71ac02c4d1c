// Records a live feed as capture v1 (one JSON object per line: at, feed, frame | raw), so any
// live day can be replayed with `aftershockd replay`. One file per feed per UTC hour:
// DIR/<feed name>-YYYY-MM-DDTHH.ndjson, appended to (a restart within the hour continues the
// file). Frames are written exactly as received: valid JSON on one line goes in `frame`
// verbatim; anything else (not JSON, or JSON spread over several lines, which would break the
// one-line-per-record format) goes in `raw` as a JSON string, which replay hands to the
// parser unchanged. One writer per session, used on its strand: not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "feeds/frame_parser.h"
#include "rules/time.h"

namespace aftershock::feeds {

class capture_writer {
 public:
  /// `dir` must exist (the daemon creates it); `name` is the feed's configured name.
  capture_writer(std::string dir, std::string name, dialect which);
  ~capture_writer();
  capture_writer(const capture_writer&) = delete;
  capture_writer& operator=(const capture_writer&) = delete;

  /// Appends one frame received at `utc`. `is_json` is what the dialect parser found (true:
  /// parsed as JSON, false: not JSON); nullopt makes the writer check. False if the line could
  /// not be written (counted in errors(); the session goes on without it).
  bool write(rules::time_ns utc, std::string_view frame, std::optional<bool> is_json);

  /// Pushes buffered lines to the file (the session calls this about once a second).
  void flush();

  /// The file for an hour: DIR/<name>-YYYY-MM-DDTHH.ndjson.
  std::string path_for(rules::time_ns utc) const;
  const std::string& current_path() const noexcept { return path_; }
  std::uint64_t lines() const noexcept { return lines_; }
  std::uint64_t errors() const noexcept { return errors_; }

  /// The capture line for a frame, without the newline (exposed for tests).
  static std::string format_line(rules::time_ns utc, dialect which, std::string_view frame,
                                 bool as_raw);

 private:
  bool open_for(rules::time_ns utc);

  std::string dir_;
  std::string file_stem_;
  dialect which_;
  std::FILE* file_ = nullptr;
  std::int64_t hour_ = -1;
  std::string path_;
  std::string line_;
  std::uint64_t lines_ = 0;
  std::uint64_t errors_ = 0;
};

/// True if `text` is one complete JSON value (simdjson's full validation).
bool is_valid_json(std::string_view text);

}  // namespace aftershock::feeds
