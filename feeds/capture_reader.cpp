#include "feeds/capture_reader.h"

#include <simdjson.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdint>
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

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

#if defined(__SSE2__)
// Bit i set where byte i of a 64-byte block is: a quote, a backslash, a bracket, below 0x20.
struct block_masks {
  std::uint64_t quotes = 0, backslashes = 0, brackets = 0, controls = 0;
};

inline block_masks masks_sse2(const char* q) noexcept {
  const __m128i k_quote = _mm_set1_epi8('"'), k_backslash = _mm_set1_epi8('\\'),
                k_fold = _mm_set1_epi8(0x20), k_open = _mm_set1_epi8('{'),
                k_close = _mm_set1_epi8('}'), k_control = _mm_set1_epi8(0x1f);
  block_masks m;
  for (int j = 0; j < 4; ++j) {  // unrolled by the compiler: constant trip count
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * j));
    const __m128i folded = _mm_or_si128(b, k_fold);  // '[' -> '{', ']' -> '}'
    auto bits = [&](__m128i v) {
      return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(v))) << (16 * j);
    };
    m.quotes |= bits(_mm_cmpeq_epi8(b, k_quote));
    m.backslashes |= bits(_mm_cmpeq_epi8(b, k_backslash));
    m.brackets |=
        bits(_mm_or_si128(_mm_cmpeq_epi8(folded, k_open), _mm_cmpeq_epi8(folded, k_close)));
    m.controls |= bits(_mm_cmpeq_epi8(_mm_min_epu8(b, k_control), b));  // bytes < 0x20
  }
  return m;
}
#endif

#if defined(__SSE2__) && defined(__GNUC__) && !defined(__AVX2__)
// The same from two 32-byte loads: half the compares and movemasks. Only called after
// __builtin_cpu_supports("avx2").
[[gnu::target("avx2")]] inline block_masks masks_avx2(const char* q) noexcept {
  const __m256i k_quote = _mm256_set1_epi8('"'), k_backslash = _mm256_set1_epi8('\\'),
                k_fold = _mm256_set1_epi8(0x20), k_open = _mm256_set1_epi8('{'),
                k_close = _mm256_set1_epi8('}'), k_control = _mm256_set1_epi8(0x1f);
  block_masks m;
  for (int j = 0; j < 2; ++j) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
    const __m256i folded = _mm256_or_si256(b, k_fold);
    const auto shift = 32 * j;
    m.quotes |= static_cast<std::uint64_t>(
                    static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, k_quote))))
                << shift;
    m.backslashes |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(
                         _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, k_backslash))))
                     << shift;
    m.brackets |=
        static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_or_si256(
            _mm256_cmpeq_epi8(folded, k_open), _mm256_cmpeq_epi8(folded, k_close)))))
        << shift;
    m.controls |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(
                      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(b, k_control), b))))
                  << shift;
  }
  return m;
}
#endif

// Whether `v` (starting with '[' or '{') is one balanced JSON container and nothing after it:
// brackets matched by kind, strings closed, no raw control characters inside strings, at most
// 255 deep. The checks the capture's simdjson pass makes of a frame it skips over (stage 1 and
// raw_json()); deeper or odder input is left to that pass. 64 bytes at a time (quotes found by
// compare, strings by a prefix XOR of the quote bits, as simdjson's stage 1 does): with AVX2
// where the machine has it, else SSE2 (the x86-64 baseline); byte by byte from the first
// backslash on and for the tail.
class container_check {
 public:
  explicit container_check(std::string_view v) noexcept : p_(v.data()), n_(v.size()) {}

  bool run() noexcept {
#if defined(__SSE2__)
#if defined(__GNUC__) && !defined(__AVX2__)
    static const bool k_avx2 = __builtin_cpu_supports("avx2");
    const int r = k_avx2 ? blocks_avx2() : blocks_sse2();
#else
    const int r = blocks_sse2();
#endif
    if (r == 0 || r == 1) return r == 1;
    if (r == -1) return false;  // the end came before the container closed
      // r == 2: a backslash in the block at i_; on byte by byte from there.
#endif
    return bytes();
  }

 private:
  static constexpr std::size_t k_max_depth = 256;

