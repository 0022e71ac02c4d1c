#include "exporters/rate_limit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "rules/time.h"

namespace aftershock::exporters {

namespace {

using std::chrono::milliseconds;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

milliseconds seconds_to_ms(double s) {
  if (s <= 0) return milliseconds(0);
  if (s > 1e7) s = 1e7;  // nonsense; capped later anyway
  return milliseconds(static_cast<std::int64_t>(std::ceil(s * 1000.0)));
}

std::optional<std::int64_t> parse_http_date(std::string_view value) {
  // IMF-fixdate only, the form RFC 9110 requires senders to use.
  const std::string v(trim(value));
  char month[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (std::sscanf(v.c_str(), "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &day, month, &year, &hh, &mm,
                  &ss) != 6) {
    return std::nullopt;
  }
  static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned m = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (std::strcmp(month, k_months[i]) == 0) m = i + 1;
  }
  if (m == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const std::int64_t days = rules::days_from_civil(year, m, static_cast<unsigned>(day));
  return ((days * 24 + hh) * 60 + mm) * 60 * rules::k_ns_per_s + ss * rules::k_ns_per_s;
}

}  // namespace

// token_bucket

token_bucket::token_bucket(double rate_per_second, double burst, steady_clock::time_point now)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

void token_bucket::refill(steady_clock::time_point now) {
  if (now <= last_) return;
  const double dt = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + dt * rate_);
  last_ = now;
}

steady_clock::duration token_bucket::wait_time(steady_clock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0 || rate_ <= 0) return steady_clock::duration::zero();
  const double seconds = (1.0 - tokens_) / rate_;
  return std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(seconds));
}

void token_bucket::take(steady_clock::time_point now) {
  refill(now);
  if (rate_ > 0) tokens_ -= 1.0;  // may dip below zero if a caller ignores wait_time
}

// rate_limiter

rate_limiter::rate_limiter(const destination_limits& limits, steady_clock::time_point now) {
  if (limits.rate_per_second > 0) buckets_.emplace_back(limits.rate_per_second, limits.burst, now);
  if (limits.group_per_minute > 0) {
    buckets_.emplace_back(limits.group_per_minute / 60.0, limits.group_per_minute, now);
  }
}

steady_clock::duration rate_limiter::wait_time(steady_clock::time_point now) {
  steady_clock::duration wait =
      hold_until_ > now ? hold_until_ - now : steady_clock::duration::zero();
  for (token_bucket& b : buckets_) wait = std::max(wait, b.wait_time(now));
  return wait;
}

void rate_limiter::take(steady_clock::time_point now) {
  for (token_bucket& b : buckets_) b.take(now);
}

void rate_limiter::hold_until(steady_clock::time_point until) {
  hold_until_ = std::max(hold_until_, until);
}

// Retry-After

