#include "feeds/dialects/json_helpers.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

namespace aftershock::feeds::detail {

namespace {

constexpr rules::time_ns k_earliest_ms = k_earliest_event_time / rules::k_ns_per_ms;
constexpr rules::time_ns k_latest_ms = k_latest_event_time / rules::k_ns_per_ms;
constexpr rules::time_ns k_earliest_s = k_earliest_event_time / rules::k_ns_per_s;
constexpr rules::time_ns k_latest_s = k_latest_event_time / rules::k_ns_per_s;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

unsigned days_in_month(unsigned year, unsigned month) noexcept {
  static constexpr unsigned k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return month >= 1 && month <= 12 ? k_days[month - 1] : 0;
}

// Converts a finite number of `unit_ns` units to ns without losing whole units to double
// rounding: the whole part is exact in int64, only the fraction goes through floating point.
std::optional<rules::time_ns> scale_fractional(double value, rules::time_ns unit_ns,
                                               rules::time_ns lo, rules::time_ns hi) noexcept {
  if (!std::isfinite(value)) return std::nullopt;
  if (value < static_cast<double>(lo) || value >= static_cast<double>(hi)) return std::nullopt;
  const double whole = std::floor(value);
  const auto frac_ns =
      static_cast<rules::time_ns>(std::llround((value - whole) * static_cast<double>(unit_ns)));
  const rules::time_ns ns = static_cast<rules::time_ns>(whole) * unit_ns + frac_ns;
  if (ns < k_earliest_event_time || ns >= k_latest_event_time) return std::nullopt;
  return ns;
}

// The fraction of a second after "SS.": `digits` (1 to 9) decimal digits at `p`, as ns. False if
// one is not a digit. Nine digits (Alpaca's) are read eight at a time with a SWAR multiply.
[[gnu::always_inline]] inline bool parse_fraction(const char* p, std::size_t digits,
                                                  rules::time_ns& out) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (digits == 9) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, sizeof w);
      // Every byte 0x30..0x39: high nibble 3, and still 3 once 6 is added (no byte carries).
      constexpr std::uint64_t k_high = 0xF0F0F0F0F0F0F0F0ull, k_zeros = 0x3030303030303030ull;
      const unsigned last = static_cast<unsigned>(p[8]) - unsigned{'0'};
      if ((w & k_high) != k_zeros || ((w + 0x0606060606060606ull) & k_high) != k_zeros ||
          last > 9) {
        return false;
      }
      w -= k_zeros;
      w = w * 10 + (w >> 8);  // byte 2i: digits 2i and 2i+1 as a number 0..99
      w = ((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
           ((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >>
          32;  // the eight digits as one number, the first the most significant
      out = static_cast<rules::time_ns>(w) * 10 + last;
      return true;
    }
  }
  rules::time_ns frac = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const unsigned d = static_cast<unsigned>(p[i]) - unsigned{'0'};
    if (d > 9) return false;
    frac = frac * 10 + d;
  }
  static constexpr rules::time_ns k_scale[] = {1,      10,      100,      1000,      10000,
                                               100000, 1000000, 10000000, 100000000, 1000000000};
  out = frac * k_scale[9 - digits];
  return true;
}

// The seconds and fraction of a canonical time, "SS[.f{1,9}]Z" from byte 17 of `s` (whose size
// is 20 to 30 and whose last byte is 'Z'), as ns into the minute. False if they are not
// canonical (a leap second 60 included: the general way judges those).
[[gnu::always_inline]] inline bool seconds_in_minute(std::string_view s,
                                                     rules::time_ns& out) noexcept {
  const std::size_t n = s.size();
  const unsigned a = static_cast<unsigned>(s[17]) - unsigned{'0'};
  const unsigned b = static_cast<unsigned>(s[18]) - unsigned{'0'};
  if (a > 5 || b > 9) return false;
  rules::time_ns frac = 0;
  if (n > 20) {
    if (s[19] != '.' || n < 22 || !parse_fraction(s.data() + 20, n - 21, frac)) return false;
  }
  out = static_cast<rules::time_ns>(a * 10 + b) * rules::k_ns_per_s + frac;
  return true;
}

// The form every vendor and every capture writes, "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", with a
// date and time that are certainly valid and inside the event window: its time, and where its
// minute starts. Anything else (offsets, lower-case separators, leap seconds, more digits,
// out-of-range fields) returns nullopt and goes the general way, which then accepts or rejects
// it; so this only ever returns what the general way would. Two of these per trade in a replay
// (capture `at` and event `t`): worth the lines.
std::optional<rules::time_ns> canonical_rfc3339(std::string_view s,
                                                rules::time_ns& minute_start) noexcept {
  const std::size_t n = s.size();
  if (n < 20 || n > 30 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto digit = [&](std::size_t i) { return static_cast<unsigned>(s[i]) - unsigned{'0'}; };
  auto two = [&](std::size_t i, unsigned& out) {
    const unsigned a = digit(i), b = digit(i + 1);
    out = a * 10 + b;
    return a <= 9 && b <= 9;
  };
  unsigned y_hi = 0, y_lo = 0, month = 0, day = 0, hour = 0, minute = 0;
  if (!two(0, y_hi) || !two(2, y_lo) || !two(5, month) || !two(8, day) || !two(11, hour) ||
      !two(14, minute)) {
    return std::nullopt;
  }
  const unsigned year = y_hi * 100 + y_lo;
  // 1990-01-01 up to the end of 2200: inside [k_earliest_event_time, k_latest_event_time).
  if (year < 1990 || year > 2200 || hour > 23 || minute > 59 || day < 1 ||
      day > days_in_month(year, month)) {
    return std::nullopt;
  }
  rules::time_ns in_minute = 0;
  if (!seconds_in_minute(s, in_minute)) return std::nullopt;
  const std::int64_t days = rules::days_from_civil(year, month, day);
  minute_start = (days * 86400 + hour * 3600 + minute * 60) * rules::k_ns_per_s;
  return minute_start + in_minute;
}

// Any RFC 3339 time rules::parse_rfc3339 accepts, within the event window.
std::optional<rules::time_ns> general_rfc3339(std::string_view text) noexcept {
  // rules::parse_rfc3339 computes nanoseconds in int64, which overflows past year 2262, and it
  // accepts day 31 in every month. Check both here before trusting it.
  if (text.size() < 10 || !is_digit(text[0]) || !is_digit(text[1]) || !is_digit(text[2]) ||
      !is_digit(text[3]) || !is_digit(text[5]) || !is_digit(text[6]) || !is_digit(text[8]) ||
      !is_digit(text[9])) {
    return std::nullopt;
  }
  const unsigned year = static_cast<unsigned>((text[0] - '0') * 1000 + (text[1] - '0') * 100 +
                                              (text[2] - '0') * 10 + (text[3] - '0'));
  const unsigned month = static_cast<unsigned>((text[5] - '0') * 10 + (text[6] - '0'));
  const unsigned day = static_cast<unsigned>((text[8] - '0') * 10 + (text[9] - '0'));
  if (year < 1989 || year > 2201) return std::nullopt;  // a day of slack for UTC offsets
  if (day > days_in_month(year, month)) return std::nullopt;
  const std::optional<rules::time_ns> t = rules::parse_rfc3339(text);
  if (!t || *t < k_earliest_event_time || *t >= k_latest_event_time) return std::nullopt;
  return t;
}

}  // namespace

std::optional<rules::time_ns> time_from_rfc3339(std::string_view text) noexcept {
  rules::time_ns minute_start = 0;
  if (const std::optional<rules::time_ns> t = canonical_rfc3339(text, minute_start)) return t;
  return general_rfc3339(text);
}

std::optional<rules::time_ns> rfc3339_converter::operator()(std::string_view text) noexcept {
  const std::size_t n = text.size();
  if (n >= 20 && n <= 30 && text[n - 1] == 'Z' && text[16] == ':') {
    for (const minute& m : minutes_) {
      // A remembered minute passed canonical_rfc3339(): its date, hour and minute are valid.
      if (m.known && std::memcmp(m.text, text.data(), sizeof m.text) == 0) {
        rules::time_ns in_minute = 0;
        if (!seconds_in_minute(text, in_minute)) break;  // the general way decides
        return m.start + in_minute;
      }
    }
  }
  rules::time_ns minute_start = 0;
  if (const std::optional<rules::time_ns> t = canonical_rfc3339(text, minute_start)) {
    minute& m = minutes_[next_];
    next_ ^= 1u;
    std::memcpy(m.text, text.data(), sizeof m.text);
    m.start = minute_start;
    m.known = true;
    return t;
  }
  return general_rfc3339(text);
}

std::optional<rules::time_ns> time_from_ms(std::int64_t ms) noexcept {
  if (ms < k_earliest_ms || ms >= k_latest_ms) return std::nullopt;
  return ms * rules::k_ns_per_ms;
}

std::optional<rules::time_ns> time_from_ms(double ms) noexcept {
  return scale_fractional(ms, rules::k_ns_per_ms, k_earliest_ms, k_latest_ms);
}

std::optional<rules::time_ns> time_from_seconds(std::int64_t s) noexcept {
  if (s < k_earliest_s || s >= k_latest_s) return std::nullopt;
  return s * rules::k_ns_per_s;
}

std::optional<rules::time_ns> time_from_seconds(double s) noexcept {
  return scale_fractional(s, rules::k_ns_per_s, k_earliest_s, k_latest_s);
}

parse_error wrong_root(od::document& doc) noexcept {
  od::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) return parse_error::invalid_json;
  // Walk the whole value with the getter for its type: a scalar getter checks the token, and
  // consuming a container checks that its brackets balance.
  simdjson::error_code e = simdjson::SUCCESS;
  std::string_view text;
  switch (type) {
    case od::json_type::array: {
      od::array a;
      e = doc.get_array().get(a);
      if (e == simdjson::SUCCESS) e = a.raw_json().get(text);
      break;
    }
    case od::json_type::object: {
      od::object o;
      e = doc.get_object().get(o);
      if (e == simdjson::SUCCESS) e = o.raw_json().get(text);
      break;
    }
    case od::json_type::number: {
      double d = 0;
      e = doc.get_double().get(d);
      break;
    }
    case od::json_type::string:
      e = doc.get_string().get(text);
      break;
    case od::json_type::boolean:
    case od::json_type::null: {
      // Compare the whole token: the root getters accept "nulls" or "truex" in simdjson 3.0.1.
      e = doc.raw_json_token().get(text);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                               text.back() == '\r')) {
        text.remove_suffix(1);
      }
      if (e == simdjson::SUCCESS && text != "null" && text != "true" && text != "false") {
        e = simdjson::INCORRECT_TYPE;
      }
      if (e == simdjson::SUCCESS) {  // the token is good: now consume it
        bool unused = false;
        e = type == od::json_type::null ? doc.is_null().get(unused) : doc.get_bool().get(unused);
      }
      break;
    }
  }
  if (e != simdjson::SUCCESS) return parse_error::invalid_json;
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return parse_error::invalid_json;
  return parse_error::unexpected_shape;
}

