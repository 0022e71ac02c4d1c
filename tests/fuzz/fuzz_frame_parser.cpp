// Fuzz target bodies for the dialect parsers: one frame in, events out, and the conventions
// frame_parser.h promises checked on every event.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fuzz_targets.h"
#include "rules/event.h"

namespace aftershock::fuzz {
namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

void check_time(rules::time_ns t) {
  if (t < feeds::k_earliest_event_time || t >= feeds::k_latest_event_time) broken("event time");
}
void check_price(double p) {
  if (!std::isfinite(p) || p <= 0) broken("price not finite and > 0");
}
void check_side(double p) {
  if (!std::isfinite(p) || p < 0) broken("quote side not finite and >= 0");
}
void check_size(double s) {
  if (!std::isfinite(s) || s < 0) broken("size not finite and >= 0");
}
void check_symbol(const std::string& s) {
  if (s.empty() || s.size() > 32) broken("symbol not 1..32 bytes");
}

struct event_checker {
  void operator()(const rules::trade& e) const {
    check_symbol(e.symbol);
    check_price(e.price);
    check_size(e.size);
    check_time(e.time);
  }
  void operator()(const rules::quote& e) const {
    check_symbol(e.symbol);
    check_side(e.bid);
    check_side(e.ask);
    check_size(e.bid_size);
    check_size(e.ask_size);
    check_time(e.time);
  }
  void operator()(const rules::bar& e) const {
    check_symbol(e.symbol);
    check_price(e.open);
    check_price(e.high);
    check_price(e.low);
    check_price(e.close);
    check_size(e.volume);
    check_time(e.start);
    check_time(e.end);
    if (e.end < e.start) broken("bar ends before it starts");
  }
  void operator()(const rules::news& e) const {
    if (e.headline.empty()) broken("empty headline");
    check_time(e.time);
  }
  void operator()(const rules::trading_status& e) const {
    check_symbol(e.symbol);
    check_time(e.time);
  }
  void operator()(const rules::luld_band& e) const {
    check_symbol(e.symbol);
    check_time(e.time);
  }
  void operator()(const rules::trade_correction& e) const {
    check_symbol(e.symbol);
    check_time(e.time);
  }
  void operator()(const rules::trade_cancel& e) const {
    check_symbol(e.symbol);
    check_time(e.time);
  }
};

}  // namespace

void frame_parser_one(feeds::dialect d, const std::uint8_t* data, std::size_t size) {
  // One parser per dialect, reused across inputs as a live session reuses it: stale state in
  // its buffers between frames is part of what this looks for.
  static feeds::frame_parser parsers[feeds::k_dialect_count] = {
      feeds::frame_parser(feeds::dialect::alpaca_stocks),
      feeds::frame_parser(feeds::dialect::alpaca_news),
      feeds::frame_parser(feeds::dialect::finnhub),
      feeds::frame_parser(feeds::dialect::polygon_stocks),
      feeds::frame_parser(feeds::dialect::binance),
      feeds::frame_parser(feeds::dialect::generic)};
  feeds::frame_parser& parser = parsers[static_cast<std::size_t>(d)];
  if (parser.which() != d) broken("parser table out of order");

  std::vector<rules::event> out;
  out.emplace_back(rules::trade{});  // parse() appends: what was there must stay
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const feeds::parse_result r = parser.parse(frame, out);
  if (out.size() != r.events + 1) broken("events count differs from events appended");
  if ((r.rejected == 0) != (r.error == feeds::parse_error::none)) {
    broken("rejected and error disagree");
  }
  for (std::size_t i = 1; i < out.size(); ++i) std::visit(event_checker{}, out[i]);

  // The same bytes again must give the same answer (no state leaks between frames).
  std::vector<rules::event> again;
  const feeds::parse_result r2 = parser.parse(frame, again);
  if (r2.events != r.events || r2.rejected != r.rejected || r2.ignored != r.ignored ||
      r2.error != r.error || r2.controls.size() != r.controls.size()) {
    broken("second parse of the same frame differs");
  }
}

}  // namespace aftershock::fuzz
