// What the rules engine says: an alert with its baseline, window and cited headlines.
// Plain values; safe to copy and to move between threads. JSON rendering is a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/headline_matcher.h"
#include "rules/time.h"

namespace aftershock::rules {

enum class severity : std::uint8_t { info, warning, critical };
const char* to_string(severity s) noexcept;

enum class alert_status : std::uint8_t { firing, resolved };
const char* to_string(alert_status s) noexcept;

/// A headline cited as a likely cause, and why it was linked.
struct citation {
  std::string id;
  std::string headline;
  std::string source;
  std::string url;
  time_ns published = 0;
  link_kind how = link_kind::direct;
  std::string matched;        // alias, feed symbol or theme keyword that linked it
  std::size_t position = 0;   // byte offset of `matched` in the headline
  std::string theme;          // for theme links: the theme's name
};

/// The reference a move is measured against, named in every price alert.
struct baseline {
  std::string kind;           // "prev_close", "window_low", "window_high", ...
  double price = 0;           // the reference price
  time_ns time = 0;           // when the reference price was set
  std::string description;    // "previous close 142.62 (2025-01-24, XNAS)"
};

struct alert {
  std::string id;             // unique per firing: hash of fingerprint and event time
  std::string fingerprint;    // stable identity: hash of rule, symbol, direction, baseline kind
  alert_status status = alert_status::firing;
  std::string kind;           // "move", "news_reaction", "basket_move", "limit_hit", "feed_stale"
  std::string rule;           // configured rule name
  severity level = severity::warning;
  std::string symbol;         // empty for alerts about no single symbol
  std::string name;           // display name of the symbol ("Nvidia")
  std::string exchange;       // MIC, e.g. "XNAS"
  std::string time_zone;      // the exchange's IANA zone name, for display
  std::int32_t utc_offset_s = 0;  // the exchange's UTC offset at event_time
  std::vector<std::string> symbols;  // for multi-symbol alerts
  std::optional<double> change_pct;  // signed percent move; nullopt for non-price alerts
  std::string direction;      // "up" or "down" (empty for non-price alerts)
  double price = 0;           // the price that crossed
  std::optional<baseline> base;
  time_ns window = 0;         // for window rules: the window length; 0 otherwise
  double threshold_pct = 0;   // the threshold that was crossed
  time_ns event_time = 0;     // market time the condition held
  std::vector<citation> headlines;
  std::string follow_up_of;   // for follow-ups citing a late headline: the first alert's id
  std::vector<std::pair<std::string, double>> facts;  // rule-specific numbers (z, volume ...)
  std::string summary;        // one line for people
};

/// Renders one alert as a single-line JSON object (no trailing newline). Deterministic:
/// the same alert always gives the same bytes.
std::string to_json(const alert& a);

/// Escapes text for inclusion inside a JSON string literal (UTF-8 passed through; control
/// characters and invalid UTF-8 bytes escaped or replaced).
void append_json_string(std::string& out, std::string_view text);

}  // namespace aftershock::rules
