// The rules engine's configuration as plain values: the universe, baskets, themes, exchanges,
// rules and news-linking policy. The daemon fills it from YAML (daemon/config_loader); tests
// fill it in code. Plain aggregate; safe to copy between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/alert.h"
#include "rules/exchange_calendar.h"
#include "rules/headline_matcher.h"
#include "rules/time.h"

namespace aftershock::rules {

/// A symbol the desk cares about: matcher names plus where it trades.
struct symbol_spec {
  entity_spec entity;          // symbol, display name, aliases, context, negative phrases
  std::string exchange;        // MIC; empty: from the symbol's suffix, else the default exchange
};

enum class rule_kind : std::uint8_t {
  prev_close_move,  // price against the previous regular-session close
  window_move,      // price against the low/high of a rolling window
};
const char* to_string(rule_kind k) noexcept;

struct rule_spec {
  std::string name;
  rule_kind kind = rule_kind::prev_close_move;
  double threshold_pct = 5.0;
  std::vector<double> escalation_pct;       // further levels that fire again (10, 15 ...)
  double critical_pct = 10.0;               // at or beyond this the alert is critical
  time_ns window = 15 * k_ns_per_min;       // window_move only
  time_ns cooldown = 0;                     // window_move: quiet time after firing in a
                                            // direction (0: one window)
  std::vector<session_kind> sessions;       // empty: every session (closed included)
  std::vector<std::string> symbols;         // empty: every symbol
  std::vector<std::string> baskets;         // empty: every basket
};

struct news_link_spec {
  time_ns lookback = 72 * k_ns_per_hour;    // headlines up to this long before the move
  std::size_t max_citations = 3;
  std::size_t max_stored = 100000;          // bound on remembered headlines
};

struct rules_config {
  std::string default_exchange = "XNYS";
  std::vector<exchange_spec> exchanges;
  std::vector<symbol_spec> universe;
  std::map<std::string, std::vector<std::string>> baskets;  // basket -> symbols
  std::vector<theme_spec> themes;
  std::vector<rule_spec> rules;
  news_link_spec news;
};

}  // namespace aftershock::rules
