#include "feedsim/faults.h"

namespace aftershock::feedsim {

const char* to_string(fault_action a) noexcept {
  switch (a) {
    case fault_action::garbage:
      return "garbage";
    case fault_action::oversize:
      return "oversize";
    case fault_action::server_shutdown:
      return "server_shutdown";
    case fault_action::drop:
      return "drop";
    case fault_action::stall:
      return "stall";
  }
  return "?";
}

fault_plan::fault_plan(const fault_options& options, std::size_t connection_number)
    : options_(options),
      active_(options.any() &&
              (options.connections == 0 || connection_number <= options.connections)) {}

void fault_plan::after_data_frame(std::vector<fault_action>& out) {
  if (!active_ || finished_) return;
  const std::size_t n = ++data_frames_;
  if (options_.garbage_every && n % options_.garbage_every == 0) {
    out.push_back(fault_action::garbage);
  }
  if (options_.oversize_every && n % options_.oversize_every == 0) {
    out.push_back(fault_action::oversize);
  }
  // Terminal faults: the earliest configured one wins.
  if (options_.shutdown_after && n == options_.shutdown_after) {
    out.push_back(fault_action::server_shutdown);
    finished_ = true;
  } else if (options_.drop_after && n == options_.drop_after) {
    out.push_back(fault_action::drop);
    finished_ = true;
  } else if (options_.stall_after && n == options_.stall_after) {
    out.push_back(fault_action::stall);
    finished_ = true;
  }
}

std::string garbage_frame(bool binary) {
  if (binary) return std::string(1, static_cast<char>(0xc1));
  return "feedsim: injected garbage, not JSON {[";
}

std::string oversize_frame(feeds::dialect d, std::size_t bytes) {
  std::string head, tail;
  switch (d) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news:
      head = R"([{"T":"feedsim_padding","pad":")";
      tail = R"("}])";
      break;
    case feeds::dialect::polygon_stocks:
      head = R"([{"ev":"feedsim_padding","pad":")";
      tail = R"("}])";
      break;
    case feeds::dialect::binance:
      head = R"({"e":"feedsim_padding","pad":")";
      tail = R"("})";
      break;
    case feeds::dialect::finnhub:
    case feeds::dialect::generic:
      head = R"({"type":"feedsim_padding","pad":")";
      tail = R"("})";
      break;
  }
  const std::size_t wrapper = head.size() + tail.size();
  std::string out = std::move(head);
  out.append(bytes > wrapper ? bytes - wrapper : 0, 'x');
  out += tail;
  return out;
}

std::string server_shutdown_frame(bool combined, rules::time_ns event_time) {
  const std::string event =
      R"({"e":"serverShutdown","E":)" + std::to_string(event_time / rules::k_ns_per_ms) + "}";
  if (!combined) return event;
  return R"({"stream":"!serverShutdown","data":)" + event + "}";
}

}  // namespace aftershock::feedsim
