// Feed staleness: "no message of any kind for N seconds while this feed's market is open".
// Data channels are legitimately silent for hours when their market is closed, so silence is
// only counted from the moment the market was last seen open. Time comes in through a clock
// interface (Envoy's TimeSource), so the watchdog is tested with a fake clock and no sleeps.
// The watchdog is a plain state machine owned by one session's strand: not thread-safe.
// Clocks and market_hours implementations are immutable and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rules/compiled_rules.h"
#include "rules/time.h"

namespace aftershock::feeds {

/// Where a session reads time. monotonic() measures silences and deadlines; utc() places
/// "now" in an exchange's calendar and stamps records.
class clock {
 public:
  virtual ~clock() = default;
  virtual rules::time_ns monotonic() const = 0;  // arbitrary epoch, never goes back
  virtual rules::time_ns utc() const = 0;        // ns since the Unix epoch
};

/// std::chrono::steady_clock and system_clock.
class system_clock final : public clock {
 public:
  rules::time_ns monotonic() const override;
  rules::time_ns utc() const override;
};

/// Is the market a feed serves open at a UTC instant?
class market_hours {
 public:
  virtual ~market_hours() = default;
  virtual bool is_open(rules::time_ns utc) const = 0;
  virtual std::string describe() const = 0;  // "XNAS", "always"
};

/// Crypto and 24/7 feeds.
class always_open final : public market_hours {
 public:
  bool is_open(rules::time_ns) const override { return true; }
  std::string describe() const override { return "always"; }
};

/// An exchange calendar from the compiled rules: open in any session (pre-market, regular,
/// after hours), closed nights, weekends and holidays. Holds the rules alive.
class calendar_hours final : public market_hours {
 public:
  calendar_hours(std::shared_ptr<const rules::compiled_rules> rules, std::size_t exchange);
  bool is_open(rules::time_ns utc) const override;
  std::string describe() const override;

 private:
  std::shared_ptr<const rules::compiled_rules> rules_;
  const rules::exchange_calendar* calendar_;
};

/// Open when any of several markets is: a feed whose symbols trade on several exchanges
/// (Finnhub with XPAR and XSHE names) is expected to talk while any of them is open.
class any_of_hours final : public market_hours {
 public:
  explicit any_of_hours(std::vector<std::shared_ptr<const market_hours>> markets)
      : markets_(std::move(markets)) {}
  bool is_open(rules::time_ns utc) const override;
  std::string describe() const override;  // "XPAR+XSHE"

 private:
  std::vector<std::shared_ptr<const market_hours>> markets_;
};

class staleness_watchdog {
 public:
  enum class verdict : std::uint8_t {
    fresh,       // nothing to do
    stale,       // silent too long: raise feed_stale (once per episode) and reconnect
    still_stale  // silent another stale_after since the last verdict: reconnect again, no alert
  };

  /// stale_after <= 0 disables the watchdog. `hours` null means always open. `now` is the
  /// monotonic time the session starts (silence is counted from here too).
  staleness_watchdog(rules::time_ns stale_after, std::shared_ptr<const market_hours> hours,
                     rules::time_ns now);

  /// Any inbound frame: data, vendor control, vendor ping, WebSocket ping from the server.
  /// (Not the pongs to our own pings: a stalled feed server still answers those.) Returns true
  /// when this message ends a stale episode that was reported, so the caller can resolve it.
  bool on_message(rules::time_ns monotonic_now);

  /// Judges the silence at this instant. Call it periodically (a few times per stale_after).
  verdict check(rules::time_ns monotonic_now, rules::time_ns utc_now);

  /// How long the feed has been silent while its market was open (as of the last check).
  rules::time_ns silent_for() const noexcept { return silent_for_; }
  bool in_episode() const noexcept { return episode_; }
  bool enabled() const noexcept { return stale_after_ > 0; }
  rules::time_ns stale_after() const noexcept { return stale_after_; }
  std::string market() const { return hours_ ? hours_->describe() : "always"; }

 private:
  rules::time_ns stale_after_;
  std::shared_ptr<const market_hours> hours_;
  rules::time_ns last_message_;      // monotonic
  rules::time_ns last_verdict_ = 0;  // monotonic time of the last stale/still_stale
  bool checked_ = false;             // check() has run at least once
  bool open_ = false;                // market open at the last check
  rules::time_ns open_since_ = 0;    // monotonic time it was first seen open in this stretch
  bool episode_ = false;             // a stale alert is outstanding
  rules::time_ns silent_for_ = 0;
};

}  // namespace aftershock::feeds