bool read_id_text(od::value& v, std::string& out) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type == od::json_type::string) return read_string(v, out);
  if (type != od::json_type::number) return false;
  // Integers only: a float id would print differently from the vendor's text.
  char buf[24];
  std::to_chars_result r{};
  std::int64_t i = 0;
  std::uint64_t u = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    r = std::to_chars(buf, buf + sizeof buf, i);
  } else if (v.get_uint64().get(u) == simdjson::SUCCESS) {
    r = std::to_chars(buf, buf + sizeof buf, u);
  } else {
    return false;
  }
  out.assign(buf, r.ptr);
  return true;
}

bool parse_decimal(std::string_view text, double& out) noexcept {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  return ec == std::errc{} && ptr == end;
}

bool parse_integer(std::string_view text, std::int64_t& out) noexcept {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool read_decimal(od::value& v, double& out) noexcept {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type == od::json_type::number) return read_double(v, out);
  std::string_view s;
  if (type != od::json_type::string || v.get_string().get(s) != simdjson::SUCCESS) return false;
  return parse_decimal(s, out);
}

bool read_ms_time(od::value& v, rules::time_ns& out) noexcept {
  std::optional<rules::time_ns> t;
  std::int64_t i = 0;
  double d = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    t = time_from_ms(i);
  } else if (v.get_double().get(d) == simdjson::SUCCESS) {
    t = time_from_ms(d);
  }
  if (!t) return false;
  out = *t;
  return true;
}

