#include "exporters/routing.h"

#include <algorithm>

namespace aftershock::exporters {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool route_matches(const route_config& route, const rules::alert& a) {
  if (a.status == rules::alert_status::resolved && !route.send_resolved) return false;
  if (static_cast<int>(a.level) < static_cast<int>(route.min_severity)) return false;
  if (!route.rules.empty() && !contains(route.rules, a.rule)) return false;
  if (!route.symbols.empty()) {
    bool any = contains(route.symbols, a.symbol);
    for (const std::string& s : a.symbols) any = any || contains(route.symbols, s);
    if (!any) return false;
  }
  if (!route.themes.empty()) {
    bool any = false;
    for (const rules::citation& c : a.headlines) {
      any = any || (!c.theme.empty() && contains(route.themes, c.theme));
    }
    if (!any) return false;
  }
  return true;
}

std::uint64_t route_mask(const std::vector<destination_config>& destinations,
                         const rules::alert& a) {
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < destinations.size() && i < 64; ++i) {
    if (route_matches(destinations[i].route, a)) mask |= std::uint64_t{1} << i;
  }
  return mask;
}

group_decision decide_group(std::size_t pending, std::chrono::steady_clock::time_point oldest,
                            std::chrono::steady_clock::time_point now,
                            std::chrono::steady_clock::duration window, std::size_t max_group) {
  group_decision d;
  if (pending == 0) return d;
  max_group = std::max<std::size_t>(1, max_group);
  if (window <= std::chrono::steady_clock::duration::zero() || pending >= max_group ||
      now >= oldest + window) {
    d.take = std::min(pending, max_group);
    return d;
  }
  d.wait_until = oldest + window;
  return d;
}

}  // namespace aftershock::exporters
