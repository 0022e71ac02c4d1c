// The rules engine: events in, alerts out. Pure and single-threaded: it reads time only from
// the events (a watermark), never from a clock, so a replay makes exactly the alerts a live run
// made. One thread owns an engine; it takes no locks. Scale comes from sharding symbols across
// engines, not from sharing one.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/alert.h"
#include "rules/compiled_rules.h"
#include "rules/event.h"
#include "rules/news_linker.h"

namespace aftershock::rules {

/// Counters a metrics layer can read between events (plain struct, copied out).
struct engine_stats {
  std::uint64_t events = 0;
  std::uint64_t trades = 0;
  std::uint64_t bars = 0;
  std::uint64_t quotes = 0;
  std::uint64_t news = 0;
  std::uint64_t other = 0;
  std::uint64_t out_of_order = 0;   // price observations older than the symbol's last one
  std::uint64_t alerts = 0;
  std::uint64_t suppressed = 0;     // conditions that held but did not fire (already fired)
  time_ns watermark = 0;            // latest market time seen
};

class engine {
 public:
  explicit engine(std::shared_ptr<const compiled_rules> rules);

  /// Processes one event and appends any alerts it causes to `out`.
  void process(const event& e, std::vector<alert>& out);

  /// Swaps in a new, already validated configuration, keeping market state (previous closes,
  /// windows, what has fired) for rules whose names survive.
  void replace_rules(std::shared_ptr<const compiled_rules> rules);

  const engine_stats& stats() const noexcept { return stats_; }
  const news_stats& headline_stats() const noexcept { return news_.stats(); }
  const compiled_rules& rules() const noexcept { return *rules_; }

  /// Last price and previous close of a symbol, for metrics; false if unknown.
  struct price_view {
    double last = 0;
    double prev_close = 0;  // 0 if not known yet
    time_ns time = 0;
  };
  bool price_of(const std::string& symbol, price_view& out) const;

 private:
  struct window_point {
    time_ns time;
    double price;
  };
  struct rule_state {
    std::string rule;                 // rule name, to carry state across reloads
    std::int64_t day = INT64_MIN;     // local trading day the levels below belong to
    int fired_up = -1, fired_down = -1;
    std::deque<window_point> mins, maxs;  // monotonic deques over the window
    time_ns last_fire_up = INT64_MIN, last_fire_down = INT64_MIN;
  };
  struct symbol_state {
    std::size_t exchange = 0;
    double last_price = 0;
    time_ns last_time = INT64_MIN;
    double last_regular_price = 0;
    std::int64_t last_regular_day = INT64_MIN;
    time_ns last_regular_time = 0;
    double prev_close = 0;
    std::int64_t prev_close_day = INT64_MIN;
    time_ns prev_close_time = 0;
    std::vector<rule_state> rules;
  };

  symbol_state& state_for(const std::string& symbol);
  void observe_price(const std::string& symbol, double price, time_ns t, time_ns session_time,
                     std::vector<alert>& out);
  void eval_prev_close(std::size_t r, const std::string& symbol, symbol_state& st, double price,
                       time_ns t, std::int64_t day, std::vector<alert>& out);
  void eval_window(std::size_t r, const std::string& symbol, symbol_state& st, double price,
                   time_ns t, std::vector<alert>& out);
  alert make_price_alert(std::size_t r, const std::string& symbol, const symbol_state& st,
                         double price, double change_pct, double level, time_ns t,
                         baseline base) const;
  void attach_citations(alert& a) const;

  std::shared_ptr<const compiled_rules> rules_;
  std::unordered_map<std::string, symbol_state> symbols_;
  news_linker news_;
  engine_stats stats_;
};

/// 64-bit FNV-1a as 16 lowercase hex digits: stable ids and fingerprints.
std::string stable_hash_hex(std::string_view text);

}  // namespace aftershock::rules
