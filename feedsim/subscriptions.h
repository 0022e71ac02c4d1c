// What one client has subscribed to, in its vendor's terms, and which elements of a data frame
// it therefore gets. One channel -> symbol set map serves every vendor:
//   Alpaca   trades quotes bars dailyBars updatedBars statuses lulds imbalances | news
//            (corrections `c` and cancel/errors `x` come with trades, as Alpaca sends them)
//   Polygon  the event prefix of each "T.NVDA" item: T, Q, A, AM, LULD ...
//   Finnhub  trades (subscribe), news (subscribe-news), pr (subscribe-pr)
//   Binance  streams: "btcusdt@trade" ...
//   generic  everything, always
// "*" in a set matches every symbol. One instance per connection: not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "feeds/frame_parser.h"
#include "feedsim/data_frame.h"

namespace aftershock::feedsim {

/// Symbols in the order they were first subscribed (acks list them so), with fast lookup.
class symbol_set {
 public:
  /// False when already present.
  bool add(std::string_view symbol);
  /// False when absent.
  bool remove(std::string_view symbol);
  bool contains(std::string_view symbol) const;
  /// Contains `symbol` or "*".
  bool matches(std::string_view symbol) const;
  bool empty() const noexcept { return order_.empty(); }
  std::size_t size() const noexcept { return order_.size(); }
  const std::vector<std::string>& list() const noexcept { return order_; }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::vector<std::string> order_;
  std::unordered_set<std::string, hash, std::equal_to<>> index_;
  bool wildcard_ = false;
};

/// The Alpaca channel names a dialect accepts, in the order acks list them.
const std::vector<std::string_view>& alpaca_channels(feeds::dialect d);
/// The Alpaca channel a message type `T` belongs to ("t", "c", "x" -> trades ...); empty for
/// types no subscription names (they go to clients subscribed to the symbol anywhere).
std::string_view alpaca_channel_of(std::string_view type) noexcept;

class subscriptions {
 public:
  explicit subscriptions(feeds::dialect d);

  feeds::dialect dialect() const noexcept { return dialect_; }
  /// The set for a channel (created empty on first use).
  symbol_set& channel(std::string_view name);
  /// The set for a channel, or nullptr when never used.
  const symbol_set* find(std::string_view name) const;
  /// Every channel used so far, by name.
  const std::map<std::string, symbol_set, std::less<>>& channels() const noexcept {
    return channels_;
  }
  /// Nothing subscribed anywhere (generic: never).
  bool empty() const;

  /// Binance: wrap events as {"stream":..,"data":..}.
  bool binance_combined = false;

  /// The indexes of the frame's elements this client gets, in frame order. Opaque frames
  /// (generic, raw) go to every client with a non-empty subscription.
  void select(const data_frame& frame, std::vector<std::uint32_t>& out) const;

  /// True when select() would keep every data element of this kind (frame_element::kind),
  /// whatever its symbols: a frame made only of data elements of such kinds goes out whole,
  /// without being scanned per client. False when that depends on the symbols.
  bool wants_every(std::string_view kind) const;

 private:
  bool wants(const data_frame& frame, const frame_element& el) const;
  bool any_channel_matches(std::string_view symbol) const;

  feeds::dialect dialect_;
  std::map<std::string, symbol_set, std::less<>> channels_;
};

}  // namespace aftershock::feedsim
