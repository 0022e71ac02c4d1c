#include "feeds/capture_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds {

namespace {

namespace od = simdjson::ondemand;

bool is_blank(std::string_view line) noexcept {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// One added capture: its text (with simdjson padding after it, so lines are parsed in place and
// `frame` views can point straight into it) and the next record it will yield.
struct capture_source {
  std::string name;
  std::string text;       // the capture followed by SIMDJSON_PADDING spaces
  std::size_t size = 0;   // the capture's own length
  std::size_t pos = 0;    // start of the next unread line
  std::size_t line = 0;   // 1-based number of the last line read
  std::size_t index = 0;  // order of add(): breaks ties between captures
  bool has_head = false;
  bool head_is_raw = false;  // head.frame views head_raw rather than text
  capture_record head;
  std::string head_raw;  // unescaped `raw` of the head record
  bool has_previous = false;
  rules::time_ns previous_at = 0;
};

}  // namespace

struct capture_reader::impl {
  std::vector<std::unique_ptr<capture_source>> sources;  // stable addresses: views point in
  std::vector<capture_source*> heap;  // sources with a head, earliest head at front
  std::size_t primed = 0;             // sources before this index have been read from
  od::parser parser;
  std::string yielded_raw;  // the `raw` text of the record last returned
  capture_stats stats;

  // Heap order: later `at` sinks; equal `at` falls back to the order captures were added.
  static bool later(const capture_source* a, const capture_source* b) noexcept {
    if (a->head.received != b->head.received) return a->head.received > b->head.received;
    return a->index > b->index;
  }

  void push(capture_source* s) {
    heap.push_back(s);
    std::push_heap(heap.begin(), heap.end(), later);
  }

  // Reads lines from `s` until one yields a record (its new head) or the text ends.
  void advance(capture_source& s) {
    s.has_head = false;
    while (s.pos < s.size) {
      const char* begin = s.text.data() + s.pos;
      const void* nl = std::memchr(begin, '\n', s.size - s.pos);
      const std::size_t len = nl != nullptr
                                  ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin)
                                  : s.size - s.pos;
      const std::size_t line_pos = s.pos;
      s.pos += len + (nl != nullptr ? 1 : 0);
      ++s.line;
      std::string_view line(begin, len);
      if (s.line == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") {  // a UTF-8 byte order mark
        line.remove_prefix(3);
      }
      if (is_blank(line)) continue;
      ++stats.lines;
      const std::size_t offset = line_pos + static_cast<std::size_t>(line.data() - begin);
      if (!parse_line(s, offset, trim_right(line).size())) {
        ++stats.bad_lines;
        continue;
      }
      s.head.source = s.name;
      s.head.line = s.line;
      // Kept in file order whatever its `at` says (the capture is the record of arrival), but
      // counted: a backwards step means a clock jump or a spliced file.
      if (s.has_previous && s.head.received < s.previous_at) ++stats.out_of_order;
      s.has_previous = true;
      s.previous_at = s.head.received;
      s.has_head = true;
      return;
    }
  }

  // Parses one line in place: {"at":..., "feed":..., "frame":<json> | "raw":"..."}, keys in
  // any order, unknown keys ignored. False for a bad line.
  bool parse_line(capture_source& s, std::size_t offset, std::size_t len) {
    od::document doc;
    // The padding after the whole text guarantees SIMDJSON_PADDING readable bytes after any
    // line; on-demand never writes to its input.
    if (parser.iterate(s.text.data() + offset, len, s.text.size() - offset).get(doc) !=
        simdjson::SUCCESS) {
      return false;
    }
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
    bool has_at = false, has_feed = false, has_frame = false, has_raw = false, ok = true;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
      const std::string_view key = detail::raw_key(field);
      od::value& v = field.value();
      if (key == "at") {
        has_at = detail::read_rfc3339_time(v, s.head.received);
        ok = ok && has_at;
      } else if (key == "feed") {
        std::string_view name;
        std::optional<dialect> d;
        if (v.get_string().get(name) == simdjson::SUCCESS) d = dialect_from_name(name);
        has_feed = d.has_value();
        ok = ok && has_feed;
        if (d) s.head.feed = *d;
      } else if (key == "frame") {
        has_frame = read_frame(v, s.head.frame);
        ok = ok && has_frame;
      } else if (key == "raw") {
        std::string_view raw;
        has_raw = v.get_string().get(raw) == simdjson::SUCCESS;
        ok = ok && has_raw;
        // Unescaped into the parser's scratch, which the next line overwrites: copy it out.
        if (has_raw) s.head_raw.assign(raw.data(), raw.size());
      }
    }
    // Nothing may follow the line's object (two objects on one line, a stray bracket).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return false;
    if (!ok || !has_at || !has_feed || has_frame == has_raw) return false;
    s.head_is_raw = has_raw;
    if (has_raw) s.head.frame = s.head_raw;
    return true;
  }

  // The exact text of the frame's JSON value, as received: never re-serialised, so a replay
  // feeds the parser the same bytes the live session did.
  static bool read_frame(od::value& v, std::string_view& out) {
    od::json_type type;
    if (v.type().get(type) != simdjson::SUCCESS) return false;
    switch (type) {
      case od::json_type::object: {
        od::object o;
        if (v.get_object().get(o) != simdjson::SUCCESS) return false;
        if (o.raw_json().get(out) != simdjson::SUCCESS) return false;
        break;
      }
      case od::json_type::array: {
        od::array a;
        if (v.get_array().get(a) != simdjson::SUCCESS) return false;
        if (a.raw_json().get(out) != simdjson::SUCCESS) return false;
        break;
      }
      case od::json_type::null:
        return false;  // "frame": null records nothing; treat it as missing
      default:
        // A scalar frame is not any vendor's framing, but it is what was received: pass it on
        // and let the dialect parser reject it.
        out = v.raw_json_token();
        break;
    }
    out = trim_right(out);  // raw_json() runs up to the next token, whitespace included
    return true;
  }
};

capture_reader::capture_reader() : impl_(std::make_unique<impl>()) {}
capture_reader::~capture_reader() = default;
capture_reader::capture_reader(capture_reader&&) noexcept = default;
capture_reader& capture_reader::operator=(capture_reader&&) noexcept = default;

void capture_reader::add(std::string name, std::string text) {
  auto s = std::make_unique<capture_source>();
  s->name = std::move(name);
  s->size = text.size();
  s->text = std::move(text);
  s->text.append(simdjson::SIMDJSON_PADDING, ' ');
  s->index = impl_->sources.size();
  impl_->sources.push_back(std::move(s));
}

bool capture_reader::next(capture_record& out) {
  impl& m = *impl_;
  // Captures added since the last call (normally all of them, on the first call) get their
  // first record read and join the merge.
  for (; m.primed < m.sources.size(); ++m.primed) {
    capture_source& s = *m.sources[m.primed];
    m.advance(s);
    if (s.has_head) m.push(&s);
  }
  if (m.heap.empty()) return false;

  std::pop_heap(m.heap.begin(), m.heap.end(), impl::later);
  capture_source& s = *m.heap.back();
  m.heap.pop_back();
  out = s.head;
  if (s.head_is_raw) {
    // The head's raw buffer is about to be reused for the source's next line: hand the caller
    // the reader's own copy, valid until the next call.
    m.yielded_raw.swap(s.head_raw);
    out.frame = m.yielded_raw;
  }
  ++m.stats.frames;
  m.advance(s);
  if (s.has_head) m.push(&s);
  return true;
}

const capture_stats& capture_reader::stats() const noexcept { return impl_->stats; }

}  // namespace aftershock::feeds
