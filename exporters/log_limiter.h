// Rate limiting for log lines about bad network data and drops: a few lines per interval, then
// silence with a count of what was suppressed, reported on the next line allowed. Not
// synchronised: one per thread or under the owner's lock.
#pragma once

#include <chrono>
#include <cstdint>

namespace aftershock::exporters {

class log_limiter {
 public:
  explicit log_limiter(std::uint32_t per_interval = 5,
                       std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : per_interval_(per_interval), interval_(interval) {}

  /// True when a line may be logged now; `suppressed` then says how many were held back since
  /// the last allowed line.
  bool allow(std::uint64_t& suppressed,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (now - window_start_ >= interval_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ < per_interval_) {
      ++used_;
      suppressed = suppressed_;
      suppressed_ = 0;
      return true;
    }
    ++suppressed_;
    return false;
  }

 private:
  std::uint32_t per_interval_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t used_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace aftershock::exporters
