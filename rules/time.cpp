#include "rules/time.h"

#include <array>
#include <charconv>
#include <cstdio>

namespace aftershock::rules {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

unsigned weekday_from_days(std::int64_t z) noexcept {
  return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

namespace {

bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) noexcept {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<time_ns> parse_rfc3339(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20) return std::nullopt;
  if (!read_digits(s, 0, 4, year) || s[4] != '-' || !read_digits(s, 5, 2, month) || s[7] != '-' ||
      !read_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !read_digits(s, 11, 2, hour) || s[13] != ':' || !read_digits(s, 14, 2, minute) ||
      s[16] != ':' || !read_digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  static constexpr unsigned k_days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > k_days_in_month[month - 1] || (month == 2 && day == 29 && !leap)) return std::nullopt;
  // int64 nanoseconds cover 1678..2261; outside that the arithmetic would overflow.
  if (year < 1678 || year > 2261) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        frac_ns = frac_ns * 10 + (s[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    // RFC 3339 allows any number of digits; nanoseconds keep nine and drop the rest.
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 9; ++i) frac_ns *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    unsigned oh = 0, om = 0;
    if (!read_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !read_digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (s[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(year, month, day);
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * k_ns_per_s + frac_ns;
}

namespace {

std::string format_common(time_ns t, bool with_ms) {
  std::int64_t secs = t / k_ns_per_s;
  std::int64_t rem = t % k_ns_per_s;
  if (rem < 0) {
    rem += k_ns_per_s;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const civil_date cd = civil_from_days(days);
  std::array<char, 40> buf{};
  int n = 0;
  if (with_ms) {
    n = std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                      static_cast<long long>(cd.year), cd.month, cd.day,
                      static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                      static_cast<long long>(sod % 60),
                      static_cast<long long>(rem / k_ns_per_ms));
  } else {
    n = std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                      static_cast<long long>(cd.year), cd.month, cd.day,
                      static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                      static_cast<long long>(sod % 60));
  }
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace

std::string format_rfc3339_ms(time_ns t) { return format_common(t, true); }
std::string format_rfc3339_s(time_ns t) { return format_common(t, false); }

std::optional<time_ns> parse_duration(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || value < 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(s.data() + s.size() - ptr));
  time_ns scale = 0;
  if (unit == "ms") scale = k_ns_per_ms;
  else if (unit == "s") scale = k_ns_per_s;
  else if (unit == "m" || unit == "min") scale = k_ns_per_min;
  else if (unit == "h") scale = k_ns_per_hour;
  else if (unit == "d") scale = k_ns_per_day;
  else return std::nullopt;
  if (value > INT64_MAX / scale) return std::nullopt;
  return value * scale;
}

std::string format_duration(time_ns d) {
  struct unit { time_ns ns; const char* name; };
  static constexpr std::array<unit, 5> units{{{k_ns_per_day, "d"}, {k_ns_per_hour, "h"},
                                              {k_ns_per_min, "m"}, {k_ns_per_s, "s"},
                                              {k_ns_per_ms, "ms"}}};
  for (const auto& u : units) {
    if (d != 0 && d % u.ns == 0) return std::to_string(d / u.ns) + u.name;
  }
  return std::to_string(d / k_ns_per_ms) + "ms";
}

}  // namespace aftershock::rules