  bool open(char c) noexcept {
    if (depth_ == k_max_depth) return false;
    expected_[depth_++] = c == '[' ? ']' : '}';
    return true;
  }
  // 1: the container closed exactly at the end; 0: closed early or mismatched; -1: go on.
  int close(char c, std::size_t at) noexcept {
    if (depth_ == 0 || expected_[--depth_] != c) return 0;
    if (depth_ == 0) return at + 1 == n_ ? 1 : 0;
    return -1;
  }

  // The 64 bytes at `q` (bytes i_ .. i_ + 63 of the frame) given their bit masks: -1 go on,
  // 0 / 1 the answer, 2 a backslash (the byte loop takes over at i_).
  [[gnu::always_inline]] int block(const char* q, std::uint64_t quotes, std::uint64_t backslashes,
                                   std::uint64_t brackets, std::uint64_t controls) noexcept {
    if (backslashes != 0) return 2;
    // Inside a string: from an opening quote up to (not including) its closing quote.
    std::uint64_t inside = quotes;
    inside ^= inside << 1;
    inside ^= inside << 2;
    inside ^= inside << 4;
    inside ^= inside << 8;
    inside ^= inside << 16;
    inside ^= inside << 32;
    if (in_string_) inside = ~inside;
    if ((controls & inside) != 0) return 0;
    brackets &= ~inside;
    while (brackets != 0) {
      const auto k = static_cast<std::size_t>(__builtin_ctzll(brackets));
      brackets &= brackets - 1;
      const char c = q[k];
      if (c == '[' || c == '{') {
        if (!open(c)) return 0;
      } else if (const int r = close(c, i_ + k); r >= 0) {
        return r;
      }
    }
    if ((__builtin_popcountll(quotes) & 1) != 0) in_string_ = !in_string_;
    return -1;
  }

  // One 64-byte block at `q` given its masks (block_masks).
  [[gnu::always_inline]] int block(const char* q, const block_masks& m) noexcept {
    return block(q, m.quotes, m.backslashes, m.brackets, m.controls);
  }

  // The tail: the last bytes of the frame padded with spaces (neither quotes, brackets,
  // backslashes nor control bytes) to a block, into `tail`.
  const char* pad_tail(char (&tail)[64]) const noexcept {
    std::memset(tail, ' ', sizeof tail);
    std::memcpy(tail, p_ + i_, n_ - i_);
    return tail;
  }

  // Whole blocks, then the tail: -1 if the end came first, else as block(). The loop is
  // written out per instruction set so that the masks inline into it.
#if defined(__SSE2__)
  int blocks_sse2() noexcept {
    int r = -1;
    while (i_ + 64 <= n_ && (r = block(p_ + i_, masks_sse2(p_ + i_))) == -1) i_ += 64;
    if (r == -1 && i_ < n_) {
      char tail[64];
      const char* q = pad_tail(tail);
      r = block(q, masks_sse2(q));
    }
    return r;
  }
#endif
#if defined(__SSE2__) && defined(__GNUC__) && !defined(__AVX2__)
  [[gnu::target("avx2")]] int blocks_avx2() noexcept {
    int r = -1;
    while (i_ + 64 <= n_ && (r = block(p_ + i_, masks_avx2(p_ + i_))) == -1) i_ += 64;
    if (r == -1 && i_ < n_) {
      char tail[64];
      const char* q = pad_tail(tail);
      r = block(q, masks_avx2(q));
    }
    return r;
  }
#endif

  bool bytes() noexcept {
    for (; i_ < n_; ++i_) {
      const char c = p_[i_];
      if (in_string_) {
        if (c == '"') {
          in_string_ = false;
        } else if (c == '\\') {
          ++i_;  // the escaped byte, whatever it is (stage 1 checks no more)
        } else if (static_cast<unsigned char>(c) < 0x20) {
          return false;
        }
        continue;
      }
      switch (c) {
        case '"':
          in_string_ = true;
          break;
        case '[':
        case '{':
          if (!open(c)) return false;
          break;
        case ']':
        case '}':
          if (const int r = close(c, i_); r >= 0) return r == 1;
          break;
        default:
          break;
      }
    }
    return false;
  }

  const char* p_;
  std::size_t n_;
  std::size_t i_ = 0;
  char expected_[k_max_depth];  // closing bracket per open level
  std::size_t depth_ = 0;
  bool in_string_ = false;
};

bool one_balanced_container(std::string_view v) noexcept { return container_check(v).run(); }

