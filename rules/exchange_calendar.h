// An exchange's trading calendar: its time zone, its sessions in local time, holidays and half
// days, all from configuration data. Answers "which trading day and which session is this
// market time in", so previous closes and session-limited rules follow the exchange, not UTC.
// Immutable after construction; thread-safe for concurrent reads.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rules/time.h"
#include "rules/time_zone.h"

namespace aftershock::rules {

enum class session_kind : std::uint8_t { closed, pre_market, regular, after_hours };
const char* to_string(session_kind s) noexcept;

/// [start, end) in minutes after local midnight; end may be 1440.
struct session_window {
  int start_minute = 0;
  int end_minute = 0;
};

struct exchange_spec {
  std::string mic;                           // "XNYS"
  std::string time_zone;                     // IANA name for display: "America/New_York"
  std::string tz_rule;                       // POSIX TZ: "EST5EDT,M3.2.0,M11.1.0"
  std::vector<std::string> suffixes;         // symbol suffixes that place a symbol here: ".PA"
  std::vector<session_window> pre_market;
  std::vector<session_window> regular;       // several windows for a lunch break (XSHE, XTKS)
  std::vector<session_window> after_hours;
  std::set<std::int64_t> holidays;           // local dates, days since 1970-01-01
  std::map<std::int64_t, int> early_closes;  // local date -> regular close minute
  std::vector<unsigned> weekend{0, 6};       // weekdays with no trading (0 = Sunday)
};

class exchange_calendar {
 public:
  exchange_calendar(exchange_spec spec, posix_time_zone tz);

  const exchange_spec& spec() const noexcept { return spec_; }
  const posix_time_zone& zone() const noexcept { return tz_; }

  /// Local calendar date of t (days since 1970-01-01).
  std::int64_t local_day(time_ns t) const noexcept;
  /// Minutes after local midnight of t.
  int local_minute(time_ns t) const noexcept;

  bool is_trading_day(std::int64_t local_day) const noexcept;
  session_kind session_at(time_ns t) const noexcept;

  /// UTC instant of the regular session's open on a local day (first regular window start).
  time_ns regular_open(std::int64_t local_day) const noexcept;

 private:
  exchange_spec spec_;
  posix_time_zone tz_;
};

}  // namespace aftershock::rules
