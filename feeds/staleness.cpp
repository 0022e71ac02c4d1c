#include "feeds/staleness.h"

#include <algorithm>
#include <chrono>

namespace aftershock::feeds {

rules::time_ns system_clock::monotonic() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

rules::time_ns system_clock::utc() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

calendar_hours::calendar_hours(std::shared_ptr<const rules::compiled_rules> rules,
                               std::size_t exchange)
    : rules_(std::move(rules)), calendar_(&rules_->calendars().at(exchange)) {}

bool calendar_hours::is_open(rules::time_ns utc) const {
  return calendar_->session_at(utc) != rules::session_kind::closed;
}

std::string calendar_hours::describe() const { return calendar_->spec().mic; }

bool any_of_hours::is_open(rules::time_ns utc) const {
  for (const auto& m : markets_) {
    if (m->is_open(utc)) return true;
  }
  return false;
}

std::string any_of_hours::describe() const {
  std::string out;
  for (const auto& m : markets_) out += (out.empty() ? "" : "+") + m->describe();
  return out;
}

staleness_watchdog::staleness_watchdog(rules::time_ns stale_after,
                                       std::shared_ptr<const market_hours> hours,
                                       rules::time_ns now)
    : stale_after_(stale_after), hours_(std::move(hours)), last_message_(now) {}

bool staleness_watchdog::on_message(rules::time_ns monotonic_now) {
  last_message_ = std::max(last_message_, monotonic_now);
  silent_for_ = 0;
  if (!episode_) return false;
  episode_ = false;
  return true;
}

staleness_watchdog::verdict staleness_watchdog::check(rules::time_ns monotonic_now,
                                                      rules::time_ns utc_now) {
  if (stale_after_ <= 0) return verdict::fresh;
  const bool open = hours_ == nullptr || hours_->is_open(utc_now);
  if (!open) {
    // Overnight and weekend silence is normal. The next stretch counts from its opening.
    open_ = false;
    checked_ = true;
    silent_for_ = 0;
    return verdict::fresh;
  }
  if (!open_) {
    // Opened since the last check (checks are a few per threshold apart). The very first
    // check has no "last": count from the start, when the last_message_ clock began too.
    open_ = true;
    open_since_ = checked_ ? monotonic_now : last_message_;
  }
  checked_ = true;
  const rules::time_ns from = std::max({last_message_, open_since_, last_verdict_});
  silent_for_ = monotonic_now - std::max(last_message_, open_since_);
  if (monotonic_now - from < stale_after_) return verdict::fresh;
  last_verdict_ = monotonic_now;
  if (episode_) return verdict::still_stale;
  episode_ = true;
  return verdict::stale;
}

}  // namespace aftershock::feeds
