#include "rules/news_linker.h"

#include <algorithm>
#include <tuple>

namespace aftershock::rules {

const news_linker::stored* news_linker::get(std::uint64_t seq) const noexcept {
  if (seq < first_seq_ || seq - first_seq_ >= items_.size()) return nullptr;
  const stored& s = items_[seq - first_seq_];
  return s.live ? &s : nullptr;
}

void news_linker::index(std::uint64_t seq) {
  const stored& s = items_[seq - first_seq_];
  for (const auto& m : s.matches.entities) by_symbol_[m.symbol].push_back(seq);
  for (const auto& t : s.matches.themes) by_theme_[t.theme].push_back(seq);
}

bool news_linker::add(const news& item, const compiled_rules& rules) {
  auto existing = by_id_.find(item.id);
  if (existing != by_id_.end()) {
    const std::uint64_t old_seq = existing->second;
    stored* old = old_seq >= first_seq_ && old_seq - first_seq_ < items_.size() &&
                          items_[old_seq - first_seq_].live
                      ? &items_[old_seq - first_seq_]
                      : nullptr;
    if (old && item.updated > old->item.updated) {
      // An edited article: keep its place, refresh text and matches.
      old->live = false;
      ++stats_.updates;
    } else {
      ++stats_.duplicates;
      return false;
    }
  } else {
    ++stats_.headlines;
  }
  stored s;
  s.item = item;
  std::string text = item.headline;
  s.matches = rules.matcher().match(text, item.symbols);
  if (!s.matches.entities.empty() || !s.matches.themes.empty()) ++stats_.linked;
  last_matches_ = s.matches;
  const std::uint64_t seq = first_seq_ + items_.size();
  items_.push_back(std::move(s));
  by_id_[item.id] = seq;
  index(seq);
  evict_to(rules.config().news.max_stored);
  return true;
}

void news_linker::evict_to(std::size_t max_stored) {
  while (items_.size() > max_stored) {
    const stored& s = items_.front();
    if (s.live) {
      auto it = by_id_.find(s.item.id);
      if (it != by_id_.end() && it->second == first_seq_) by_id_.erase(it);
      ++stats_.evicted;
    }
    items_.pop_front();
    ++first_seq_;
  }
  // Index vectors keep stale sequence numbers until they are next read; trim them when they
  // hold many, so memory stays bounded by max_stored.
  auto trim = [&](auto& map) {
    for (auto it = map.begin(); it != map.end();) {
      auto& v = it->second;
      if (!v.empty() && v.front() < first_seq_) {
        v.erase(v.begin(), std::lower_bound(v.begin(), v.end(), first_seq_));
      }
      it = v.empty() ? map.erase(it) : std::next(it);
    }
  };
  if (first_seq_ % 4096 == 0 && first_seq_ != 0) {
    trim(by_symbol_);
    trim(by_theme_);
  }
}

void news_linker::rematch(const compiled_rules& rules) {
  by_symbol_.clear();
  by_theme_.clear();
  for (std::size_t i = 0; i < items_.size(); ++i) {
    stored& s = items_[i];
    if (!s.live) continue;
    s.matches = rules.matcher().match(s.item.headline, s.item.symbols);
    index(first_seq_ + i);
  }
}

std::vector<citation> news_linker::cite(const std::string& symbol, time_ns from, time_ns to,
                                        std::size_t limit, const compiled_rules& rules) const {
  std::vector<citation> found;
  auto in_range = [&](const stored& s) { return s.item.time >= from && s.item.time <= to; };
  auto make = [](const stored& s) {
    citation c;
    c.id = s.item.id;
    c.headline = s.item.headline;
    c.source = s.item.source;
    c.url = s.item.url;
    c.published = s.item.time;
    return c;
  };
  auto seen = [&](const std::string& id) {
    return std::any_of(found.begin(), found.end(), [&](const citation& c) { return c.id == id; });
  };

  if (auto it = by_symbol_.find(symbol); it != by_symbol_.end()) {
    for (std::uint64_t seq : it->second) {
      const stored* s = get(seq);
      if (!s || !in_range(*s) || seen(s->item.id)) continue;
      for (const auto& m : s->matches.entities) {
        if (m.symbol != symbol) continue;
        citation c = make(*s);
        c.how = m.how;
        c.matched = m.alias;
        c.position = m.position;
        found.push_back(std::move(c));
        break;
      }
    }
  }
  if (const symbol_info* info = rules.find_symbol(symbol)) {
    // Themes in configuration order: the first configured theme a headline matches names it.
    for (const theme_spec& spec : rules.config().themes) {
      const std::string& theme = spec.name;
      const auto indexed = by_theme_.find(theme);
      if (indexed == by_theme_.end()) continue;
      const auto& seqs = indexed->second;
      const auto& baskets = rules.theme_baskets(theme);
      const bool linked = std::any_of(baskets.begin(), baskets.end(), [&](const std::string& b) {
        return std::binary_search(info->baskets.begin(), info->baskets.end(), b);
      });
      if (!linked) continue;
      for (std::uint64_t seq : seqs) {
        const stored* s = get(seq);
        if (!s || !in_range(*s) || seen(s->item.id)) continue;
        for (const auto& t : s->matches.themes) {
          if (t.theme != theme) continue;
          citation c = make(*s);
          c.how = link_kind::theme;
          c.matched = t.keyword;
          c.position = t.position;
          c.theme = theme;
          found.push_back(std::move(c));
          break;
        }
      }
    }
  }
  // Best first: strongest link, then newest, then id for a deterministic order.
  std::sort(found.begin(), found.end(), [](const citation& a, const citation& b) {
    return std::make_tuple(static_cast<int>(a.how), -a.published, a.id) <
           std::make_tuple(static_cast<int>(b.how), -b.published, b.id);
  });
  if (found.size() > limit) found.resize(limit);
  return found;
}

}  // namespace aftershock::rules
