// Market time: nanoseconds since the Unix epoch, UTC, as carried by every event.
// Pure functions, no clock reads; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aftershock::rules {

/// Nanoseconds since 1970-01-01T00:00:00Z. Events carry this; rules read time only from events.
using time_ns = std::int64_t;

inline constexpr time_ns k_ns_per_ms = 1'000'000;
inline constexpr time_ns k_ns_per_s = 1'000'000'000;
inline constexpr time_ns k_ns_per_min = 60 * k_ns_per_s;
inline constexpr time_ns k_ns_per_hour = 60 * k_ns_per_min;
inline constexpr time_ns k_ns_per_day = 24 * k_ns_per_hour;

/// Days since 1970-01-01 for a proleptic Gregorian civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept;

struct civil_date {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
  friend bool operator==(const civil_date&, const civil_date&) = default;
};
civil_date civil_from_days(std::int64_t days) noexcept;

/// 0 = Sunday ... 6 = Saturday.
unsigned weekday_from_days(std::int64_t days) noexcept;

/// Parses RFC 3339 / ISO 8601 date-times such as "2025-01-27T14:30:00Z",
/// "2025-01-27T14:30:00.123456789Z" (0 to 9 fractional digits) or "...+08:00".
/// Returns nullopt on anything malformed (never throws).
std::optional<time_ns> parse_rfc3339(std::string_view text) noexcept;

/// Formats as RFC 3339 UTC with millisecond precision: "2025-01-27T14:30:00.040Z".
std::string format_rfc3339_ms(time_ns t);

/// Formats as RFC 3339 UTC with seconds precision: "2025-01-27T14:30:00Z".
std::string format_rfc3339_s(time_ns t);

/// Parses a duration such as "90s", "15m", "72h", "2d", "500ms". Returns nullopt if malformed.
std::optional<time_ns> parse_duration(std::string_view text) noexcept;

/// Formats a duration the way parse_duration reads it, choosing the largest exact unit ("15m").
std::string format_duration(time_ns d);

}  // namespace aftershock::rules
