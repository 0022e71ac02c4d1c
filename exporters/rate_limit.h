// Delivery policy as pure code: token buckets, server-driven holds (429 Retry-After, Discord's
// X-RateLimit-* headers), Retry-After parsing in all the shapes platforms use, exponential
// back-off with jitter, and the verdict on one HTTP response. Time and randomness are passed
// in, so tests need no clock. Value types; one owner per instance (not synchronised).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/http_types.h"
#include "exporters/outputs_config.h"

namespace aftershock::exporters {

using steady_clock = std::chrono::steady_clock;

/// Classic token bucket: `rate` tokens per second up to `burst`; starts full.
class token_bucket {
 public:
  token_bucket(double rate_per_second, double burst, steady_clock::time_point now);
  /// How long until a token is available (zero: now).
  steady_clock::duration wait_time(steady_clock::time_point now);
  /// Takes a token; call when wait_time() is zero.
  void take(steady_clock::time_point now);

 private:
  void refill(steady_clock::time_point now);
  double rate_;
  double burst_;
  double tokens_;
  steady_clock::time_point last_;
};

/// All the limits of one destination: its buckets (Telegram has a second one for groups) and
/// any hold the server asked for.
class rate_limiter {
 public:
  rate_limiter(const destination_limits& limits, steady_clock::time_point now);
  steady_clock::duration wait_time(steady_clock::time_point now);
  void take(steady_clock::time_point now);
  /// Nothing goes out before `until` (a 429, or Discord's bucket reported empty).
  void hold_until(steady_clock::time_point until);

 private:
  std::vector<token_bucket> buckets_;
  steady_clock::time_point hold_until_{};
};

/// Retry-After as delta-seconds ("120", tolerating "1.5") or an IMF-fixdate HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT") relative to `wall_now_ns`. Negative waits become zero.
std::optional<std::chrono::milliseconds> parse_retry_after_header(std::string_view value,
                                                                  std::int64_t wall_now_ns);

/// retry_after from a 429 body: Discord's top-level float seconds (an old API sent
/// milliseconds, so a whole number of 1000 or more is read as milliseconds), Telegram's
/// parameters.retry_after in seconds. Nullopt when absent or not a number.
std::optional<std::chrono::milliseconds> parse_retry_after_body(std::string_view body);

/// The first number stored under `key` anywhere in a JSON text (strings are skipped
/// correctly, so a key inside a string value never matches). Small and allocation-free.
std::optional<double> json_number_field(std::string_view json, std::string_view key);

/// Discord reports its per-route bucket in every response; when it is empty, wait for reset.
std::optional<std::chrono::milliseconds> ratelimit_hold(const http_response& r);

struct retry_policy {
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds max_retry_after{120000};
};
retry_policy make_retry_policy(const destination_config& d);

/// Exponential back-off with jitter: the nominal delay is initial * 2^attempt (capped at max);
/// the wait is half of it plus a random share of the other half, so retries of many
/// destinations spread out. `random` is any 64-bit random value.
std::chrono::milliseconds backoff_delay(const retry_policy& p, unsigned attempt,
                                        std::uint64_t random);

enum class delivery_outcome : std::uint8_t {
  delivered,     // 2xx
  rate_limited,  // 429: wait as told, then retry the same message
  retry,         // 5xx, timeouts, network errors, auth problems: back off, retry
  rejected,      // the platform will never take this message (400, 413, 410 ...)
};
const char* to_string(delivery_outcome o) noexcept;

struct verdict {
  delivery_outcome outcome = delivery_outcome::retry;
  std::chrono::milliseconds wait{0};  // before the next attempt
  std::string reason;                 // for logs and metrics: "http 503", "timeout", ...
};

/// Decides what one response means. `attempt` counts earlier failed attempts of this message.
verdict classify(const http_response& r, unsigned attempt, const retry_policy& p,
                 std::uint64_t random, std::int64_t wall_now_ns);

}  // namespace aftershock::exporters
