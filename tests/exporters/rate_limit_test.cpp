#include "exporters/rate_limit.h"

#include <gtest/gtest.h>

#include "rules/time.h"

namespace aftershock::exporters {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const steady_clock::time_point t0{};

TEST(token_bucket, starts_full_then_refills_at_rate) {
  token_bucket b(1.0, 2.0, t0);  // Slack-like: 1/s, burst 2
  EXPECT_EQ(b.wait_time(t0), steady_clock::duration::zero());
  b.take(t0);
  EXPECT_EQ(b.wait_time(t0), steady_clock::duration::zero());
  b.take(t0);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(b.wait_time(t0)), 1000ms);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(b.wait_time(t0 + 400ms)), 600ms);
  EXPECT_EQ(b.wait_time(t0 + 1s), steady_clock::duration::zero());
  b.take(t0 + 1s);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(b.wait_time(t0 + 1s)), 1000ms);
}

TEST(rate_limiter, telegram_group_has_a_per_minute_bucket_too) {
  rate_limiter l(destination_limits{10, 1.0, 1.0, 20}, t0);
  auto now = t0;
  for (int i = 0; i < 40; ++i) {
    now += l.wait_time(now);
    l.take(now);
  }
  // At 1/s the 20/min bucket runs dry after ~30 messages; then every message waits ~3 s.
  EXPECT_GT(l.wait_time(now), 1500ms);
  EXPECT_GT(now - t0, 45s);
}

TEST(rate_limiter, holds_until_the_server_says) {
  rate_limiter l(destination_limits{1, 0, 1, 0}, t0);
  EXPECT_EQ(l.wait_time(t0), steady_clock::duration::zero());
  l.hold_until(t0 + 2500ms);
  EXPECT_EQ(l.wait_time(t0 + 500ms), 2000ms);
  EXPECT_EQ(l.wait_time(t0 + 3s), steady_clock::duration::zero());
}

TEST(retry_after, header_seconds_fractions_and_http_dates) {
  const std::int64_t now = *rules::parse_rfc3339("2015-10-21T07:27:30Z");
  EXPECT_EQ(parse_retry_after_header("120", now), milliseconds(120000));
  EXPECT_EQ(parse_retry_after_header(" 1.5 ", now), milliseconds(1500));
  EXPECT_EQ(parse_retry_after_header("Wed, 21 Oct 2015 07:28:00 GMT", now), milliseconds(30000));
  EXPECT_EQ(parse_retry_after_header("Wed, 21 Oct 2015 07:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after_header("-5", now), milliseconds(0));
  EXPECT_FALSE(parse_retry_after_header("soon", now));
  EXPECT_FALSE(parse_retry_after_header("", now));
}

TEST(retry_after, bodies_of_discord_and_telegram) {
  // Discord: float seconds.
  EXPECT_EQ(parse_retry_after_body(
                R"({"message":"You are being rate limited.","retry_after":0.348,"global":false})"),
            milliseconds(348));
  // An old Discord API sent milliseconds as a whole number.
  EXPECT_EQ(
      parse_retry_after_body(R"({"message":"rate limited","retry_after":6457,"global":false})"),
      milliseconds(6457));
  // Telegram: parameters.retry_after in seconds.
  EXPECT_EQ(
      parse_retry_after_body(
          R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}})"),
      milliseconds(5000));
  // A key inside a string is not a key.
  EXPECT_FALSE(parse_retry_after_body(R"({"description":"\"retry_after\": 9"})"));
  EXPECT_FALSE(parse_retry_after_body("not json"));
  EXPECT_FALSE(parse_retry_after_body(R"({"retry_after":"soon"})"));
}

TEST(backoff, grows_exponentially_with_jitter_and_a_cap) {
  retry_policy p;
  p.backoff_initial = 500ms;
  p.backoff_max = 8000ms;
  for (unsigned attempt = 0; attempt < 8; ++attempt) {
    const auto nominal = std::min<std::int64_t>(8000, 500LL << attempt);
    const auto lo = backoff_delay(p, attempt, 0);
    const auto hi = backoff_delay(p, attempt, ~std::uint64_t{0});
    EXPECT_EQ(lo.count(), nominal / 2) << attempt;
    EXPECT_NEAR(static_cast<double>(hi.count()), static_cast<double>(nominal), 1.0) << attempt;
  }
}

http_response status(int code) {
  http_response r;
  r.status = code;
  return r;
}

TEST(classify, outcomes_per_status) {
  retry_policy p;
  p.max_retry_after = 10s;
  EXPECT_EQ(classify(status(200), 0, p, 0, 0).outcome, delivery_outcome::delivered);
  EXPECT_EQ(classify(status(204), 0, p, 0, 0).outcome, delivery_outcome::delivered);
  EXPECT_EQ(classify(status(500), 0, p, 0, 0).outcome, delivery_outcome::retry);
  EXPECT_EQ(classify(status(503), 0, p, 0, 0).outcome, delivery_outcome::retry);
  EXPECT_EQ(classify(status(404), 0, p, 0, 0).outcome, delivery_outcome::retry);  // fix config
  EXPECT_EQ(classify(status(400), 0, p, 0, 0).outcome, delivery_outcome::rejected);
  EXPECT_EQ(classify(status(413), 0, p, 0, 0).outcome, delivery_outcome::rejected);
  EXPECT_EQ(classify(status(410), 0, p, 0, 0).outcome, delivery_outcome::rejected);
  http_response timeout;
  timeout.transport = transport_error::timeout;
  const verdict v = classify(timeout, 0, p, 0, 0);
  EXPECT_EQ(v.outcome, delivery_outcome::retry);
  EXPECT_EQ(v.reason, "timeout");
}

TEST(classify, a_429_waits_as_told_capped_by_config) {
  retry_policy p;
  p.max_retry_after = 10s;
  http_response slack = status(429);
  slack.retry_after = "3";
  verdict v = classify(slack, 0, p, 0, 0);
  EXPECT_EQ(v.outcome, delivery_outcome::rate_limited);
  EXPECT_EQ(v.wait, 3000ms);
  slack.retry_after = "3600";
  EXPECT_EQ(classify(slack, 0, p, 0, 0).wait, 10000ms);  // capped
  http_response discord = status(429);
  discord.body = R"({"retry_after": 1.25, "global": false})";
  EXPECT_EQ(classify(discord, 0, p, 0, 0).wait, 1250ms);
  http_response telegram = status(429);
  telegram.body = R"({"ok":false,"error_code":429,"parameters":{"retry_after":2}})";
  EXPECT_EQ(classify(telegram, 0, p, 0, 0).wait, 2000ms);
  http_response bare = status(429);  // no hint: back off
  const auto w = classify(bare, 2, p, 0, 0).wait;
  EXPECT_EQ(w, backoff_delay(p, 2, 0));
}

TEST(ratelimit_hold, discord_bucket_headers) {
  http_response r = status(200);
  r.ratelimit_remaining = "0";
  r.ratelimit_reset_after = "0.75";
  EXPECT_EQ(ratelimit_hold(r), milliseconds(750));
  r.ratelimit_remaining = "3";
  EXPECT_FALSE(ratelimit_hold(r));
}

}  // namespace
}  // namespace aftershock::exporters
