// Internal to aftershock_feeds: the simdjson on-demand helpers and validation rules that every
// dialect decoder shares. Free functions over values; thread-safe (no shared state). Never
// include this from a public header: simdjson stays a private dependency of the feeds library.
#pragma once

#include <simdjson.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "feeds/frame_parser.h"
#include "rules/event.h"
#include "rules/time.h"

namespace aftershock::feeds::detail {

namespace od = simdjson::ondemand;

// ---- keys -----------------------------------------------------------------------------------

/// Packs a key of at most 8 bytes into an integer so a decoder can `switch` on it instead of
/// comparing strings one by one. Longer keys pack to 0 and are compared as strings.
constexpr std::uint64_t key_code(std::string_view k) noexcept {
  if (k.size() > 8) return 0;
  std::uint64_t code = 0;
  for (std::size_t i = 0; i < k.size(); ++i) {
    code |= static_cast<std::uint64_t>(static_cast<unsigned char>(k[i])) << (8 * i);
  }
  return code;
}

/// A field's key exactly as written, without unescaping. Vendors never escape keys; a key that
/// does contains a backslash and so matches none of ours, which is the right outcome.
/// Safe: stage 1 has checked every string is closed, so the scan stops inside the document.
inline std::string_view raw_key(od::field& f) noexcept {
  const char* begin = f.key().raw();
  const char* end = begin;
  while (*end != '"') ++end;
  return {begin, static_cast<std::size_t>(end - begin)};
}

/// A field's key as raw_key() gives it, with its key_code().
struct field_key {
  std::string_view text;
  std::uint64_t code = 0;
};

/// raw_key() and key_code() in one step: one 8-byte load finds the closing quote of a short key
/// and is its code once masked, where the byte loops cost a few instructions per byte (every
/// element of every batch has about ten keys). The load may run past the document's end into
/// its padding (at least SIMDJSON_PADDING readable bytes follow every document we iterate).
inline field_key read_key(od::field& f) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    const char* begin = f.key().raw();
    std::uint64_t word = 0;
    std::memcpy(&word, begin, sizeof word);
    // Bytes equal to '"' become zero; the lowest flagged byte is the first quote (a borrow can
    // only flag bytes above a true zero).
    const std::uint64_t x = word ^ 0x2222222222222222ull;
    const std::uint64_t quotes = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
    if (quotes != 0) {
      // The flag is bit 7 of the quote's byte: (flag >> 7) - 1 keeps the bytes before it.
      const std::uint64_t flag = quotes & (~quotes + 1);
      return {{begin, static_cast<std::size_t>(std::countr_zero(quotes) / 8)},
              word & ((flag >> 7) - 1)};
    }
    const char* end = begin + sizeof word;
    while (*end != '"') ++end;
    const auto size = static_cast<std::size_t>(end - begin);
    return {{begin, size}, size == sizeof word ? word : 0};
  } else {
    const std::string_view text = raw_key(f);
    return {text, key_code(text)};
  }
}

// ---- where a decoder puts what it finds -----------------------------------------------------

/// Collects one frame's events, controls and per-element rejections. The frame_parser rolls the
/// output back if the decoder then reports the whole frame as malformed.
class frame_sink {
 public:
  frame_sink(std::vector<rules::event>& out, parse_result& result) : out_(out), result_(result) {}

  void emit(rules::event&& e) {
    out_.push_back(std::move(e));
    ++result_.events;
  }
  /// Appends an event of type T made from `args` (none: a default one, to be filled in through
  /// the reference) where it lies in the output: no temporary event to move, and a rules::event
  /// is as large as its largest member, a news. The events are aggregates: with arguments they
  /// are brace-initialised and moved in (clang before 16 has no parenthesised aggregate
  /// initialisation); the hot path, trades and quotes, uses the default form.
  template <class T, class... Args>
  T& add(Args&&... args) {
    ++result_.events;
    if constexpr (sizeof...(Args) == 0) {
      return std::get<T>(out_.emplace_back(std::in_place_type<T>));
    } else {
      return std::get<T>(out_.emplace_back(std::in_place_type<T>, T{std::forward<Args>(args)...}));
    }
  }
  void reject(parse_error why) noexcept {
    ++result_.rejected;
    if (result_.error == parse_error::none) result_.error = why;
  }
  void ignore() noexcept { ++result_.ignored; }
  void control(control_message::kind what, int code, std::string message) {
    result_.controls.push_back(control_message{what, code, std::move(message)});
  }

 private:
  std::vector<rules::event>& out_;
  parse_result& result_;
};

