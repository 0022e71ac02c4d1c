#include "rules/compiled_rules.h"

#include <algorithm>
#include <set>

namespace aftershock::rules {

namespace {
constexpr std::size_t k_unresolved = static_cast<std::size_t>(-1);
}  // namespace

namespace {

struct rule_kind_name {
  rule_kind kind;
  const char* name;
};
constexpr rule_kind_name k_rule_kinds[] = {
    {rule_kind::prev_close_move, "prev_close_move"}, {rule_kind::window_move, "window_move"},
    {rule_kind::zscore_move, "zscore_move"},         {rule_kind::volume_spike, "volume_spike"},
    {rule_kind::opening_gap, "opening_gap"},         {rule_kind::price_limit, "price_limit"},
    {rule_kind::trading_halt, "trading_halt"},       {rule_kind::luld, "luld"},
    {rule_kind::basket_breadth, "basket_breadth"},   {rule_kind::unexplained_move, "unexplained_move"},
};

struct frequency_name {
  trigger_frequency frequency;
  const char* name;
};
constexpr frequency_name k_frequencies[] = {
    {trigger_frequency::on_cross, "on_cross"},
    {trigger_frequency::once, "once"},
    {trigger_frequency::once_per_bar, "once_per_bar"},
    {trigger_frequency::every_time, "every_time"},
};

}  // namespace

const char* to_string(rule_kind k) noexcept {
  for (const auto& e : k_rule_kinds) {
    if (e.kind == k) return e.name;
  }
  return "unknown";
}

std::optional<rule_kind> rule_kind_from_string(std::string_view s) noexcept {
  for (const auto& e : k_rule_kinds) {
    if (s == e.name) return e.kind;
  }
  return std::nullopt;
}

const char* to_string(trigger_frequency f) noexcept {
  for (const auto& e : k_frequencies) {
    if (e.frequency == f) return e.name;
  }
  return "on_cross";
}

std::optional<trigger_frequency> trigger_frequency_from_string(std::string_view s) noexcept {
  for (const auto& e : k_frequencies) {
    if (s == e.name) return e.frequency;
  }
  return std::nullopt;
}

compiled_rules::compiled_rules(rules_config config, headline_matcher matcher)
    : config_(std::move(config)), matcher_(std::move(matcher)) {}

std::shared_ptr<const compiled_rules> compiled_rules::compile(
    const rules_config& config, std::vector<config_problem>& problems) {
  const std::size_t problems_before = problems.size();
  auto add = [&](std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  };

  // Exchanges and their calendars.
  std::vector<exchange_calendar> calendars;
  std::unordered_map<std::string, std::size_t> exchange_index;
  for (std::size_t i = 0; i < config.exchanges.size(); ++i) {
    const exchange_spec& ex = config.exchanges[i];
    const std::string path = "exchanges[" + std::to_string(i) + "]";
    if (ex.mic.empty()) add(path + ".mic", "an exchange needs a MIC such as XNYS");
    if (exchange_index.count(ex.mic)) add(path + ".mic", "exchange " + ex.mic + " is defined twice");
    std::string why;
    auto tz = posix_time_zone::parse(ex.tz_rule, &why);
    if (!tz) {
      add(path + ".tz_rule", "bad POSIX TZ rule '" + ex.tz_rule + "': " + why +
                                 " (example: EST5EDT,M3.2.0,M11.1.0)");
      continue;
    }
    if (ex.regular.empty()) add(path + ".regular", "exchange " + ex.mic + " has no regular session");
    exchange_index.emplace(ex.mic, calendars.size());
    calendars.emplace_back(ex, *tz);
  }
  if (config.exchanges.empty()) add("exchanges", "at least one exchange is required");

  auto lookup_exchange = [&](const std::string& mic, const std::string& path) -> std::size_t {
    auto it = exchange_index.find(mic);
    if (it == exchange_index.end()) {
      add(path, "unknown exchange '" + mic + "' (define it under exchanges)");
      return 0;
    }
    return it->second;
  };

  std::vector<entity_spec> entities;
  entities.reserve(config.universe.size());
  std::unordered_map<std::string, symbol_info> symbols;
  for (std::size_t i = 0; i < config.universe.size(); ++i) {
    const symbol_spec& s = config.universe[i];
    const std::string path = "universe[" + std::to_string(i) + "]";
    if (s.entity.symbol.empty()) {
      add(path + ".symbol", "a universe entry needs a symbol");
      continue;
    }
    if (symbols.count(s.entity.symbol)) {
      add(path + ".symbol", "symbol " + s.entity.symbol + " is listed twice");
      continue;
    }
    symbol_info info;
    info.symbol = s.entity.symbol;
    info.name = s.entity.name.empty() ? s.entity.symbol : s.entity.name;
    info.in_universe = true;
    // An empty exchange is resolved from the symbol's suffix once the suffix table exists.
    info.exchange = s.exchange.empty() ? k_unresolved : lookup_exchange(s.exchange, path + ".exchange");
    symbols.emplace(info.symbol, std::move(info));
    entities.push_back(s.entity);
  }

  for (const auto& [basket, members] : config.baskets) {
    for (std::size_t j = 0; j < members.size(); ++j) {
      auto it = symbols.find(members[j]);
      if (it == symbols.end()) {
        add("baskets." + basket + "[" + std::to_string(j) + "]",
            "basket " + basket + " names " + members[j] + ", which is not in the universe");
        continue;
      }
      it->second.baskets.push_back(basket);
    }
  }
  for (auto& [_, info] : symbols) {
    std::sort(info.baskets.begin(), info.baskets.end());
    info.baskets.erase(std::unique(info.baskets.begin(), info.baskets.end()), info.baskets.end());
  }

  std::unordered_map<std::string, std::vector<std::string>> theme_baskets;
  for (std::size_t i = 0; i < config.themes.size(); ++i) {
    const theme_spec& t = config.themes[i];
    const std::string path = "themes[" + std::to_string(i) + "]";
    if (t.name.empty()) add(path + ".name", "a theme needs a name");
    if (t.keywords.empty()) add(path + ".keywords", "theme " + t.name + " has no keywords");
    for (std::size_t j = 0; j < t.baskets.size(); ++j) {
      if (!config.baskets.count(t.baskets[j])) {
        add(path + ".baskets[" + std::to_string(j) + "]",
            "theme " + t.name + " links to basket " + t.baskets[j] + ", which is not defined");
      }
    }
    theme_baskets[t.name] = t.baskets;
  }

  std::set<std::string> rule_names;
  for (std::size_t i = 0; i < config.rules.size(); ++i) {
    const rule_spec& r = config.rules[i];
    const std::string path = "rules[" + std::to_string(i) + "]";
    if (r.name.empty()) add(path + ".name", "a rule needs a name");
    if (!rule_names.insert(r.name).second) add(path + ".name", "rule name " + r.name + " is used twice");
    if (!(r.threshold_pct > 0) || r.threshold_pct > 1000) {
      add(path + ".threshold_pct", "threshold_pct must be a percentage above 0 (e.g. 5)");
    }
    double previous = r.threshold_pct;
    for (std::size_t j = 0; j < r.escalation_pct.size(); ++j) {
      if (!(r.escalation_pct[j] > previous)) {
        add(path + ".escalation_pct[" + std::to_string(j) + "]",
            "escalation levels must rise above the threshold and each other");
      }
      previous = r.escalation_pct[j];
    }
    if ((r.kind == rule_kind::window_move || r.kind == rule_kind::zscore_move) && r.window <= 0) {
      add(path + ".window", "a " + std::string(to_string(r.kind)) + " rule needs a window such as 15m");
    }
    if (r.confirm < 0 || r.confirm > 10) add(path + ".confirm", "confirm must be between 0 and 10");
    if (r.cooldown < 0) add(path + ".cooldown", "cooldown must not be negative");
    if (!(r.cooldown_backoff >= 1.0) || r.cooldown_backoff > 100) {
      add(path + ".cooldown_backoff", "cooldown_backoff must be at least 1 (2 doubles it per re-fire)");
    }
    if (!(r.rearm_margin_pct >= 0) || r.rearm_margin_pct >= r.threshold_pct) {
      add(path + ".rearm_margin_pct", "rearm_margin_pct must be at least 0 and below threshold_pct");
    }
    if (r.kind == rule_kind::zscore_move) {
      if (!(r.z_threshold > 0)) add(path + ".z_threshold", "z_threshold must be positive (e.g. 4)");
      if (r.min_history < 2) add(path + ".min_history", "min_history must be at least 2 returns");
      if (r.history < r.min_history) add(path + ".history", "history must be at least min_history");
    }
    if (r.kind == rule_kind::volume_spike) {
      if (!(r.volume_factor > 1)) add(path + ".volume_factor", "volume_factor must be above 1 (e.g. 3)");
      if (r.bucket < k_ns_per_min || k_ns_per_day % r.bucket != 0) {
        add(path + ".bucket", "bucket must divide the day into whole buckets (e.g. 30m)");
      }
      if (r.min_days < 1) add(path + ".min_days", "min_days must be at least 1");
    }
    if (r.kind == rule_kind::basket_breadth && r.min_members < 2) {
      add(path + ".min_members", "min_members must be at least 2 (one member is not breadth)");
    }
    if (r.bar <= 0) add(path + ".bar", "bar must be positive (e.g. 1m)");
    if (r.min_interval < 0) add(path + ".min_interval", "min_interval must not be negative");
    for (std::size_t j = 0; j < r.symbols.size(); ++j) {
      if (!symbols.count(r.symbols[j])) {
        add(path + ".symbols[" + std::to_string(j) + "]",
            "rule " + r.name + " names " + r.symbols[j] + ", which is not in the universe");
      }
    }
    for (std::size_t j = 0; j < r.baskets.size(); ++j) {
      if (!config.baskets.count(r.baskets[j])) {
        add(path + ".baskets[" + std::to_string(j) + "]",
            "rule " + r.name + " names basket " + r.baskets[j] + ", which is not defined");
      }
    }
  }
  if (config.news.max_citations == 0 || config.news.max_citations > 20) {
    add("news.max_citations", "max_citations must be between 1 and 20");
  }
  if (config.news.lookback <= 0) add("news.lookback", "news.lookback must be positive (e.g. 72h)");
  if (config.news.lookahead < 0) add("news.lookahead", "news.lookahead must not be negative");
  if (config.news.max_stored < 1) add("news.max_stored", "news.max_stored must be at least 1");
  if (config.storm.max_alerts < 1) add("storm.max_alerts", "storm.max_alerts must be at least 1");
  if (config.storm.window <= 0) add("storm.window", "storm.window must be positive (e.g. 5m)");
  if (!(config.outlier_pct > 0)) add("outlier_pct", "outlier_pct must be positive (e.g. 20)");
  for (std::size_t i = 0; i < config.price_limits.size(); ++i) {
    const auto& pl = config.price_limits[i];
    const std::string path = "price_limits[" + std::to_string(i) + "]";
    if (!exchange_index.count(pl.exchange)) {
      add(path + ".exchange", "unknown exchange '" + pl.exchange + "' (define it under exchanges)");
    }
    if (!(pl.limit_pct > 0) || pl.limit_pct >= 100) add(path + ".limit_pct", "limit_pct must be between 0 and 100");
  }
  for (std::size_t i = 0; i < config.price_limit_exceptions.size(); ++i) {
    const auto& ex = config.price_limit_exceptions[i];
    if (ex.limit_pct && (!(*ex.limit_pct > 0) || *ex.limit_pct >= 100)) {
      add("price_limit_exceptions[" + std::to_string(i) + "].limit_pct",
          "limit_pct must be between 0 and 100, or none for no limit");
    }
  }

  std::size_t default_exchange = 0;
  if (!config.exchanges.empty()) {
    default_exchange = lookup_exchange(config.default_exchange, "default_exchange");
  }

  std::vector<matcher_error> matcher_errors;
  headline_matcher matcher(entities, config.themes, &matcher_errors);
  for (const auto& e : matcher_errors) add("universe", e.message);

  if (problems.size() != problems_before) return nullptr;

  auto compiled = std::shared_ptr<compiled_rules>(new compiled_rules(config, std::move(matcher)));
  compiled->calendars_ = std::move(calendars);
  compiled->default_exchange_ = default_exchange;
  for (const auto& [mic, index] : exchange_index) {
    for (const auto& suffix : compiled->calendars_[index].spec().suffixes) {
      compiled->suffixes_.emplace_back(suffix, index);
    }
  }
  std::sort(compiled->suffixes_.begin(), compiled->suffixes_.end(),
            [](const auto& a, const auto& b) {
              return a.first.size() != b.first.size() ? a.first.size() > b.first.size()
                                                      : a.first < b.first;
            });
  compiled->symbols_ = std::move(symbols);
  for (auto& [symbol, info] : compiled->symbols_) {
    if (info.exchange == k_unresolved) {
      info.exchange = compiled->exchange_by_suffix(symbol);
    }
  }
  compiled->theme_baskets_ = std::move(theme_baskets);
  return compiled;
}

std::size_t compiled_rules::exchange_by_suffix(const std::string& symbol) const noexcept {
  for (const auto& [suffix, index] : suffixes_) {
    if (symbol.size() > suffix.size() &&
        symbol.compare(symbol.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return index;
    }
  }
  return default_exchange_;
}

const symbol_info* compiled_rules::find_symbol(const std::string& symbol) const noexcept {
  auto it = symbols_.find(symbol);
  return it == symbols_.end() ? nullptr : &it->second;
}

std::size_t compiled_rules::exchange_for(const std::string& symbol) const noexcept {
  if (const symbol_info* info = find_symbol(symbol)) return info->exchange;
  return exchange_by_suffix(symbol);
}

const std::vector<std::string>& compiled_rules::theme_baskets(
    const std::string& theme) const noexcept {
  static const std::vector<std::string> k_none;
  auto it = theme_baskets_.find(theme);
  return it == theme_baskets_.end() ? k_none : it->second;
}

std::optional<double> compiled_rules::price_limit_pct(const std::string& symbol) const noexcept {
  for (const auto& ex : config_.price_limit_exceptions) {
    if (ex.symbol == symbol) return ex.limit_pct;
  }
  const std::string& mic = calendars_[exchange_for(symbol)].spec().mic;
  for (const auto& pl : config_.price_limits) {
    if (pl.exchange != mic) continue;
    if (pl.prefixes.empty()) return pl.limit_pct;
    for (const auto& prefix : pl.prefixes) {
      if (symbol.compare(0, prefix.size(), prefix) == 0) return pl.limit_pct;
    }
  }
  return std::nullopt;
}

const std::vector<std::string>& compiled_rules::basket_members(const std::string& basket) const noexcept {
  static const std::vector<std::string> k_none;
  auto it = config_.baskets.find(basket);
  return it == config_.baskets.end() ? k_none : it->second;
}

bool compiled_rules::rule_applies(std::size_t rule_index, const std::string& symbol) const noexcept {
  const rule_spec& r = config_.rules[rule_index];
  if (r.symbols.empty() && r.baskets.empty()) return true;
  if (std::find(r.symbols.begin(), r.symbols.end(), symbol) != r.symbols.end()) return true;
  const symbol_info* info = find_symbol(symbol);
  if (!info) return false;
  for (const auto& b : r.baskets) {
    if (std::binary_search(info->baskets.begin(), info->baskets.end(), b)) return true;
  }
  return false;
}

}  // namespace aftershock::rules
