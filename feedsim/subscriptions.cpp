#include "feedsim/subscriptions.h"

#include <algorithm>

namespace aftershock::feedsim {

bool symbol_set::add(std::string_view symbol) {
  if (index_.find(symbol) != index_.end()) return false;
  order_.emplace_back(symbol);
  index_.emplace(symbol);
  if (symbol == "*") wildcard_ = true;
  return true;
}

bool symbol_set::remove(std::string_view symbol) {
  auto it = index_.find(symbol);
  if (it == index_.end()) return false;
  index_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), symbol));
  if (symbol == "*") wildcard_ = false;
  return true;
}

bool symbol_set::contains(std::string_view symbol) const {
  return index_.find(symbol) != index_.end();
}

bool symbol_set::matches(std::string_view symbol) const {
  return wildcard_ || (!symbol.empty() && contains(symbol));
}

const std::vector<std::string_view>& alpaca_channels(feeds::dialect d) {
  static const std::vector<std::string_view> stocks = {
      "trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "imbalances"};
  static const std::vector<std::string_view> news = {"news"};
  static const std::vector<std::string_view> none;
  if (d == feeds::dialect::alpaca_stocks) return stocks;
  if (d == feeds::dialect::alpaca_news) return news;
  return none;
}

std::string_view alpaca_channel_of(std::string_view type) noexcept {
  if (type.size() != 1) return {};
  switch (type[0]) {
    case 't':
    case 'c':
    case 'x':
      return "trades";
    case 'q':
      return "quotes";
    case 'b':
      return "bars";
    case 'd':
      return "dailyBars";
    case 'u':
      return "updatedBars";
    case 's':
      return "statuses";
    case 'l':
      return "lulds";
    case 'i':
      return "imbalances";
    case 'n':
      return "news";
    default:
      return {};
  }
}

subscriptions::subscriptions(feeds::dialect d) : dialect_(d) {}

symbol_set& subscriptions::channel(std::string_view name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) it = channels_.emplace(std::string(name), symbol_set{}).first;
  return it->second;
}

const symbol_set* subscriptions::find(std::string_view name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : &it->second;
}

bool subscriptions::empty() const {
  if (dialect_ == feeds::dialect::generic) return false;
  return std::all_of(channels_.begin(), channels_.end(),
                     [](const auto& kv) { return kv.second.empty(); });
}

bool subscriptions::any_channel_matches(std::string_view symbol) const {
  return std::any_of(channels_.begin(), channels_.end(),
                     [&](const auto& kv) { return kv.second.matches(symbol); });
}

bool subscriptions::wants(const data_frame& frame, const frame_element& el) const {
  auto any_tag = [&](const symbol_set& set) {
    if (set.matches({})) return true;  // "*"
    for (std::uint32_t k = 0; k < el.symbols_count; ++k) {
      if (set.contains(frame.symbol_pool()[el.symbols_begin + k])) return true;
    }
    return false;
  };
  switch (dialect_) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news: {
      const std::string_view ch = alpaca_channel_of(el.kind);
      if (ch.empty()) return any_channel_matches(el.symbol);  // a type we have no channel for
      const symbol_set* set = find(ch);
      if (set == nullptr) return false;
      return ch == "news" ? any_tag(*set) : set->matches(el.symbol);
    }
    case feeds::dialect::polygon_stocks: {
      const symbol_set* set = find(el.kind);
      return set != nullptr && set->matches(el.symbol);
    }
    case feeds::dialect::finnhub: {
      if (el.kind == "trade") {
        const symbol_set* set = find("trades");
        return set != nullptr && set->matches(el.symbol);
      }
      if (el.kind == "news" || el.kind == "pr") {
        const symbol_set* set = find(el.kind);
        return set != nullptr && any_tag(*set);
      }
      return !empty();  // a type we do not know: to every subscribed client
    }
    case feeds::dialect::binance: {
      const symbol_set* set = find("streams");
      return set != nullptr && set->contains(el.kind);
    }
    case feeds::dialect::generic:
      return true;
  }
  return false;
}

bool subscriptions::wants_every(std::string_view kind) const {
  // Mirrors wants(): "*" is the only way a set matches every symbol (matches({}) is true
  // exactly for "*").
  auto wildcard = [&](std::string_view channel) {
    const symbol_set* set = find(channel);
    return set != nullptr && set->matches({});
  };
  switch (dialect_) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news: {
      const std::string_view ch = alpaca_channel_of(kind);
      if (ch.empty()) return any_channel_matches({});
      return wildcard(ch);
    }
    case feeds::dialect::polygon_stocks:
      return wildcard(kind);
    case feeds::dialect::finnhub:
      if (kind == "trade") return wildcard("trades");
      if (kind == "news" || kind == "pr") return wildcard(kind);
      return !empty();
    case feeds::dialect::binance: {
      const symbol_set* set = find("streams");
      return set != nullptr && set->contains(kind);
    }
    case feeds::dialect::generic:
      return true;
  }
  return false;
}

void subscriptions::select(const data_frame& frame, std::vector<std::uint32_t>& out) const {
  out.clear();
  if (frame.dialect() != dialect_) return;
  if (frame.opaque()) {
    if (!empty()) out.push_back(0);
    return;
  }
  const auto& els = frame.elements();
  for (std::uint32_t i = 0; i < els.size(); ++i) {
    if (!els[i].control && wants(frame, els[i])) out.push_back(i);
  }
}

}  // namespace aftershock::feedsim