bool read_seconds_time(od::value& v, rules::time_ns& out) noexcept {
  std::optional<rules::time_ns> t;
  std::int64_t i = 0;
  double d = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    t = time_from_seconds(i);
  } else if (v.get_double().get(d) == simdjson::SUCCESS) {
    t = time_from_seconds(d);
  }
  if (!t) return false;
  out = *t;
  return true;
}

bool read_rfc3339_time(od::value& v, rules::time_ns& out) noexcept {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  const std::optional<rules::time_ns> t = time_from_rfc3339(s);
  if (!t) return false;
  out = *t;
  return true;
}

bool read_rfc3339_time(od::value& v, rules::time_ns& out, rfc3339_converter& convert) noexcept {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  const std::optional<rules::time_ns> t = convert(s);
  if (!t) return false;
  out = *t;
  return true;
}

bool read_flexible_time(od::value& v, rules::time_ns& out) noexcept {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type == od::json_type::string) return read_rfc3339_time(v, out);
  if (type == od::json_type::number) return read_ms_time(v, out);
  return false;
}

parse_error read_string_array(od::value& v, std::vector<std::string>& out) {
  out.clear();
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return parse_error::bad_value;
  if (type == od::json_type::null) return parse_error::none;
  if (type != od::json_type::array) return parse_error::bad_value;
  od::array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) return parse_error::invalid_json;
  parse_error result = parse_error::none;
  for (auto element : arr) {
    od::value ev;
    if (std::move(element).get(ev) != simdjson::SUCCESS) return parse_error::invalid_json;
    std::string_view s;
    if (ev.get_string().get(s) != simdjson::SUCCESS) {
      result = parse_error::bad_value;  // keep going: the array must still be walked to its end
      continue;
    }
    out.emplace_back(s);
  }
  return result;
}

bool valid_bar(const rules::bar& b) noexcept {
  return valid_symbol(b.symbol) &&
         valid_bar_values(b.open, b.high, b.low, b.close, b.volume, b.start, b.end);
}

bool split_symbols(std::string_view list, std::vector<std::string>& out) {
  out.clear();
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view piece = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!piece.empty() && (piece.front() == ' ' || piece.front() == '\t'))
      piece.remove_prefix(1);
    while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\t')) piece.remove_suffix(1);
    if (piece.empty()) continue;  // "AAPL,,MSFT" or a trailing comma: nothing to tag
    if (!valid_symbol(piece)) return false;
    out.emplace_back(piece);
  }
  return true;
}

}  // namespace aftershock::feeds::detail
