#include "feeds/session_config.h"

namespace aftershock::feeds {

const char* to_string(feed_state s) noexcept {
  switch (s) {
    case feed_state::idle:
      return "idle";
    case feed_state::connecting:
      return "connecting";
    case feed_state::authenticating:
      return "authenticating";
    case feed_state::subscribing:
      return "subscribing";
    case feed_state::streaming:
      return "streaming";
    case feed_state::backing_off:
      return "backing_off";
    case feed_state::stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace aftershock::feeds
