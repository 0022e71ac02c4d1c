#include "daemon/sd_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>

namespace aftershock::daemon {

namespace {

std::int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

std::string status_text(std::string_view text) {
  constexpr std::size_t k_max = 1024;  // systemctl shows one line; keep the datagram small
  std::string out;
  out.reserve(std::min(text.size(), k_max));
  for (char c : text) {
    if (out.size() >= k_max) break;
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  return out;
}

service_notifier::service_notifier() : started_us_(monotonic_us()) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(static_cast<std::int64_t>(usec));
  }
}

std::chrono::microseconds service_notifier::keepalive_age() const {
  const std::int64_t last = last_ping_us_.load(std::memory_order_relaxed);
  return std::chrono::microseconds(monotonic_us() - (last == INT64_MIN ? started_us_ : last));
}

bool service_notifier::send(const std::string& state) {
  if (!enabled_) return false;
  return sd_notify(0, state.c_str()) > 0;
}

void service_notifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + status_text(status));
}

void service_notifier::reloading(std::string_view status) {
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_us()) +
       "\nSTATUS=" + status_text(status));
}

void service_notifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + status_text(status));
}

void service_notifier::status(std::string_view status) { send("STATUS=" + status_text(status)); }

void service_notifier::watchdog_tick() {
  if (!enabled_ || watchdog_.count() <= 0) return;
  const std::int64_t now = monotonic_us();
  std::int64_t last = last_ping_us_.load(std::memory_order_relaxed);
  // Half the timeout, as sd_watchdog_enabled(3) advises: one late tick does not kill us.
  if (last != INT64_MIN && now - last < watchdog_.count() / 2) return;
  if (!last_ping_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  send("WATCHDOG=1");
}

}  // namespace aftershock::daemon
