// The vocabulary every feed produces and the rules engine consumes: market events that carry
// their own market time. Plain values; safe to copy and to move between threads.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "rules/time.h"

namespace aftershock::rules {

/// A print on the tape. `id` is the vendor's trade id when it has one (0 otherwise).
struct trade {
  std::string symbol;
  double price = 0;
  double size = 0;
  time_ns time = 0;
  std::int64_t id = 0;
};

/// Top of book. Not used for moves (quotes flicker); kept for staleness and future rules.
struct quote {
  std::string symbol;
  double bid = 0, ask = 0;
  double bid_size = 0, ask_size = 0;
  time_ns time = 0;
};

enum class bar_kind : std::uint8_t { minute, updated_minute, daily, second };

/// An aggregate bar. `start` labels it; `end` is when it became known (start + length).
struct bar {
  std::string symbol;
  bar_kind kind = bar_kind::minute;
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  time_ns start = 0;
  time_ns end = 0;
};

/// A headline from a news feed. `id` is the vendor's id as text (Alpaca ints and generic strings).
struct news {
  std::string id;
  std::string headline;
  std::string summary;
  std::string url;
  std::string source;
  std::string lang;
  std::vector<std::string> symbols;  // tickers the vendor tagged
  time_ns time = 0;                  // published (created_at) time
  time_ns updated = 0;               // vendor's updated_at, 0 if none
};

/// A trading status change (US halt and resume codes, pauses).
struct trading_status {
  std::string symbol;
  std::string status_code;  // Alpaca `sc`, e.g. "H" halt, "T" resume
  std::string status_message;
  std::string reason_code;
  std::string reason_message;
  time_ns time = 0;
};

/// Limit up / limit down price bands.
struct luld_band {
  std::string symbol;
  double limit_up = 0, limit_down = 0;
  std::string indicator;
  time_ns time = 0;
};

/// A correction of an earlier print (Alpaca `c`): the original trade is replaced.
struct trade_correction {
  std::string symbol;
  std::int64_t original_id = 0;
  double original_price = 0, original_size = 0;
  std::int64_t corrected_id = 0;
  double corrected_price = 0, corrected_size = 0;
  time_ns time = 0;
};

/// A cancel or error of an earlier print (Alpaca `x`): the trade is withdrawn.
struct trade_cancel {
  std::string symbol;
  std::int64_t id = 0;
  double price = 0, size = 0;
  bool is_error = false;  // "E" error rather than "C" cancel
  time_ns time = 0;
};

using event = std::variant<trade, quote, bar, news, trading_status, luld_band, trade_correction,
                           trade_cancel>;

/// The market time an event carries.
time_ns event_time(const event& e) noexcept;

/// The symbol an event is about, or empty for news.
const std::string& event_symbol(const event& e) noexcept;

}  // namespace aftershock::rules