/// One decoder per dialect, owned by a frame_parser (so its scratch space is reused frame after
/// frame). decode() returns none when the frame's framing was sound, even if elements were
/// rejected; anything else rejects the whole frame.
class decoder {
 public:
  virtual ~decoder() = default;
  virtual parse_error decode(od::document& doc, frame_sink& sink) = 0;
};

std::unique_ptr<decoder> make_alpaca_decoder(bool news_endpoint);
std::unique_ptr<decoder> make_finnhub_decoder();
std::unique_ptr<decoder> make_polygon_decoder();
std::unique_ptr<decoder> make_binance_decoder();
std::unique_ptr<decoder> make_generic_decoder();

// ---- iteration ------------------------------------------------------------------------------

/// Calls f(key, value) for every field, `key` a field_key (text and key_code). f returns none,
/// or an error that aborts the frame (a structural error inside a nested container). Iteration
/// errors are structural: invalid_json.
template <class F>
parse_error for_each_field(od::object& obj, F&& f) {
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return parse_error::invalid_json;
    const parse_error e = f(read_key(field), field.value());
    if (e != parse_error::none) return e;
  }
  return parse_error::none;
}

/// Calls f(object) for every element of an array. An element that is not an object is rejected
/// on its own (unexpected_shape) and skipped; the rest of the batch is still decoded.
template <class F>
parse_error for_each_object(od::array& arr, frame_sink& sink, F&& f) {
  for (auto element : arr) {
    od::value value;
    if (std::move(element).get(value) != simdjson::SUCCESS) return parse_error::invalid_json;
    od::object obj;
    const simdjson::error_code e = value.get_object().get(obj);
    if (e == simdjson::INCORRECT_TYPE) {
      sink.reject(parse_error::unexpected_shape);
      continue;  // on-demand skips the unread element when the loop advances
    }
    if (e != simdjson::SUCCESS) return parse_error::invalid_json;
    const parse_error fe = f(obj);
    if (fe != parse_error::none) return fe;
  }
  return parse_error::none;
}

/// The root's JSON type, or invalid_json if the document does not even start like JSON.
inline parse_error root_type(od::document& doc, od::json_type& type) noexcept {
  return doc.type().get(type) == simdjson::SUCCESS ? parse_error::none : parse_error::invalid_json;
}

/// Judges a root that is not of the dialect's type: unexpected_shape if it is nonetheless a
/// complete JSON value, invalid_json if it is not JSON at all ("not json", a lone "{").
parse_error wrong_root(od::document& doc) noexcept;

/// Maps an error from get_array()/get_object() on the root: a wrong type is judged by
/// wrong_root(), anything else (unbalanced brackets, truncation) is invalid JSON.
inline parse_error root_error(od::document& doc, simdjson::error_code e) noexcept {
  if (e == simdjson::SUCCESS) return parse_error::none;
  return e == simdjson::INCORRECT_TYPE ? wrong_root(doc) : parse_error::invalid_json;
}

// ---- scalar readers: true on success; on failure the value is left unread ----------------------

inline bool read_double(od::value& v, double& out) noexcept {
  return v.get_double().get(out) == simdjson::SUCCESS;
}

inline bool read_int64(od::value& v, std::int64_t& out) noexcept {
  return v.get_int64().get(out) == simdjson::SUCCESS;
}

inline bool read_string(od::value& v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  out.assign(s.data(), s.size());
  return true;
}

/// The unescaped string, in the parser's string buffer: valid until the parser's next document,
/// so only for values used before the frame is done (an element's type and symbol).
inline bool read_string(od::value& v, std::string_view& out) noexcept {
  return v.get_string().get(out) == simdjson::SUCCESS;
}

/// An id that one vendor sends as a JSON integer and another as a string, as decimal text.
bool read_id_text(od::value& v, std::string& out);

/// A decimal carried as a string (Binance "p":"0.001"), or tolerantly as a JSON number.
bool read_decimal(od::value& v, double& out) noexcept;

/// Parses a whole decimal string with std::from_chars (no spaces, no trailing text).
bool parse_decimal(std::string_view text, double& out) noexcept;

/// Parses a whole integer string ("12345") with std::from_chars.
bool parse_integer(std::string_view text, std::int64_t& out) noexcept;

/// A JSON number of Unix milliseconds (integer or not) as a bounded event time.
bool read_ms_time(od::value& v, rules::time_ns& out) noexcept;

/// A JSON number of Unix seconds as a bounded event time.
bool read_seconds_time(od::value& v, rules::time_ns& out) noexcept;

