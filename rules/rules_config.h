// The rules engine's configuration as plain values: the universe, baskets, themes, exchanges,
// rules, price limits and the news-linking and storm policies. The daemon fills it from YAML
// (daemon/config_loader); tests fill it in code. Plain aggregate; safe to copy between threads.
#pragma once

#include <cstddef>
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
  prev_close_move,   // price against the previous regular-session close
  window_move,       // price against the low/high of a rolling window
  zscore_move,       // a window return measured in units of the symbol's own volatility
  volume_spike,      // volume in a time-of-day bucket against that bucket's typical volume
  opening_gap,       // the first regular-session price against the previous close
  price_limit,       // daily price limits (China A-shares): limit-up / limit-down
  trading_halt,      // US halts and pauses from trading status messages
  luld,              // price at a limit-up/limit-down band
  basket_breadth,    // N members of a basket moving at least X% vs their previous closes
  unexplained_move,  // a move against the previous close with no linked headline
};
const char* to_string(rule_kind k) noexcept;
std::optional<rule_kind> rule_kind_from_string(std::string_view s) noexcept;

/// How often a rule may speak while its condition holds (TradingView's frequencies, plus an
/// edge-triggered default with hysteresis).
enum class trigger_frequency : std::uint8_t {
  on_cross,      // fire when the condition starts to hold; re-arm after retracing by a margin;
                 // cooldown between firings grows with each re-fire
  once,          // at most once per trading day per fingerprint
  once_per_bar,  // at most once per bar while the condition holds
  every_time,    // on every observation that holds, no more often than min_interval
};
const char* to_string(trigger_frequency f) noexcept;
std::optional<trigger_frequency> trigger_frequency_from_string(std::string_view s) noexcept;

struct rule_spec {
  std::string name;
  rule_kind kind = rule_kind::prev_close_move;
  double threshold_pct = 5.0;               // move rules: percent; zscore: minimum |move| too
  std::vector<double> escalation_pct;       // further levels that fire again (10, 15 ...)
  double critical_pct = 10.0;               // at or beyond this the alert is critical
  time_ns window = 15 * k_ns_per_min;       // window_move, zscore_move
  trigger_frequency frequency = trigger_frequency::on_cross;
  time_ns cooldown = 0;                     // quiet time after firing (0: the window, or 30m)
  double cooldown_backoff = 2.0;            // each re-fire on the same day multiplies it
  double rearm_margin_pct = 1.0;            // hysteresis: re-arm below threshold - margin
  time_ns min_interval = k_ns_per_min;      // every_time floor
  time_ns bar = k_ns_per_min;               // once_per_bar period
  int confirm = 1;                          // later observations that must agree before firing
  std::vector<session_kind> sessions;       // empty: every session (closed included)
  std::vector<std::string> symbols;         // empty: every symbol
  std::vector<std::string> baskets;         // empty: every basket
  // zscore_move
  double z_threshold = 4.0;
  std::size_t min_history = 30;             // one-minute returns needed before z is trusted
  std::size_t history = 390;                // one-minute returns in the rolling baseline
  // volume_spike
  double volume_factor = 3.0;
  time_ns bucket = 30 * k_ns_per_min;       // time-of-day bucket length
  std::size_t min_days = 3;                 // days of history per bucket before it can fire
  // basket_breadth
  std::size_t min_members = 3;
};

/// A daily price-limit band by exchange and code prefix (China main boards 10%, ChiNext and STAR
/// 20%, Beijing 30%). The first matching entry wins; exceptions override per symbol.
struct price_limit_spec {
  std::string exchange;                 // MIC
  std::vector<std::string> prefixes;    // symbol code prefixes ("300", "688"); empty: any
  double limit_pct = 10.0;
};
struct price_limit_exception {
  std::string symbol;
  std::optional<double> limit_pct;      // nullopt: no limit (new listings' first days)
};

struct news_link_spec {
  time_ns lookback = 72 * k_ns_per_hour;    // headlines up to this long before the move
  time_ns lookahead = 30 * k_ns_per_min;    // a direct headline this soon after a move is cited
                                            // in a follow-up alert
  std::size_t max_citations = 3;
  std::size_t max_stored = 100000;          // bound on remembered headlines
};

/// A burst budget per rule: beyond max_alerts in window, alerts roll into one digest alert
/// emitted when the window closes. Never silence.
struct storm_spec {
  std::size_t max_alerts = 20;
  time_ns window = 5 * k_ns_per_min;
};

struct rules_config {
  std::string default_exchange = "XNYS";
  std::vector<exchange_spec> exchanges;
  std::vector<symbol_spec> universe;
  std::map<std::string, std::vector<std::string>> baskets;  // basket -> symbols
  std::vector<theme_spec> themes;
  std::vector<rule_spec> rules;
  std::vector<price_limit_spec> price_limits;
  std::vector<price_limit_exception> price_limit_exceptions;
  news_link_spec news;
  storm_spec storm;
  double outlier_pct = 5.0;    // a print this far from the last one is held until confirmed
};

}  // namespace aftershock::rules
