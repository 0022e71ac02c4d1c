#include "rules/exchange_calendar.h"

#include <gtest/gtest.h>

#include "rules/time_zone.h"

namespace aftershock::rules {
namespace {

time_ns at(const char* s) { return *parse_rfc3339(s); }

TEST(posix_time_zone, new_york_daylight_saving) {
  auto tz = posix_time_zone::parse("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->utc_offset(at("2025-01-27T14:30:00Z")), -5 * 3600);
  EXPECT_EQ(tz->abbreviation(at("2025-01-27T14:30:00Z")), "EST");
  // 2025: DST from Sunday 9 March 02:00 EST (07:00Z) to Sunday 2 November 02:00 EDT (06:00Z).
  EXPECT_EQ(tz->utc_offset(at("2025-03-09T06:59:59Z")), -5 * 3600);
  EXPECT_EQ(tz->utc_offset(at("2025-03-09T07:00:00Z")), -4 * 3600);
  EXPECT_EQ(tz->utc_offset(at("2025-11-02T05:59:59Z")), -4 * 3600);
  EXPECT_EQ(tz->utc_offset(at("2025-11-02T06:00:00Z")), -5 * 3600);
  EXPECT_EQ(tz->abbreviation(at("2025-07-01T12:00:00Z")), "EDT");
}

TEST(posix_time_zone, paris_switches_at_01_utc_on_last_sundays) {
  auto tz = posix_time_zone::parse("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->utc_offset(at("2025-03-30T00:59:59Z")), 3600);
  EXPECT_EQ(tz->utc_offset(at("2025-03-30T01:00:00Z")), 7200);
  EXPECT_EQ(tz->utc_offset(at("2025-10-26T00:59:59Z")), 7200);
  EXPECT_EQ(tz->utc_offset(at("2025-10-26T01:00:00Z")), 3600);
}

TEST(posix_time_zone, fixed_offsets_and_errors) {
  EXPECT_EQ(posix_time_zone::parse("JST-9")->utc_offset(at("2025-01-27T00:00:00Z")), 9 * 3600);
  EXPECT_EQ(posix_time_zone::parse("<+0530>-5:30")->utc_offset(0), 5 * 3600 + 1800);
  std::string why;
  EXPECT_FALSE(posix_time_zone::parse("", &why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(posix_time_zone::parse("EST"));
  EXPECT_FALSE(posix_time_zone::parse("EST5EDT,M13.2.0,M11.1.0"));
  EXPECT_FALSE(posix_time_zone::parse("EST5EDT,J60,J300"));
}

exchange_calendar us_calendar() {
  exchange_spec spec;
  spec.mic = "XNAS";
  spec.pre_market = {{4 * 60, 9 * 60 + 30}};
  spec.regular = {{9 * 60 + 30, 16 * 60}};
  spec.after_hours = {{16 * 60, 20 * 60}};
  spec.holidays.insert(days_from_civil(2025, 1, 20));
  spec.early_closes[days_from_civil(2025, 7, 3)] = 13 * 60;
  return exchange_calendar(spec, *posix_time_zone::parse("EST5EDT,M3.2.0,M11.1.0"));
}

TEST(exchange_calendar, us_sessions_in_local_time) {
  const auto cal = us_calendar();
  EXPECT_EQ(cal.session_at(at("2025-01-27T09:00:00Z")), session_kind::pre_market);
  EXPECT_EQ(cal.session_at(at("2025-01-27T14:29:59Z")), session_kind::pre_market);
  EXPECT_EQ(cal.session_at(at("2025-01-27T14:30:00Z")), session_kind::regular);
  EXPECT_EQ(cal.session_at(at("2025-01-27T20:59:59Z")), session_kind::regular);
  EXPECT_EQ(cal.session_at(at("2025-01-27T21:00:00Z")), session_kind::after_hours);
  EXPECT_EQ(cal.session_at(at("2025-01-28T01:00:00Z")), session_kind::closed);
  // Summer: the same local hours are an hour earlier in UTC.
  EXPECT_EQ(cal.session_at(at("2025-06-02T13:30:00Z")), session_kind::regular);
  // Weekend and holiday.
  EXPECT_EQ(cal.session_at(at("2025-01-25T15:00:00Z")), session_kind::closed);
  EXPECT_EQ(cal.session_at(at("2025-01-20T15:00:00Z")), session_kind::closed);
  // Early close at 13:00 local.
  EXPECT_EQ(cal.session_at(at("2025-07-03T16:59:00Z")), session_kind::regular);
  EXPECT_NE(cal.session_at(at("2025-07-03T17:01:00Z")), session_kind::regular);
}

TEST(exchange_calendar, local_day_follows_the_exchange_zone) {
  const auto cal = us_calendar();
  // 02:00Z on the 28th is still the 27th in New York.
  EXPECT_EQ(cal.local_day(at("2025-01-28T02:00:00Z")), days_from_civil(2025, 1, 27));
  EXPECT_EQ(cal.local_minute(at("2025-01-27T14:30:00Z")), 9 * 60 + 30);
  EXPECT_EQ(cal.regular_open(days_from_civil(2025, 1, 27)), at("2025-01-27T14:30:00Z"));
  EXPECT_TRUE(cal.is_trading_day(days_from_civil(2025, 1, 27)));
  EXPECT_FALSE(cal.is_trading_day(days_from_civil(2025, 1, 26)));
}

TEST(exchange_calendar, lunch_breaks) {
  exchange_spec spec;
  spec.mic = "XSHE";
  spec.regular = {{9 * 60 + 30, 11 * 60 + 30}, {13 * 60, 15 * 60}};
  const exchange_calendar cal(spec, *posix_time_zone::parse("CST-8"));
  EXPECT_EQ(cal.session_at(at("2025-01-27T01:30:00Z")), session_kind::regular);
  EXPECT_EQ(cal.session_at(at("2025-01-27T04:00:00Z")), session_kind::closed);
  EXPECT_EQ(cal.session_at(at("2025-01-27T06:59:00Z")), session_kind::regular);
}

}  // namespace
}  // namespace aftershock::rules