/// Converts RFC 3339 text exactly as time_from_rfc3339() does, faster for a run of times in the
/// same few minutes (a batch, a capture): it remembers where the last two minutes it saw in the
/// canonical form ("YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z") start, so a time in one of them costs a
/// 16-byte compare and the seconds and fraction, not a calendar conversion. Not thread-safe:
/// one per decoder or reader.
class rfc3339_converter {
 public:
  std::optional<rules::time_ns> operator()(std::string_view text) noexcept;

 private:
  struct minute {
    char text[16] = {};  // "YYYY-MM-DDTHH:MM"
    rules::time_ns start = 0;
    bool known = false;
  };
  minute minutes_[2];
  unsigned next_ = 0;  // the entry the next new minute replaces
};

/// An RFC 3339 string as a bounded event time.
bool read_rfc3339_time(od::value& v, rules::time_ns& out) noexcept;
bool read_rfc3339_time(od::value& v, rules::time_ns& out, rfc3339_converter& convert) noexcept;

/// Either an RFC 3339 string or a number of Unix milliseconds (the generic dialect allows both).
bool read_flexible_time(od::value& v, rules::time_ns& out) noexcept;

/// An array of strings (null reads as empty). bad_value if an element is not a string; the
/// caller treats invalid_json as fatal for the frame.
parse_error read_string_array(od::value& v, std::vector<std::string>& out);

// ---- time conversion with the event-time window -----------------------------------------------

/// RFC 3339 text to an event time within [k_earliest_event_time, k_latest_event_time).
std::optional<rules::time_ns> time_from_rfc3339(std::string_view text) noexcept;
std::optional<rules::time_ns> time_from_ms(std::int64_t ms) noexcept;
std::optional<rules::time_ns> time_from_ms(double ms) noexcept;
std::optional<rules::time_ns> time_from_seconds(std::int64_t s) noexcept;
std::optional<rules::time_ns> time_from_seconds(double s) noexcept;

// ---- validation rules shared by all dialects ---------------------------------------------------

inline constexpr std::size_t k_max_symbol_bytes = 32;

inline bool valid_symbol(std::string_view s) noexcept {
  return !s.empty() && s.size() <= k_max_symbol_bytes;
}
/// Prices are finite and strictly positive (a zero or negative print is corrupt data).
inline bool valid_price(double p) noexcept { return std::isfinite(p) && p > 0; }
/// Sizes and volumes are finite and non-negative (0 = price-only update on some venues).
inline bool valid_size(double s) noexcept { return std::isfinite(s) && s >= 0; }

/// valid_bar() of a bar with these values and a valid symbol, for checking before building it.
inline bool valid_bar_values(double open, double high, double low, double close, double volume,
                             rules::time_ns start, rules::time_ns end) noexcept {
  return valid_price(open) && valid_price(high) && valid_price(low) && valid_price(close) &&
         low <= high && valid_size(volume) && end >= start;
}

/// A bar is usable if its prices are valid and its low is not above its high.
bool valid_bar(const rules::bar& b) noexcept;

/// Splits "AAPL, MSFT" into symbols, dropping empty pieces. False if a piece is too long.
bool split_symbols(std::string_view list, std::vector<std::string>& out);

// ---- a field set with presence and error bits -------------------------------------------------

/// Tracks which fields of an element were read and which were present but unusable, so that
/// an element is judged only on the fields its message type needs (a bad field in a message
/// type we ignore must not turn the element into a rejection).
class field_bits {
 public:
  void reset() noexcept { present_ = bad_ = 0; }
  void set(unsigned bit, bool ok) noexcept {
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if (ok) {
      present_ |= mask;
      bad_ &= ~mask;
    } else {
      bad_ |= mask;
      present_ &= ~mask;
    }
  }
  bool has(unsigned bit) const noexcept { return (present_ >> bit) & 1u; }
  /// bad_value if a used field was present but unreadable, missing_field if a required one is
  /// absent, none otherwise.
  parse_error check(std::uint64_t required, std::uint64_t used) const noexcept {
    if ((bad_ & (used | required)) != 0) return parse_error::bad_value;
    if ((present_ & required) != required) return parse_error::missing_field;
    return parse_error::none;
  }

 private:
  std::uint64_t present_ = 0;
  std::uint64_t bad_ = 0;
};

/// Builds a mask from bit numbers: mask({a, b, c}).
constexpr std::uint64_t mask(std::initializer_list<unsigned> bits) noexcept {
  std::uint64_t m = 0;
  for (unsigned b : bits) m |= std::uint64_t{1} << b;
  return m;
}

}  // namespace aftershock::feeds::detail
