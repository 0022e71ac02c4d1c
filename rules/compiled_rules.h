// The validated, indexed form of a rules_config that the engine runs: the headline matcher,
// one calendar per exchange, symbol metadata and basket/theme indexes. Built once per config
// load (startup or reload) and then shared read-only, so engines on any thread may hold it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/exchange_calendar.h"
#include "rules/headline_matcher.h"
#include "rules/rules_config.h"

namespace aftershock::rules {

/// A semantic problem in a config, located by its path in the document ("rules[2].window"),
/// which the loader turns into FILE:LINE:COL.
struct config_problem {
  std::string path;
  std::string message;
};

struct symbol_info {
  std::string symbol;
  std::string name;
  std::size_t exchange = 0;              // index into calendars()
  std::vector<std::string> baskets;      // sorted
  bool in_universe = false;
};

class compiled_rules {
 public:
  /// Validates and compiles. Problems are appended to `problems`; returns nullptr if any.
  static std::shared_ptr<const compiled_rules> compile(const rules_config& config,
                                                       std::vector<config_problem>& problems);

  const rules_config& config() const noexcept { return config_; }
  const headline_matcher& matcher() const noexcept { return matcher_; }
  const std::vector<exchange_calendar>& calendars() const noexcept { return calendars_; }

  /// Metadata for a universe symbol, or nullptr.
  const symbol_info* find_symbol(const std::string& symbol) const noexcept;
  /// Exchange index for any symbol: configured, else by suffix, else the default exchange.
  std::size_t exchange_for(const std::string& symbol) const noexcept;
  /// Baskets a theme links to.
  const std::vector<std::string>& theme_baskets(const std::string& theme) const noexcept;
  /// Daily price-limit percentage for a symbol (exceptions, then exchange and code prefix),
  /// or nullopt where no limit applies.
  std::optional<double> price_limit_pct(const std::string& symbol) const noexcept;
  /// Members of a basket (empty if unknown).
  const std::vector<std::string>& basket_members(const std::string& basket) const noexcept;
  /// Does the rule apply to this symbol (its symbol and basket filters)?
  bool rule_applies(std::size_t rule_index, const std::string& symbol) const noexcept;

 private:
  compiled_rules(rules_config config, headline_matcher matcher);
  std::size_t exchange_by_suffix(const std::string& symbol) const noexcept;

  rules_config config_;
  headline_matcher matcher_;
  std::vector<exchange_calendar> calendars_;
  std::unordered_map<std::string, symbol_info> symbols_;
  std::vector<std::pair<std::string, std::size_t>> suffixes_;  // longest first
  std::size_t default_exchange_ = 0;
  std::unordered_map<std::string, std::vector<std::string>> theme_baskets_;
};

}  // namespace aftershock::rules