// One added capture: its text (with simdjson padding after it, so lines are parsed in place and
// `frame` views can point straight into it) and the next record it will yield.
struct capture_source {
  std::string name;
  std::string text;       // the capture followed by SIMDJSON_PADDING spaces
  std::size_t size = 0;   // the capture's own length
  std::size_t pos = 0;    // start of the next unread line
  std::size_t line = 0;   // 1-based number of the last line read
  std::size_t index = 0;  // order of add(): breaks ties between captures
  // The whole capture is valid UTF-8 (checked once in add()). Then so is every frame the fast
  // path cuts out of it: a frame starts and ends on an ASCII bracket, never inside a character.
  bool valid_utf8 = false;
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
  detail::rfc3339_converter convert_at;  // the lines' `at`: a capture's run through its minutes

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
      const std::size_t trimmed = trim_right(line).size();
      if (!parse_canonical(s, offset, trimmed) && !parse_line(s, offset, trimmed)) {
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

  // The fast way for the line every capture writer (ours, feedsim's generator) produces:
  // exactly {"at":"<RFC 3339>","feed":"<name>","frame":<array or object>} with no whitespace
  // in the envelope. Accepts only lines parse_line() would accept, with the same record; for
  // anything else (other key order, spaces, raw frames, escapes, bad input) returns false and
  // parse_line() decides. Saves the line's own simdjson pass: the frame's parser makes one.
  bool parse_canonical(capture_source& s, std::size_t offset, std::size_t len) {
    static constexpr std::string_view k_at = "{\"at\":\"";
    static constexpr std::string_view k_feed = "\",\"feed\":\"";
    static constexpr std::string_view k_frame = "\",\"frame\":";
    const std::string_view line(s.text.data() + offset, len);
    if (line.size() < k_at.size() + k_feed.size() + k_frame.size() + 3 ||
        line.substr(0, k_at.size()) != k_at || line.back() != '}') {
      return false;
    }
    std::size_t pos = k_at.size();
    const std::size_t at_end = line.find('"', pos);
    if (at_end == std::string_view::npos) return false;
    const std::optional<rules::time_ns> at = convert_at(line.substr(pos, at_end - pos));
    if (!at || line.compare(at_end, k_feed.size(), k_feed) != 0) return false;
    pos = at_end + k_feed.size();
    const std::size_t feed_end = line.find('"', pos);
    if (feed_end == std::string_view::npos) return false;
    const std::optional<dialect> feed = dialect_from_name(line.substr(pos, feed_end - pos));
    if (!feed || line.compare(feed_end, k_frame.size(), k_frame) != 0) return false;
    pos = feed_end + k_frame.size();
    std::size_t end = line.size() - 1;  // the record's closing brace
    while (pos < end && is_space(line[pos])) ++pos;
    while (end > pos && is_space(line[end - 1])) --end;
    const std::string_view frame = line.substr(pos, end - pos);
    if (frame.empty() || (frame.front() != '[' && frame.front() != '{') ||
        !one_balanced_container(frame) ||
        (!s.valid_utf8 && !simdjson::validate_utf8(frame.data(), frame.size()))) {
      return false;
    }
    s.head.received = *at;
    s.head.feed = *feed;
    s.head.frame = frame;
    s.head.padded = true;  // inside the text, which ends in SIMDJSON_PADDING spaces
    s.head_is_raw = false;
    return true;
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
        has_at = detail::read_rfc3339_time(v, s.head.received, convert_at);
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
    s.head.padded = !has_raw;
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

bool read_capture_file(const std::string& path, std::string& out, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  std::size_t expected = 1u << 20;  // a pipe or special file: grow as it comes
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    expected = static_cast<std::size_t>(st.st_size);
  }
  // The padding is allocated now, so add() appends it without moving the text; the zero fill
  // costs little next to the read.
  std::string text(expected + simdjson::SIMDJSON_PADDING, '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == text.size()) text.resize(text.size() * 2);
    const ::ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (error) *error = path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(used);
  out = std::move(text);
  return true;
}

capture_reader::capture_reader() : impl_(std::make_unique<impl>()) {}
capture_reader::~capture_reader() = default;
capture_reader::capture_reader(capture_reader&&) noexcept = default;
capture_reader& capture_reader::operator=(capture_reader&&) noexcept = default;

void capture_reader::add(std::string name, std::string text) {
  auto s = std::make_unique<capture_source>();
  s->name = std::move(name);
  s->size = text.size();
  s->text = std::move(text);
  s->valid_utf8 = simdjson::validate_utf8(s->text.data(), s->size);
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
