// Remembers recent headlines with what they matched, and picks the ones that likely explain a
// move: direct mentions first, then vendor tags, then theme links through the symbol's baskets,
// newest first within each, at most K. Owned by one engine; single-threaded, no locks.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/alert.h"
#include "rules/compiled_rules.h"
#include "rules/event.h"

namespace aftershock::rules {

struct news_stats {
  std::uint64_t headlines = 0;       // distinct headlines stored
  std::uint64_t duplicates = 0;      // same id again with nothing newer
  std::uint64_t updates = 0;         // same id with a newer updated_at
  std::uint64_t linked = 0;          // headlines that matched a symbol or theme
  std::uint64_t evicted = 0;         // dropped to stay within max_stored
};

class news_linker {
 public:
  /// Matches and stores a headline. Returns true if it is new or an update.
  bool add(const news& item, const compiled_rules& rules);

  /// Headlines for `symbol` published in [from, to], best first, at most `limit`.
  std::vector<citation> cite(const std::string& symbol, time_ns from, time_ns to,
                             std::size_t limit, const compiled_rules& rules) const;

  /// What the headline most recently accepted by add() matched.
  const match_result& last_matches() const noexcept { return last_matches_; }

  /// Re-matches every stored headline (after a reload changed aliases or themes).
  void rematch(const compiled_rules& rules);

  const news_stats& stats() const noexcept { return stats_; }

 private:
  struct stored {
    news item;
    match_result matches;
    bool live = true;
  };
  void index(std::uint64_t seq);
  void evict_to(std::size_t max_stored);
  const stored* get(std::uint64_t seq) const noexcept;

  std::deque<stored> items_;     // items_[seq - first_seq_]
  std::uint64_t first_seq_ = 0;
  std::unordered_map<std::string, std::uint64_t> by_id_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> by_symbol_;
  std::map<std::string, std::vector<std::uint64_t>> by_theme_;  // ordered: deterministic output
  news_stats stats_;
  match_result last_matches_;
};

}  // namespace aftershock::rules
