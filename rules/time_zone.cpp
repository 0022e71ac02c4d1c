#include "rules/time_zone.h"

#include <cctype>

namespace aftershock::rules {

namespace {

struct cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
};

bool parse_name(cursor& c, std::string& out) {
  if (c.peek() == '<') {
    const std::size_t close = c.s.find('>', c.i);
    if (close == std::string_view::npos) return false;
    out = std::string(c.s.substr(c.i + 1, close - c.i - 1));
    c.i = close + 1;
    return out.size() >= 1;
  }
  const std::size_t start = c.i;
  while (!c.done() && std::isalpha(static_cast<unsigned char>(c.peek()))) ++c.i;
  out = std::string(c.s.substr(start, c.i - start));
  return out.size() >= 3;
}

bool parse_number(cursor& c, int& out, int max_digits) {
  int v = 0, digits = 0;
  while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek())) && digits < max_digits) {
    v = v * 10 + (c.peek() - '0');
    ++c.i;
    ++digits;
  }
  out = v;
  return digits > 0;
}

// hh[:mm[:ss]] with optional sign; returns seconds.
bool parse_hms(cursor& c, std::int32_t& seconds) {
  int sign = 1;
  if (c.peek() == '+' || c.peek() == '-') {
    sign = c.peek() == '-' ? -1 : 1;
    ++c.i;
  }
  int h = 0, m = 0, s = 0;
  if (!parse_number(c, h, 3)) return false;
  if (c.peek() == ':') {
    ++c.i;
    if (!parse_number(c, m, 2)) return false;
    if (c.peek() == ':') {
      ++c.i;
      if (!parse_number(c, s, 2)) return false;
    }
  }
  if (h > 167 || m > 59 || s > 59) return false;
  seconds = sign * (h * 3600 + m * 60 + s);
  return true;
}

}  // namespace

std::optional<posix_time_zone> posix_time_zone::parse(std::string_view rule, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<posix_time_zone> {
    if (why) *why = reason;
    return std::nullopt;
  };
  posix_time_zone tz;
  tz.rule_ = std::string(rule);
  cursor c{rule};
  if (!parse_name(c, tz.std_name_)) return fail("expected a standard-time name such as EST");
  std::int32_t west = 0;
  if (!parse_hms(c, west)) return fail("expected a UTC offset after the standard-time name");
  tz.std_offset_ = -west;  // POSIX offsets are positive west of Greenwich
  if (c.done()) return tz;
  if (!parse_name(c, tz.dst_name_)) return fail("expected a daylight-time name such as EDT");
  tz.has_dst_ = true;
  tz.dst_offset_ = tz.std_offset_ + 3600;
  if (!c.done() && c.peek() != ',') {
    if (!parse_hms(c, west)) return fail("bad daylight-time offset");
    tz.dst_offset_ = -west;
  }
  auto parse_rule = [&](transition_rule& r) {
    if (c.peek() != ',') return false;
    ++c.i;
    if (c.peek() != 'M') return false;  // only the Mm.w.d form is used by exchanges we know
    ++c.i;
    int m = 0, w = 0, d = 0;
    if (!parse_number(c, m, 2) || c.peek() != '.') return false;
    ++c.i;
    if (!parse_number(c, w, 1) || c.peek() != '.') return false;
    ++c.i;
    if (!parse_number(c, d, 1)) return false;
    if (m < 1 || m > 12 || w < 1 || w > 5 || d > 6) return false;
    r.month = static_cast<unsigned>(m);
    r.week = static_cast<unsigned>(w);
    r.weekday = static_cast<unsigned>(d);
    r.local_seconds = 7200;
    if (c.peek() == '/') {
      ++c.i;
      if (!parse_hms(c, r.local_seconds)) return false;
    }
    return true;
  };
  if (!parse_rule(tz.dst_start_)) return fail("expected ,Mm.w.d[/time] for the daylight-time start");
  if (!parse_rule(tz.dst_end_)) return fail("expected ,Mm.w.d[/time] for the daylight-time end");
  if (!c.done()) return fail("unexpected text after the rule");
  return tz;
}

std::int64_t posix_time_zone::transition_utc_seconds(std::int64_t year, const transition_rule& r,
                                                     std::int32_t offset_before) const noexcept {
  const std::int64_t first = days_from_civil(year, r.month, 1);
  const unsigned wd_first = weekday_from_days(first);
  std::int64_t day = first + static_cast<std::int64_t>((r.weekday + 7 - wd_first) % 7);
  day += 7 * static_cast<std::int64_t>(r.week - 1);
  const unsigned next_month = r.month == 12 ? 1 : r.month + 1;
  const std::int64_t next_first = days_from_civil(r.month == 12 ? year + 1 : year, next_month, 1);
  while (day >= next_first) day -= 7;  // week 5 means "last"
  return day * 86400 + r.local_seconds - offset_before;
}

std::int32_t posix_time_zone::utc_offset(time_ns t) const noexcept {
  if (!has_dst_) return std_offset_;
  std::int64_t secs = t / k_ns_per_s;
  if (t < 0 && t % k_ns_per_s != 0) --secs;
  std::int64_t local_days = (secs + std_offset_) / 86400;
  if ((secs + std_offset_) < 0 && (secs + std_offset_) % 86400 != 0) --local_days;
  const std::int64_t year = civil_from_days(local_days).year;
  const std::int64_t start = transition_utc_seconds(year, dst_start_, std_offset_);
  const std::int64_t end = transition_utc_seconds(year, dst_end_, dst_offset_);
  const bool in_dst = start < end ? (secs >= start && secs < end) : !(secs >= end && secs < start);
  return in_dst ? dst_offset_ : std_offset_;
}

const std::string& posix_time_zone::abbreviation(time_ns t) const noexcept {
  return has_dst_ && utc_offset(t) == dst_offset_ ? dst_name_ : std_name_;
}

}  // namespace aftershock::rules
