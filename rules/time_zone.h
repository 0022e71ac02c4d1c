// A time zone as a POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3",
// "CST-8"): enough to turn market time into exchange-local time with daylight saving, kept as
// data in the exchange calendars rather than read from the host's zoneinfo. Immutable after
// parsing; thread-safe for concurrent reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rules/time.h"

namespace aftershock::rules {

class posix_time_zone {
 public:
  /// Parses a POSIX TZ string; nullopt (and a reason in *why) if malformed.
  static std::optional<posix_time_zone> parse(std::string_view rule, std::string* why = nullptr);

  /// Offset from UTC in seconds (east positive) in force at UTC instant t.
  std::int32_t utc_offset(time_ns t) const noexcept;

  /// Abbreviation in force at t ("EST", "EDT", "CET").
  const std::string& abbreviation(time_ns t) const noexcept;

  const std::string& rule() const noexcept { return rule_; }

 private:
  // A transition date: month (1-12), week (1-5, 5 = last), weekday (0 = Sunday) at a local time.
  struct transition_rule {
    unsigned month = 0, week = 0, weekday = 0;
    std::int32_t local_seconds = 7200;
  };
  std::int64_t transition_utc_seconds(std::int64_t year, const transition_rule& r,
                                      std::int32_t offset_before) const noexcept;

  std::string rule_;
  std::string std_name_, dst_name_;
  std::int32_t std_offset_ = 0;  // east positive
  std::int32_t dst_offset_ = 0;
  bool has_dst_ = false;
  transition_rule dst_start_, dst_end_;
};

}  // namespace aftershock::rules
