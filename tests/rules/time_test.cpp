#include "rules/time.h"

#include <gtest/gtest.h>

namespace aftershock::rules {
namespace {

TEST(time, parses_rfc3339_with_0_to_9_fraction_digits) {
  const time_ns base = *parse_rfc3339("2025-01-27T14:30:00Z");
  EXPECT_EQ(base, 1737988200LL * k_ns_per_s);
  EXPECT_EQ(*parse_rfc3339("2025-01-27T14:30:00.2Z"), base + 200'000'000);
  EXPECT_EQ(*parse_rfc3339("2025-01-27T14:30:00.208Z"), base + 208'000'000);
  EXPECT_EQ(*parse_rfc3339("2025-01-27T14:30:00.83540958Z"), base + 835'409'580);
  EXPECT_EQ(*parse_rfc3339("2025-01-27T14:30:00.123456789Z"), base + 123'456'789);
  // Beyond nanoseconds the extra digits are dropped, not rounded into the seconds.
  EXPECT_EQ(*parse_rfc3339("2025-01-27T14:30:00.1234567891Z"), base + 123'456'789);
}

TEST(time, accepts_leap_days) {
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z").has_value());
}

TEST(time, parses_offsets) {
  EXPECT_EQ(*parse_rfc3339("2025-01-27T22:30:00+08:00"), *parse_rfc3339("2025-01-27T14:30:00Z"));
  EXPECT_EQ(*parse_rfc3339("2025-01-27T09:30:00-05:00"), *parse_rfc3339("2025-01-27T14:30:00Z"));
}

TEST(time, rejects_malformed_times) {
  for (const char* bad : {"", "2025-01-27", "2025-01-27T14:30:00", "2025-13-27T14:30:00Z",
                          "2025-01-27T24:30:00Z", "2025-01-27T14:30:00.Z", "2025-01-27T14:30Z",
                          "2025-01-27T14:30:00Zjunk", "2025/01/27T14:30:00Z",
                          "2025-01-27T14:30:00+0800", "2025-02-31T00:00:00Z",
                          "2025-02-29T00:00:00Z", "9999-12-31T23:59:59Z", "1600-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(time, formats_round_trip) {
  const time_ns t = *parse_rfc3339("2025-01-27T14:30:00.040Z");
  EXPECT_EQ(format_rfc3339_ms(t), "2025-01-27T14:30:00.040Z");
  EXPECT_EQ(format_rfc3339_s(t), "2025-01-27T14:30:00Z");
  EXPECT_EQ(format_rfc3339_s(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_s(-k_ns_per_s), "1969-12-31T23:59:59Z");
}

TEST(time, civil_dates_and_weekdays) {
  const std::int64_t d = days_from_civil(2025, 1, 27);
  EXPECT_EQ(weekday_from_days(d), 1u);  // a Monday
  EXPECT_EQ(civil_from_days(d), (civil_date{2025, 1, 27}));
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(weekday_from_days(0), 4u);  // Thursday
  EXPECT_EQ(civil_from_days(days_from_civil(2024, 2, 29)), (civil_date{2024, 2, 29}));
}

TEST(time, durations) {
  EXPECT_EQ(*parse_duration("15m"), 15 * k_ns_per_min);
  EXPECT_EQ(*parse_duration("72h"), 72 * k_ns_per_hour);
  EXPECT_EQ(*parse_duration("500ms"), 500 * k_ns_per_ms);
  EXPECT_EQ(*parse_duration("2d"), 2 * k_ns_per_day);
  EXPECT_FALSE(parse_duration("15").has_value());
  EXPECT_FALSE(parse_duration("m").has_value());
  EXPECT_FALSE(parse_duration("-5m").has_value());
  EXPECT_FALSE(parse_duration("99999999999999999999h").has_value());
  EXPECT_EQ(format_duration(15 * k_ns_per_min), "15m");
  EXPECT_EQ(format_duration(90 * k_ns_per_s), "90s");
  EXPECT_EQ(format_duration(72 * k_ns_per_hour), "3d");
}

}  // namespace
}  // namespace aftershock::rules
