#include "rules/event.h"

namespace aftershock::rules {

time_ns event_time(const event& e) noexcept {
  return std::visit(
      [](const auto& v) -> time_ns {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bar>) {
          return v.end;
        } else {
          return v.time;
        }
      },
      e);
}

const std::string& event_symbol(const event& e) noexcept {
  static const std::string k_none;
  return std::visit(
      [](const auto& v) -> const std::string& {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, news>) {
          return k_none;
        } else {
          return v.symbol;
        }
      },
      e);
}

}  // namespace aftershock::rules
