#include "feeds/capture_writer.h"

#include <simdjson.h>

#include <cstring>

#include "rules/alert.h"

namespace aftershock::feeds {

namespace {

// Feed names come from the config; keep file names to a safe alphabet.
std::string safe_stem(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

}  // namespace

bool is_valid_json(std::string_view text) {
  // One DOM parser per thread: sessions all run on the I/O thread, tests on theirs.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text.data(), text.size()).get(doc) == simdjson::SUCCESS;
}

capture_writer::capture_writer(std::string dir, std::string name, dialect which)
    : dir_(std::move(dir)), file_stem_(safe_stem(name)), which_(which) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

capture_writer::~capture_writer() {
  if (file_ != nullptr) std::fclose(file_);
}

std::string capture_writer::path_for(rules::time_ns utc) const {
  std::string stamp = rules::format_rfc3339_s(utc);  // 2025-01-27T14:30:00Z
  stamp.resize(13);                                  // 2025-01-27T14
  return dir_ + "/" + file_stem_ + "-" + stamp + ".ndjson";
}

bool capture_writer::open_for(rules::time_ns utc) {
  const std::int64_t hour = utc / rules::k_ns_per_hour;
  if (file_ != nullptr && hour == hour_) return true;
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  hour_ = hour;
  path_ = path_for(utc);
  file_ = std::fopen(path_.c_str(), "ab");
  return file_ != nullptr;
}

std::string capture_writer::format_line(rules::time_ns utc, dialect which, std::string_view frame,
                                        bool as_raw) {
  std::string line;
  line.reserve(frame.size() + 64);
  line += "{\"at\":\"";
  line += rules::format_rfc3339_ms(utc);
  line += "\",\"feed\":\"";
  line += to_string(which);
  if (as_raw) {
    line += "\",\"raw\":";
    rules::append_json_string(line, frame);  // quotes included
    line += '}';
  } else {
    line += "\",\"frame\":";
    line += frame;
    line += '}';
  }
  return line;
}

bool capture_writer::write(rules::time_ns utc, std::string_view frame,
                           std::optional<bool> is_json) {
  const bool json = is_json.has_value() ? *is_json : is_valid_json(frame);
  // A newline inside the frame (pretty-printed JSON) would split the record: keep such frames
  // byte-exact as `raw` instead; replay parses raw text the same way.
  const bool multi_line = std::memchr(frame.data(), '\n', frame.size()) != nullptr ||
                          std::memchr(frame.data(), '\r', frame.size()) != nullptr;
  const bool as_raw = !json || multi_line || frame.empty();
  if (!open_for(utc)) {
    ++errors_;
    return false;
  }
  line_ = format_line(utc, which_, frame, as_raw);
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    ++errors_;
    return false;
  }
  ++lines_;
  return true;
}

void capture_writer::flush() {
  if (file_ != nullptr && std::fflush(file_) != 0) ++errors_;
}

}  // namespace aftershock::feeds
