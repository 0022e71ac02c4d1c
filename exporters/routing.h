// Which destinations take an alert (routes by severity, rule, symbol and theme) and when a
// destination sends the alerts waiting for it (a grouping window collects several into one
// message). Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "exporters/outputs_config.h"
#include "rules/alert.h"

namespace aftershock::exporters {

bool route_matches(const route_config& route, const rules::alert& a);

/// Bit i is set when destinations[i] takes the alert (at most 64 destinations).
std::uint64_t route_mask(const std::vector<destination_config>& destinations,
                         const rules::alert& a);

struct group_decision {
  std::size_t take = 0;                                // send this many now (0: wait)
  std::chrono::steady_clock::time_point wait_until{};  // when take == 0 and alerts wait
};

/// With `pending` alerts waiting, the oldest queued at `oldest`: send at most `max_group` as
/// soon as the window since the oldest has passed or a message is full.
group_decision decide_group(std::size_t pending, std::chrono::steady_clock::time_point oldest,
                            std::chrono::steady_clock::time_point now,
                            std::chrono::steady_clock::duration window, std::size_t max_group);

}  // namespace aftershock::exporters
