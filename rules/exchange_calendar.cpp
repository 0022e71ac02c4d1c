#include "rules/exchange_calendar.h"

#include <algorithm>

namespace aftershock::rules {

const char* to_string(session_kind s) noexcept {
  switch (s) {
    case session_kind::closed: return "closed";
    case session_kind::pre_market: return "pre_market";
    case session_kind::regular: return "regular";
    case session_kind::after_hours: return "after_hours";
  }
  return "closed";
}

exchange_calendar::exchange_calendar(exchange_spec spec, posix_time_zone tz)
    : spec_(std::move(spec)), tz_(std::move(tz)) {}

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

bool in_windows(const std::vector<session_window>& windows, int minute, int close_cap) {
  return std::any_of(windows.begin(), windows.end(), [&](const session_window& w) {
    return minute >= w.start_minute && minute < std::min(w.end_minute, close_cap);
  });
}

}  // namespace

std::int64_t exchange_calendar::local_day(time_ns t) const noexcept {
  const std::int64_t local_s = floor_div(t, k_ns_per_s) + tz_.utc_offset(t);
  return floor_div(local_s, 86400);
}

int exchange_calendar::local_minute(time_ns t) const noexcept {
  const std::int64_t local_s = floor_div(t, k_ns_per_s) + tz_.utc_offset(t);
  return static_cast<int>((local_s - floor_div(local_s, 86400) * 86400) / 60);
}

bool exchange_calendar::is_trading_day(std::int64_t day) const noexcept {
  const unsigned wd = weekday_from_days(day);
  if (std::find(spec_.weekend.begin(), spec_.weekend.end(), wd) != spec_.weekend.end()) {
    return false;
  }
  return spec_.holidays.count(day) == 0;
}

session_kind exchange_calendar::session_at(time_ns t) const noexcept {
  const std::int64_t day = local_day(t);
  if (!is_trading_day(day)) return session_kind::closed;
  const int minute = local_minute(t);
  const auto early = spec_.early_closes.find(day);
  const int close_cap = early == spec_.early_closes.end() ? 24 * 60 : early->second;
  if (in_windows(spec_.regular, minute, close_cap)) return session_kind::regular;
  if (in_windows(spec_.pre_market, minute, 24 * 60)) return session_kind::pre_market;
  if (in_windows(spec_.after_hours, minute, close_cap == 24 * 60 ? 24 * 60 : close_cap + 240)) {
    return session_kind::after_hours;
  }
  return session_kind::closed;
}

time_ns exchange_calendar::regular_open(std::int64_t day) const noexcept {
  const int open = spec_.regular.empty() ? 0 : spec_.regular.front().start_minute;
  // Local midnight + open, converted with the offset in force around that time.
  const std::int64_t local_s = day * 86400 + open * 60;
  const std::int32_t guess = tz_.utc_offset(local_s * k_ns_per_s);
  const std::int64_t utc_s = local_s - guess;
  const std::int32_t offset = tz_.utc_offset(utc_s * k_ns_per_s);
  return (local_s - offset) * k_ns_per_s;
}

}  // namespace aftershock::rules