std::optional<milliseconds> parse_retry_after_header(std::string_view value,
                                                     std::int64_t wall_now_ns) {
  if (trim(value).empty()) return std::nullopt;
  if (auto s = parse_number(value)) return seconds_to_ms(*s);
  if (auto at = parse_http_date(value)) {
    const std::int64_t delta = *at - wall_now_ns;
    return milliseconds(delta <= 0 ? 0 : (delta + 999'999) / 1'000'000);
  }
  return std::nullopt;
}

std::optional<double> json_number_field(std::string_view json, std::string_view key) {
  std::size_t i = 0;
  const std::size_t n = json.size();
  auto skip_ws = [&] {
    while (i < n && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t')) ++i;
  };
  while (i < n) {
    if (json[i] != '"') {
      ++i;
      continue;
    }
    const std::size_t start = ++i;
    bool escaped = false;
    while (i < n && json[i] != '"') {
      if (json[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    if (i >= n) return std::nullopt;
    const std::string_view str = json.substr(start, i - start);
    ++i;  // closing quote
    skip_ws();
    if (i < n && json[i] == ':' && !escaped && str == key) {
      ++i;
      skip_ws();
      std::size_t end = i;
      while (end < n &&
             (std::isdigit(static_cast<unsigned char>(json[end])) || json[end] == '.' ||
              json[end] == '-' || json[end] == '+' || json[end] == 'e' || json[end] == 'E')) {
        ++end;
      }
      if (auto v = parse_number(json.substr(i, end - i))) return v;
    }
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after_body(std::string_view body) {
  const auto v = json_number_field(body, "retry_after");
  if (!v) return std::nullopt;
  if (*v >= 1000 && std::floor(*v) == *v) return milliseconds(static_cast<std::int64_t>(*v));
  return seconds_to_ms(*v);
}

std::optional<milliseconds> ratelimit_hold(const http_response& r) {
  const auto remaining = parse_number(r.ratelimit_remaining);
  if (!remaining || *remaining > 0) return std::nullopt;
  const auto reset = parse_number(r.ratelimit_reset_after);
  if (!reset) return std::nullopt;
  return seconds_to_ms(*reset);
}

retry_policy make_retry_policy(const destination_config& d) {
  retry_policy p;
  p.backoff_initial = milliseconds(d.backoff_initial / rules::k_ns_per_ms);
  p.backoff_max = milliseconds(d.backoff_max / rules::k_ns_per_ms);
  p.max_retry_after = milliseconds(d.max_retry_after / rules::k_ns_per_ms);
  return p;
}

std::chrono::milliseconds backoff_delay(const retry_policy& p, unsigned attempt,
                                        std::uint64_t random) {
  const double initial = static_cast<double>(p.backoff_initial.count());
  const double cap = static_cast<double>(p.backoff_max.count());
  const double nominal = std::min(cap, initial * std::pow(2.0, std::min(attempt, 40u)));
  const double share = static_cast<double>(random >> 11) / static_cast<double>(1ull << 53);
  return milliseconds(static_cast<std::int64_t>(nominal / 2 + share * nominal / 2));
}

const char* to_string(delivery_outcome o) noexcept {
  switch (o) {
    case delivery_outcome::delivered:
      return "delivered";
    case delivery_outcome::rate_limited:
      return "rate_limited";
    case delivery_outcome::retry:
      return "retry";
    case delivery_outcome::rejected:
      return "rejected";
  }
  return "retry";
}

const char* to_string(transport_error e) noexcept {
  switch (e) {
    case transport_error::none:
      return "none";
    case transport_error::bad_url:
      return "bad_url";
    case transport_error::resolve:
      return "resolve";
    case transport_error::connect:
      return "connect";
    case transport_error::tls:
      return "tls";
    case transport_error::timeout:
      return "timeout";
    case transport_error::io:
      return "io";
  }
  return "io";
}

verdict classify(const http_response& r, unsigned attempt, const retry_policy& p,
                 std::uint64_t random, std::int64_t wall_now_ns) {
  verdict v;
  if (r.transport != transport_error::none || r.status == 0) {
    v.outcome = r.transport == transport_error::bad_url ? delivery_outcome::rejected
                                                        : delivery_outcome::retry;
    v.wait = backoff_delay(p, attempt, random);
    v.reason = to_string(r.transport == transport_error::none ? transport_error::io : r.transport);
    return v;
  }
  v.reason = "http " + std::to_string(r.status);
  if (r.ok()) {
    v.outcome = delivery_outcome::delivered;
    return v;
  }
  // What the server asked for, in order of precedence: the standard header, then the body
  // (Discord, Telegram), then Discord's bucket reset.
  std::optional<milliseconds> asked = parse_retry_after_header(r.retry_after, wall_now_ns);
  if (!asked) asked = parse_retry_after_body(r.body);
  if (!asked && r.status == 429) asked = ratelimit_hold(r);
  if (r.status == 429) {
    v.outcome = delivery_outcome::rate_limited;
    // Honour the server exactly, up to the configured cap; without a hint, back off. A small
    // floor keeps a "retry after 0" from turning into a busy loop.
    v.wait = asked ? std::min(*asked, p.max_retry_after) : backoff_delay(p, attempt, random);
    v.wait = std::max(v.wait, milliseconds(50));
    return v;
  }
  if (r.status >= 500 || r.status == 408 || r.status == 425) {
    v.outcome = delivery_outcome::retry;
    v.wait = backoff_delay(p, attempt, random);
    if (asked) v.wait = std::max(v.wait, std::min(*asked, p.max_retry_after));
    return v;
  }
  if (r.status == 401 || r.status == 403 || r.status == 404) {
    // A revoked or mistyped webhook: nothing we send will work until the config is fixed, but
    // the alerts are kept for then. Retry slowly (Discord counts invalid requests).
    v.outcome = delivery_outcome::retry;
    v.wait = std::max(backoff_delay(p, attempt + 4, random), milliseconds(p.backoff_max / 2));
    return v;
  }
  v.outcome = delivery_outcome::rejected;  // 400, 410, 413, 422 ...: this message never fits
  return v;
}

}  // namespace aftershock::exporters
