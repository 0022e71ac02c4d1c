// Talks to the service manager (systemd Type=notify) through $NOTIFY_SOCKET: READY=1 once the
// daemon serves, STATUS= lines with the feeds' states, RELOADING=1 / READY=1 around a SIGHUP
// reload, STOPPING=1 on shutdown, and WATCHDOG=1 keep-alives. The keep-alives are driven by the
// engine thread (watchdog_tick from its loop): if the engine hangs, the pings stop and systemd
// restarts the service after WatchdogSec. Without $NOTIFY_SOCKET every call is a no-op.
//
// Thread-safety: every member may be called from any thread (sd_notify is a datagram send;
// the watchdog's last-ping time is atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace aftershock::daemon {

class service_notifier {
 public:
  /// Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (honouring $WATCHDOG_PID) once.
  service_notifier();

  /// True when a service manager listens ($NOTIFY_SOCKET is set).
  bool enabled() const noexcept { return enabled_; }
  /// The watchdog timeout systemd expects pings within; zero when the watchdog is off.
  std::chrono::microseconds watchdog_timeout() const noexcept { return watchdog_; }

  /// READY=1 with a STATUS= line.
  void ready(std::string_view status);
  /// RELOADING=1 (with MONOTONIC_USEC=, which systemd 253's notify-reload wants).
  void reloading(std::string_view status);
  /// STOPPING=1.
  void stopping(std::string_view status);
  /// STATUS= only.
  void status(std::string_view status);

  /// WATCHDOG=1, at most every half watchdog timeout; call it from the loop whose progress
  /// the watchdog should vouch for. Cheap when nothing is due.
  void watchdog_tick();

  /// Time since the last WATCHDOG=1 (or since construction): the main thread's view of
  /// whether the engine still makes progress.
  std::chrono::microseconds keepalive_age() const;

  /// Sends `state` as it is ("KEY=value" lines). False when it could not be sent.
  bool send(const std::string& state);

 private:
  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};
  std::int64_t started_us_ = 0;
  std::atomic<std::int64_t> last_ping_us_{INT64_MIN};
};

/// STATUS= text must be one line: newlines become spaces, and it is cut to a sane length.
std::string status_text(std::string_view text);

}  // namespace aftershock::daemon
