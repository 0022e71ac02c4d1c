#include "feedsim/pacer.h"

#include <gtest/gtest.h>

namespace aftershock::feedsim {
namespace {

constexpr rules::time_ns s = rules::k_ns_per_s;
constexpr rules::time_ns t0 = 1'737'988'200 * s;

TEST(ParseSpeed, FactorsAndMax) {
  EXPECT_TRUE(parse_speed("max")->as_fast_as_possible);
  EXPECT_EQ(parse_speed("1")->speed, 1.0);
  EXPECT_EQ(parse_speed("60")->speed, 60.0);
  EXPECT_EQ(parse_speed("0.5")->speed, 0.5);
  EXPECT_EQ(parse_speed("10x")->speed, 10.0);
  EXPECT_FALSE(parse_speed("0"));
  EXPECT_FALSE(parse_speed("-2"));
  EXPECT_FALSE(parse_speed("fast"));
  EXPECT_FALSE(parse_speed(""));
}

TEST(Pacer, RealTimeFollowsTheCaptureSpacing) {
  pacer p(pacing{});
  EXPECT_EQ(p.due(t0), 0);
  EXPECT_EQ(p.due(t0 + s / 2), s / 2);
  EXPECT_EQ(p.due(t0 + 3 * s), 3 * s);
}

TEST(Pacer, SpeedFactorScales) {
  pacing fast;
  fast.speed = 60;
  pacer p(fast);
  p.due(t0);
  EXPECT_EQ(p.due(t0 + 60 * s), s);
  EXPECT_EQ(p.due(t0 + 3600 * s), 60 * s);
}

TEST(Pacer, MaxIsAlwaysDueNow) {
  pacing max;
  max.as_fast_as_possible = true;
  pacer p(max);
  EXPECT_EQ(p.due(t0), 0);
  EXPECT_EQ(p.due(t0 + 3600 * s), 0);
  EXPECT_EQ(p.compressed_elapsed(), 3600 * s);
}

TEST(Pacer, MaxGapCompressesSilences) {
  pacing compressed;
  compressed.max_gap = 2 * s;
  pacer p(compressed);
  p.due(t0);
  EXPECT_EQ(p.due(t0 + s), s);                     // short gaps kept
  EXPECT_EQ(p.due(t0 + s + 17 * 3600 * s), 3 * s);  // a night: 2 s
  EXPECT_EQ(p.due(t0 + s + 17 * 3600 * s + s / 2), 3 * s + s / 2);
  EXPECT_EQ(p.skipped(), 17 * 3600 * s - 2 * s);
}

TEST(Pacer, CaptureSteppingBackDoesNotWaitOrRewind) {
  pacer p(pacing{});
  p.due(t0);
  EXPECT_EQ(p.due(t0 + 2 * s), 2 * s);
  EXPECT_EQ(p.due(t0 + s), 2 * s);  // out of order: due with the previous frame
  EXPECT_EQ(p.due(t0 + 3 * s), 3 * s);  // measured from the latest time seen
}

TEST(Pacer, AThreeDayCaptureInAboutAMinute) {
  // The DeepSeek capture spans Jan 24 06:50 to Jan 27 21:00: with speed 60 and silences over
  // a minute of capture time compressed, three days of nights and a weekend disappear.
  pacing p;
  p.speed = 60;
  p.max_gap = 60 * s;
  pacer pace(p);
  const rules::time_ns friday = 1'737'701'400 * s;  // 2025-01-24T06:50:00Z
  pace.due(friday);
  // One frame a minute for an hour (60 frames), then nothing until Monday, then an hour more.
  rules::time_ns at = friday;
  for (int i = 0; i < 60; ++i) pace.due(at += 60 * s);
  at = friday + 3 * rules::k_ns_per_day;
  pace.due(at);
  for (int i = 0; i < 60; ++i) pace.due(at += 60 * s);
  EXPECT_EQ(pace.compressed_elapsed(), 121 * 60 * s);
  EXPECT_EQ(pace.due(at), 121 * s);  // two hours of trading in two minutes
}

}  // namespace
}  // namespace aftershock::feedsim
