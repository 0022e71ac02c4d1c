#include "rules/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>

namespace aftershock::rules {

std::string stable_hash_hex(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 16);
}

namespace {

constexpr std::size_t k_recent_prints = 128;     // remembered per symbol: ids for corrections, windows to rebuild
constexpr std::size_t k_volume_days = 20;        // days of history per volume bucket
constexpr time_ns k_breadth_freshness = 12 * k_ns_per_hour;
constexpr time_ns k_zscore_max_gap = 5 * k_ns_per_min;

std::string format_price(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, p >= 1.0 ? "%.2f" : "%.4f", p);
  return buf;
}

std::string format_pct(double pct) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f%%", pct);
  return buf;
}

std::string format_number(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string format_date(std::int64_t day) {
  const civil_date d = civil_from_days(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(d.year), d.month, d.day);
  return buf;
}

// "04:33 EST" for an instant in an exchange's zone.
std::string format_local_clock(const exchange_calendar& cal, time_ns t) {
  const int minute = cal.local_minute(t);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d %s", minute / 60, minute % 60,
                cal.zone().abbreviation(t).c_str());
  return buf;
}

// Bit s set: the rule runs in session_kind s.
std::uint8_t session_mask(const rule_spec& r) {
  if (r.sessions.empty()) return 0x0F;
  std::uint8_t mask = 0;
  for (const session_kind s : r.sessions) mask |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(s));
  return mask;
}

bool session_allowed(std::uint8_t applies, session_kind s) {
  return (applies >> static_cast<unsigned>(s)) & 1u;
}

const char* alert_kind(rule_kind k) {
  switch (k) {
    case rule_kind::prev_close_move: return "move";
    case rule_kind::window_move: return "fast_move";
    case rule_kind::zscore_move: return "zscore_move";
    case rule_kind::volume_spike: return "volume_spike";
    case rule_kind::opening_gap: return "gap";
    case rule_kind::price_limit: return "limit_hit";
    case rule_kind::trading_halt: return "halt";
    case rule_kind::luld: return "luld";
    case rule_kind::basket_breadth: return "basket_move";
    case rule_kind::unexplained_move: return "unexplained_move";
  }
  return "move";
}

bool is_price_kind(rule_kind k) {
  return k != rule_kind::volume_spike && k != rule_kind::trading_halt;
}

// Highest level reached: 0 at the threshold, then each escalation level; -1 below.
int level_for(const rule_spec& r, double magnitude) {
  if (!(magnitude >= r.threshold_pct)) return -1;
  int level = 0;
  for (std::size_t i = 0; i < r.escalation_pct.size(); ++i) {
    if (magnitude >= r.escalation_pct[i]) level = static_cast<int>(i) + 1;
  }
  return level;
}

double level_pct(const rule_spec& r, int level) {
  return level <= 0 ? r.threshold_pct : r.escalation_pct[static_cast<std::size_t>(level - 1)];
}

double round_cents(double v) { return std::floor(v * 100.0 + 0.5) / 100.0; }

bool is_halt_code(const std::string& c) { return c == "H" || c == "P" || c == "2"; }
bool is_resume_code(const std::string& c) { return c == "T" || c == "3"; }

void sort_citations(std::vector<citation>& found, std::size_t limit) {
  std::sort(found.begin(), found.end(), [](const citation& a, const citation& b) {
    return std::make_tuple(static_cast<int>(a.how), -a.published, a.id) <
           std::make_tuple(static_cast<int>(b.how), -b.published, b.id);
  });
  std::vector<citation> unique;
  for (auto& c : found) {
    if (std::none_of(unique.begin(), unique.end(), [&](const citation& u) { return u.id == c.id; })) {
      unique.push_back(std::move(c));
    }
  }
  if (unique.size() > limit) unique.resize(limit);
  found = std::move(unique);
}

}  // namespace

engine::engine(std::shared_ptr<const compiled_rules> rules, engine_stage stage)
    : rules_(std::move(rules)), stage_(stage) {
  index_rules();
}

void engine::index_rules() {
  // Per-rule suppression counters start again with a new rule set (a counter reset to
  // Prometheus), since rule indexes and names may have changed.
  stats_.suppressed_by_rule.assign(rules_->config().rules.size(), {});
  for (std::size_t r = 0; r < stats_.suppressed_by_rule.size(); ++r) {
    stats_.suppressed_by_rule[r].rule = rules_->config().rules[r].name;
  }
  price_rules_.clear();
  volume_rules_.clear();
  stateful_rules_.clear();
  series_rules_.clear();
  rule_count_ = rules_->config().rules.size();
  walk_by_mask_ = rule_count_ <= 64;
  rolling_rules_ = limit_rules_ = luld_rules_ = 0;
  close_rules_.clear();
  close_min_threshold_ = std::numeric_limits<double>::infinity();
  prefetch_ring_ = {};  // entries may point into rule states about to be replaced
  const auto& specs = rules_->config().rules;
  for (std::size_t r = 0; r < specs.size(); ++r) {
    switch (specs[r].kind) {
      case rule_kind::volume_spike:
        volume_rules_.push_back(r);
        stateful_rules_.push_back(r);
        break;
      case rule_kind::trading_halt:
        break;  // driven by status events only
      default:
        price_rules_.push_back({r, &specs[r], r < 64 ? std::uint64_t{1} << r : 0});
        if (specs[r].kind == rule_kind::window_move || specs[r].kind == rule_kind::zscore_move ||
            specs[r].kind == rule_kind::opening_gap) {
          stateful_rules_.push_back(r);
        }
        if (specs[r].kind == rule_kind::window_move || specs[r].kind == rule_kind::zscore_move) {
          series_rules_.push_back(r);
        }
        if (!walk_by_mask_) break;
        const std::uint64_t bit = std::uint64_t{1} << r;
        switch (specs[r].kind) {
          case rule_kind::prev_close_move:
          case rule_kind::unexplained_move:
            close_rules_.push_back({bit, specs[r].threshold_pct});
            close_min_threshold_ = std::min(close_min_threshold_, specs[r].threshold_pct);
            break;
          case rule_kind::price_limit:
            limit_rules_ |= bit;
            break;
          case rule_kind::luld:
            luld_rules_ |= bit;
            break;
          default:  // what may_hold always evaluates
            rolling_rules_ |= bit;
        }
    }
  }
}

void engine::cache_walk(symbol_state& st) const {
  st.walk_in_session = {};
  if (!walk_by_mask_) return;
  for (const price_rule& pr : price_rules_) {
    if (pr.spec->kind == rule_kind::basket_breadth && !st.info) continue;
    for (std::size_t s = 0; s < st.walk_in_session.size(); ++s) {
      if (session_allowed(st.applies[pr.index], static_cast<session_kind>(s))) {
        st.walk_in_session[s] |= pr.bit;
      }
    }
  }
}

const engine::local_clock& engine::clock_at_slow(std::size_t exchange, time_ns t) {
  if (exchange >= clocks_.size()) clocks_.resize(rules_->calendars().size());
  clock_pair& pair = clocks_[exchange];
  local_clock& newest = pair.entry[pair.newest];
  if (t >= newest.from && t < newest.to) return newest;
  local_clock& other = pair.entry[pair.newest ^ 1];
  if (t >= other.from && t < other.to) return other;
  pair.newest ^= 1;  // replace the older entry
  local_clock& c = other;
  const exchange_calendar& cal = rules_->calendars()[exchange];
  // Exchange zones are whole-minute offsets, so local minutes start on UTC minute boundaries.
  c.from = t - ((t % k_ns_per_min) + k_ns_per_min) % k_ns_per_min;
  c.to = c.from + k_ns_per_min;
  c.day = cal.local_day(t);
  c.minute = cal.local_minute(t);
  c.session = cal.session_at(t);
  return c;
}

void engine::init_rule_states(symbol_state& st, const std::vector<int>* carried_from) const {
  const std::size_t count = rules_->config().rules.size();
  std::vector<rule_state> states(count);
  if (carried_from) {
    for (std::size_t i = 0; i < count; ++i) {
      const int old = (*carried_from)[i];
      if (old >= 0 && static_cast<std::size_t>(old) < st.rules.size()) {
        states[i] = std::move(st.rules[static_cast<std::size_t>(old)]);
      }
    }
  }
  st.rules = std::move(states);
  // Carried triggers keep their state; be conservative and let the next print look at them.
  st.busy = ~std::uint64_t{0};
}

// Caches, per symbol, what the hot path would otherwise look up by name on every print.
template <typename RuleBytes>  // engine::rule_bytes, private to the engine
static void cache_symbol_facts(const compiled_rules& rules, const std::string& symbol,
                               std::size_t rule_count, const symbol_info*& info,
                               RuleBytes& applies, double& limit_pct) {
  info = rules.find_symbol(symbol);
  applies.assign(rule_count);
  for (std::size_t r = 0; r < rule_count; ++r) {
    if (rules.rule_applies(r, symbol)) applies[r] = session_mask(rules.config().rules[r]);
  }
  const std::optional<double> pct = rules.price_limit_pct(symbol);
  limit_pct = pct ? *pct : -1.0;
}

void engine::replace_rules(std::shared_ptr<const compiled_rules> rules) {
  // State follows rule names: new index -> old index of the rule with the same name.
  const auto& old_specs = rules_->config().rules;
  const auto& new_specs = rules->config().rules;
  std::vector<int> carried_from(new_specs.size(), -1);
  for (std::size_t i = 0; i < new_specs.size(); ++i) {
    for (std::size_t j = 0; j < old_specs.size(); ++j) {
      if (old_specs[j].name == new_specs[i].name) {
        carried_from[i] = static_cast<int>(j);
        break;
      }
    }
  }
  rules_ = std::move(rules);
  index_rules();
  clocks_.clear();  // calendars may have changed
  for (std::uint32_t i = 0; i < states_.size(); ++i) {
    symbol_state& st = *states_[i];
    const std::string& symbol = symbol_names_.name(i);
    init_rule_states(st, &carried_from);
    cache_symbol_facts(*rules_, symbol, rules_->config().rules.size(), st.info, st.applies,
                       st.limit_pct);
    cache_walk(st);
    st.exchange = rules_->exchange_for(symbol);
    st.recent_alerts.clear();  // rule indexes may have moved
    st.basket_links.clear();   // and with them rules' baskets and the symbols' infos
  }
  // The storm window may have changed: recompute when held digests fall due.
  digest_due_ = INT64_MAX;
  for (const auto& [rule, storm] : storms_) {
    if (!storm.held.empty()) {
      digest_due_ = std::min(digest_due_, storm.digest_start + rules_->config().storm.window);
    }
  }
  news_.rematch(*rules_);
}

engine::symbol_state& engine::state_for(const std::string& symbol) {
  // Known symbols (nearly every event) by the light lookup; insert() only for a new one.
  if (const std::uint32_t known = symbol_names_.find(symbol); known != symbol_table::npos) {
    return *states_[known];
  }
  const auto [index, inserted] = symbol_names_.insert(symbol);
  if (!inserted) return *states_[index];
  auto st = std::make_unique<symbol_state>();
  st->exchange = rules_->exchange_for(symbol);
  init_rule_states(*st, nullptr);
  st->busy = 0;
  cache_symbol_facts(*rules_, symbol, rules_->config().rules.size(), st->info, st->applies,
                     st->limit_pct);
  cache_walk(*st);
  states_.push_back(std::move(st));
  return *states_.back();
}

engine::symbol_state* engine::find_state(const std::string& symbol) noexcept {
  const std::uint32_t index = symbol_names_.find(symbol);
  return index == symbol_table::npos ? nullptr : states_[index].get();
}

bool engine::price_of(const std::string& symbol, price_view& out) const {
  const std::uint32_t index = symbol_names_.find(symbol);
  if (index == symbol_table::npos) return false;
  const symbol_state& st = *states_[index];
  out.last = st.last_price;
  out.prev_close = st.prev_close;
  out.time = st.last_time;
  return true;
}

void engine::process(const event& e, std::vector<alert>& out) {
  ++stats_.events;
  // Trades are most events: their time is read directly rather than through a visit.
  const auto* tr = std::get_if<trade>(&e);
  const time_ns t = tr ? tr->time : event_time(e);
  if (t > stats_.watermark) stats_.watermark = t;
  if (stats_.watermark >= digest_due_) [[unlikely]] emit_due_digests(out, false);
  if (tr) {
    ++stats_.trades;
    symbol_state& st = state_for(tr->symbol);
    observe_price(tr->symbol, st, tr->id, tr->price, tr->time, tr->time, out);
    if (!st.has_bars) observe_volume(tr->symbol, st, tr->size, tr->time, out);
  } else if (const auto* b = std::get_if<bar>(&e)) {
    ++stats_.bars;
    // A minute bar is known at its end; its close belongs to the session of its last instant.
    // Updated bars revise a minute already seen and daily bars repeat the running day, so
    // neither is a new observation.
    if (b->kind == bar_kind::minute || b->kind == bar_kind::second) {
      symbol_state& st = state_for(b->symbol);
      st.has_bars = true;
      observe_volume(b->symbol, st, b->volume, b->end - 1, out);
      observe_price(b->symbol, st, 0, b->close, b->end, b->end - 1, out);
    }
  } else if (const auto* n = std::get_if<news>(&e)) {
    ++stats_.news;
    on_news(*n, out);
  } else if (std::holds_alternative<quote>(e)) {
    ++stats_.quotes;
  } else if (const auto* s = std::get_if<trading_status>(&e)) {
    ++stats_.statuses;
    on_status(*s, out);
  } else if (const auto* l = std::get_if<luld_band>(&e)) {
    ++stats_.other;
    symbol_state& st = state_for(l->symbol);
    st.luld_up = l->limit_up;
    st.luld_down = l->limit_down;
  } else if (const auto* c = std::get_if<trade_correction>(&e)) {
    ++stats_.other;
    on_correction(c->symbol, c->original_id, c->corrected_price, c->corrected_id);
  } else if (const auto* x = std::get_if<trade_cancel>(&e)) {
    ++stats_.other;
    on_correction(x->symbol, x->id, std::nullopt, 0);
  } else {
    ++stats_.other;
  }
}

void engine::flush(std::vector<alert>& out) { emit_due_digests(out, true); }

void engine::prefetch(const event& e) noexcept {
  constexpr std::size_t ring_mask = std::tuple_size_v<decltype(prefetch_ring_)> - 1;
  static_assert(ring_mask + 1 > k_prefetch_distance && (ring_mask & (ring_mask + 1)) == 0);
  if (states_.size() < prefetch_min_symbols_) return;
  const std::size_t now = prefetch_next_++;
  // Level 0: the new event's slot in the symbol table.
  prefetch_entry& fresh = prefetch_ring_[now & ring_mask];
  fresh = {};
  const std::string* symbol = nullptr;
  if (const auto* tr = std::get_if<trade>(&e)) symbol = &tr->symbol;
  else if (const auto* b = std::get_if<bar>(&e)) symbol = &b->symbol;
  if (symbol) {
    fresh.hash = symbol_table::hash(*symbol);
    fresh.price = true;
    symbol_names_.prefetch(fresh.hash);
  }
  if (now < k_prefetch_distance) return;
  auto at_level = [&](std::size_t level) -> prefetch_entry& {
    return prefetch_ring_[(now - level * k_prefetch_spacing) & ring_mask];
  };
  // Level 1: the slot has arrived; start on the symbol's state.
  if (prefetch_entry& p = at_level(1); p.price) {
    const std::uint32_t index = symbol_names_.find_hash(p.hash);
    if (index < states_.size()) {
      p.st = states_[index].get();
      const char* base = reinterpret_cast<const char*>(p.st);
      static_assert(sizeof(symbol_state) <= 6 * 64);
      for (std::size_t off = 0; off < sizeof(symbol_state); off += 64) __builtin_prefetch(base + off);
    }
  }
  // Level 2: the state has arrived; its rule states, session masks and recent prints.
  if (const prefetch_entry& p = at_level(2); p.st && p.st->rules.size() == rule_count_) {
    const symbol_state& st = *p.st;
    st.recent.prefetch_back();
    for (const std::size_t r : stateful_rules_) __builtin_prefetch(&st.rules[r]);
  }
  // Level 3: the rule states have arrived; the windows and volume buckets they own.
  if (const prefetch_entry& p = at_level(3); p.st && p.st->rules.size() == rule_count_) {
    for (const std::size_t r : stateful_rules_) {
      const rule_state& rs = p.st->rules[r];
      if (rs.series_) __builtin_prefetch(rs.series_.get());
      if (rs.volume_) __builtin_prefetch(rs.volume_.get());
    }
  }
  // Level 4: the windows have arrived; their buffers' ends.
  if (const prefetch_entry& p = at_level(4); p.st && p.st->rules.size() == rule_count_) {
    for (const std::size_t r : series_rules_) {
      const series_state* ss = p.st->rules[r].series_.get();
      if (!ss) continue;
      ss->mins.prefetch_back();
      ss->maxs.prefetch_back();
      ss->points.prefetch_back();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Price observations

void engine::observe_price(const std::string& symbol, symbol_state& st, std::int64_t id,
                           double price, time_ns t, time_ns session_time,
                           std::vector<alert>& out) {
  // Trade ids grow, so only an id at or below the highest seen can be a repeat: the scan of
  // recent prints is the rare path.
  if (id != 0) {
    if (id <= st.max_id) {
      bool seen = false;
      for (std::size_t i = 0; i < st.recent.size() && !seen; ++i) seen = st.recent[i].id == id;
      if (seen) {
        ++stats_.duplicates;
        return;
      }
    }
    st.max_id = std::max(st.max_id, id);
  }
  if (t < st.last_time) {
    ++stats_.out_of_order;
    return;
  }
  print p{id, price, t, false};
  const double outlier = rules_->config().outlier_pct;
  auto far_from = [&](double reference) {
    return reference > 0 && std::fabs(price / reference - 1.0) * 100.0 >= outlier;
  };
  if (st.held) {
    const print held = *st.held;
    st.held.reset();
    // The next print settles it: nearer the jump than the price before it, the jump was real
    // (a crash that keeps going confirms every step); back near the old price, it was a bad tick.
    if (std::fabs(price - held.price) < std::fabs(price - st.last_price)) {
      accept_price(symbol, st, held, held.time - (t - session_time), out);
    } else {
      ++stats_.outliers;  // a lone bad tick: forgotten, it never moved anything
    }
  }
  if (far_from(st.last_price)) {
    st.held = p;
    return;
  }
  accept_price(symbol, st, p, session_time, out);
}

// What may_hold says for every price_limit rule, and for every luld rule (neither depends on
// the rule's own settings).
static inline bool may_be_at_limit(const auto& st, double price, bool has_close) noexcept {
  if (!has_close || st.limit_pct < 0) return false;
  const double limit_up = round_cents(st.prev_close * (1.0 + st.limit_pct / 100.0));
  const double limit_down = round_cents(st.prev_close * (1.0 - st.limit_pct / 100.0));
  return price >= limit_up - 0.005 || price <= limit_down + 0.005;
}
static inline bool may_be_at_band(const auto& st, double price) noexcept {
  return st.luld_up > 0 && st.luld_down > 0 && (price >= st.luld_up || price <= st.luld_down);
}

// Inlined into accept_price: it runs for most rules on every print.
// `move_pct`: the print's move against the previous close in percent, unsigned; negative when
// there is no previous close for this day (computed once per print by the caller).
inline bool engine::may_hold(const rule_spec& spec, const symbol_state& st, double price,
                             double move_pct) const noexcept {
  const bool has_close = move_pct >= 0;
  switch (spec.kind) {
    case rule_kind::prev_close_move:
    case rule_kind::unexplained_move:
      return move_pct >= spec.threshold_pct;
    case rule_kind::price_limit:
      return may_be_at_limit(st, price, has_close);
    case rule_kind::luld:
      return may_be_at_band(st, price);
    default:
      return true;  // keeps rolling state (windows, gaps, basket members): always evaluated
  }
}

void engine::accept_price(const std::string& symbol, symbol_state& st, const print& accepted,
                          time_ns session_time, std::vector<alert>& out) {
  const double price = accepted.price;
  const time_ns t = accepted.time;
  const local_clock& clock = clock_at(st.exchange, session_time);
  const std::int64_t day = clock.day;
  const session_kind session = clock.session;
  const bool regular = session == session_kind::regular;

  // The previous close is the last regular-session price of the most recent earlier trading
  // day, learned from the stream itself, so a capture that starts the day before needs nothing
  // else.
  if (st.last_regular_day != INT64_MIN && st.last_regular_day < day &&
      st.prev_close_day != st.last_regular_day) {
    st.prev_close = st.last_regular_price;
    st.prev_close_day = st.last_regular_day;
    st.prev_close_time = st.last_regular_time;
  }
  if (regular) {
    st.last_regular_price = price;
    st.last_regular_day = day;
    st.last_regular_time = t;
  }
  st.last_price = price;
  st.last_time = t;
  print remembered = accepted;
  remembered.regular = regular;
  // Oldest out first, so the ring's buffer stays at k_recent_prints (a power of two): a
  // smaller buffer per symbol is fewer cache lines cycled through.
  if (st.recent.size() >= k_recent_prints) st.recent.pop_front();
  // Most symbols see that many prints: the buffer is made whole at once rather than grown
  // (and copied) four times on the way.
  if (st.recent.empty()) [[unlikely]] st.recent.reserve(k_recent_prints);
  st.recent.push_back(remembered);

  fresh_.clear();
  // Signals are reset only after an evaluator wrote them: most rules on most prints decide
  // that nothing holds before touching them, so most prints neither build nor reset them (they
  // are the engine's scratch, kept clean between prints).
  signal& up = scratch_up_;
  signal& down = scratch_down_;
  bool dirty = scratch_dirty_;
  const std::uint8_t* applies = st.applies.data();
  const double move_pct = st.prev_close > 0 && st.prev_close_day < day
                              ? std::fabs(price / st.prev_close - 1.0) * 100.0
                              : -1.0;
  // The rules to walk: by mask (see walk_by_mask_), or each price rule in turn, skipping
  // those that do not apply in this session and idle ones that certainly do not hold.
  const std::vector<rule_spec>& specs = rules_->config().rules;
  std::uint64_t walk = 0;
  if (walk_by_mask_) {
    std::uint64_t wanted = rolling_rules_ | st.busy;
    if (move_pct >= close_min_threshold_) {
      for (const close_rule& c : close_rules_) {
        if (move_pct >= c.threshold_pct) wanted |= c.bit;
      }
    }
    if (limit_rules_ && may_be_at_limit(st, price, move_pct >= 0)) wanted |= limit_rules_;
    if (luld_rules_ && may_be_at_band(st, price)) wanted |= luld_rules_;
    walk = st.walk_in_session[static_cast<std::size_t>(session)] & wanted;
  }
  std::size_t next = 0;  // without the mask: the next of price_rules_
  for (;;) {
    std::size_t r;
    const rule_spec* spec_ptr;
    std::uint64_t bit;
    if (walk_by_mask_) {
      if (!walk) break;
      r = static_cast<std::size_t>(__builtin_ctzll(walk));
      walk &= walk - 1;
      spec_ptr = &specs[r];
      bit = std::uint64_t{1} << r;
    } else {
      if (next == price_rules_.size()) break;
      const price_rule& pr = price_rules_[next++];
      r = pr.index;
      spec_ptr = pr.spec;
      bit = pr.bit;
      if (!session_allowed(applies[r], session)) continue;
      if (spec_ptr->kind != rule_kind::basket_breadth && bit && !(st.busy & bit) &&
          !may_hold(*spec_ptr, st, price, move_pct)) {
        continue;
      }
    }
    const rule_spec& spec = *spec_ptr;
    if (spec.kind == rule_kind::basket_breadth) {
      // Keeps no trigger of its own per symbol and never touches the signals; symbols outside
      // the universe are in no basket.
      if (st.info) eval_breadth(r, symbol, st, price, t, day, out);
      continue;
    }
    const bool idle = bit && !(st.busy & bit);
    rule_state& rs = st.rules[r];
    if (dirty) {
      up = signal{};
      down = signal{};
    }
    dirty = true;
    bool day_scoped = true;
    switch (spec.kind) {
      case rule_kind::prev_close_move:
      case rule_kind::unexplained_move:
        eval_prev_close(spec, st, price, day, up, down);
        break;
      case rule_kind::window_move:
        dirty = eval_window(spec, rs, st, price, t, idle, up, down);
        day_scoped = false;
        break;
      case rule_kind::zscore_move:
        dirty = eval_zscore(spec, rs, price, t, idle, up, down);
        day_scoped = false;
        break;
      case rule_kind::opening_gap:
        dirty = eval_gap(spec, rs, st, price, t, day, regular, idle, up, down);
        break;
      case rule_kind::price_limit:
        eval_limit(spec, st, symbol, price, day, up, down);
        break;
      case rule_kind::luld:
        eval_luld(st, price, up, down);
        day_scoped = false;
        break;
      case rule_kind::basket_breadth:  // handled above
      case rule_kind::volume_spike:
      case rule_kind::trading_halt:
        continue;  // driven by volume and status events, not by prices
    }
    // The common case: nothing holds and nothing is in flight. Day-scoped resets are
    // deferred to the next time the condition holds (apply checks the day first), which has
    // the same effect as doing them now.
    if (up.level < 0 && down.level < 0 && idle) continue;
    apply(rs.up, r, symbol, &st, up, true, price, t, day, day_scoped, {}, {}, out);
    apply(rs.down, r, symbol, &st, down, false, price, t, day, day_scoped, {}, {}, out);
    if (rs.idle()) st.busy &= ~bit;
    else st.busy |= bit;
  }
  scratch_dirty_ = dirty;
  if (!fresh_.empty()) speak_fresh(out);
}

void engine::speak_fresh(std::vector<alert>& out) {
  if (fresh_.empty()) return;
  // One print, one message per direction: when several rules fire on the same observation in
  // the same direction, the first configured rule speaks and the others are counted.
  std::vector<fresh_alert> fresh = std::move(fresh_);
  fresh_.clear();
  std::set<std::string> spoken;
  for (auto& f : fresh) {
    const bool firing = f.a.status == alert_status::firing;
    if (firing && !f.a.direction.empty() &&
        !spoken.insert(f.a.direction + '\x1f' + (f.a.symbol.empty() ? f.a.name : f.a.symbol)).second) {
      ++stats_.suppressed;
      ++stats_.suppressed_duplicate;
      ++stats_.suppressed_by_rule[f.rule].duplicate;
      continue;  // the trigger stays unannounced unless a later escalation speaks
    }
    if (!firing || !f.tr) {
      emit(f.rule, std::move(f.a), out);
      continue;
    }
    // Only what went out on its own is what a resolve repeats; an escalation held for a
    // storm digest leaves the earlier announcement (if any) standing.
    trigger candidate;
    remember_announcement(candidate, f.a);
    if (emit(f.rule, std::move(f.a), out)) {
      f.tr->announced = true;
      f.tr->told = std::move(candidate.told);
    }
  }
}

void engine::eval_prev_close(const rule_spec& r, const symbol_state& st, double price,
                             std::int64_t day, signal& up, signal& down) const {
  if (st.prev_close <= 0 || st.prev_close_day >= day) return;
  const double change = (price / st.prev_close - 1.0) * 100.0;
  up.change_pct = down.change_pct = change;
  up.base.kind = down.base.kind = "prev_close";
  up.base.price = down.base.price = st.prev_close;
  up.base.time = down.base.time = st.prev_close_time;
  up.level = level_for(r, change);
  down.level = level_for(r, -change);
  up.level_pct = level_pct(r, up.level);
  down.level_pct = level_pct(r, down.level);
  up.rearm = change < r.threshold_pct - r.rearm_margin_pct;
  down.rearm = -change < r.threshold_pct - r.rearm_margin_pct;
}

inline bool engine::eval_window(const rule_spec& r, rule_state& rs, const symbol_state& st, double price,
                         time_ns t, bool idle, signal& up, signal& down) const {
  series_state& ss = rs.series();
  const time_ns horizon = t - r.window;
  while (!ss.mins.empty() && ss.mins.front().time < horizon) ss.mins.pop_front();
  while (!ss.maxs.empty() && ss.maxs.front().time < horizon) ss.maxs.pop_front();
  // The window's low and high come from the median of the last three prints: a lone print
  // (a bad tick too small for the outlier hold) never becomes the baseline a later normal
  // print is measured against; a real move enters one print later.
  window_point entry{t, price};
  if (const std::size_t n = st.recent.size(); n >= 3) {
    const double a = st.recent[n - 3].price, b = st.recent[n - 2].price, c = st.recent[n - 1].price;
    entry.price = std::max(std::min(a, b), std::min(std::max(a, b), c));
    entry.time = st.recent[n - 2].time;
  }
  while (!ss.mins.empty() && ss.mins.back().price >= entry.price) ss.mins.pop_back();
  while (!ss.maxs.empty() && ss.maxs.back().price <= entry.price) ss.maxs.pop_back();
  ss.mins.push_back(entry);
  ss.maxs.push_back(entry);
  const window_point low = ss.mins.front();
  const window_point high = ss.maxs.front();

  const double rise = (price / low.price - 1.0) * 100.0;
  const double fall = (price / high.price - 1.0) * 100.0;
  if (idle && !(rise >= r.threshold_pct) && !(-fall >= r.threshold_pct)) return false;
  up.change_pct = rise;
  up.level = level_for(r, rise);
  up.level_pct = level_pct(r, up.level);
  up.rearm = rise < r.threshold_pct - r.rearm_margin_pct;
  up.base.kind = "window_low";
  up.base.price = low.price;
  up.base.time = low.time;
  down.change_pct = fall;
  down.level = level_for(r, -fall);
  down.level_pct = level_pct(r, down.level);
  down.rearm = -fall < r.threshold_pct - r.rearm_margin_pct;
  down.base.kind = "window_high";
  down.base.price = high.price;
  down.base.time = high.time;
  return true;
}

inline bool engine::eval_zscore(const rule_spec& r, rule_state& rs, double price, time_ns t, bool idle,
                         signal& up, signal& down) const {
  // One-minute returns form the symbol's own volatility baseline.
  series_state& ss = rs.series();
  minute_stats& ms = ss.minutes;
  const std::int64_t minute = t / k_ns_per_min;
  if (minute != ms.minute) {
    if (ms.minute != INT64_MIN) {
      const bool contiguous = (minute - ms.minute) * k_ns_per_min <= k_zscore_max_gap;
      if (ms.prev_close > 0 && contiguous) {
        const double ret = ms.minute_close / ms.prev_close - 1.0;
        ms.returns.push_back(ret);
        ms.sum += ret;
        ms.sum_sq += ret * ret;
        while (ms.returns.size() > r.history) {
          const double old = ms.returns.front();
          ms.returns.pop_front();
          ms.sum -= old;
          ms.sum_sq -= old * old;
        }
        // The baseline's volatility changes only here, once a minute: not on every print.
        const double n = static_cast<double>(ms.returns.size());
        const double mean = ms.sum / n;
        const double variance = std::max(ms.sum_sq / n - mean * mean, 0.0);
        ms.sigma = std::max(std::sqrt(variance), 1e-6);
      }
      ms.prev_close = ms.minute_close;
    }
    ms.minute = minute;
  }
  ms.minute_close = price;

  // The reference: the last price at or before the window's start.
  ss.points.push_back({t, price});
  const time_ns horizon = t - r.window;
  while (ss.points.size() > 1 && ss.points[1].time <= horizon) ss.points.pop_front();
  const window_point ref = ss.points.front();
  if (ms.returns.size() < r.min_history || ref.time > horizon) return false;

  const double move = price / ref.price - 1.0;
  const double move_pct = move * 100.0;
  // Both directions need the move itself past the threshold: most prints stop here.
  if (idle && !(move_pct >= r.threshold_pct) && !(-move_pct >= r.threshold_pct)) return false;
  const double sigma = ms.sigma;
  const double minutes = static_cast<double>(r.window) / static_cast<double>(k_ns_per_min);
  const double z = move / (sigma * std::sqrt(minutes));
  const bool holds_up = z >= r.z_threshold && move_pct >= r.threshold_pct;
  const bool holds_down = -z >= r.z_threshold && -move_pct >= r.threshold_pct;
  if (idle && !holds_up && !holds_down) return false;
  up.change_pct = down.change_pct = move_pct;
  for (signal* sig : {&up, &down}) {
    sig->base.kind = "zscore";
    sig->base.price = ref.price;
    sig->base.time = ref.time;
    sig->extra = signal::note::zscore;
    sig->x = sigma;
    sig->y = z;
    sig->n = ms.returns.size();
  }
  up.level = holds_up ? 0 : -1;
  down.level = holds_down ? 0 : -1;
  up.level_pct = down.level_pct = r.threshold_pct;
  up.rearm = z < r.z_threshold / 2;
  down.rearm = -z < r.z_threshold / 2;
  return true;
}

inline bool engine::eval_gap(const rule_spec& r, rule_state& rs, const symbol_state& st, double price,
                      time_ns t, std::int64_t day, bool regular, bool idle, signal& up,
                      signal& down) const {
  if (!regular) return false;
  if (rs.gap_day != day) {
    rs.gap_day = day;
    rs.gap_open = price;
    rs.gap_time = t;
  }
  if (st.prev_close <= 0 || st.prev_close_day >= day) return false;
  // A gap is judged at the open and must still stand (at least half of it) on later prints,
  // within the first 30 minutes.
  if (t - rs.gap_time > 30 * k_ns_per_min) return false;
  const double gap = (rs.gap_open / st.prev_close - 1.0) * 100.0;
  const double now = (price / st.prev_close - 1.0) * 100.0;
  const bool holds_up = gap >= r.threshold_pct && now >= r.threshold_pct / 2;
  const bool holds_down = -gap >= r.threshold_pct && -now >= r.threshold_pct / 2;
  if (idle && !holds_up && !holds_down) return false;
  for (signal* sig : {&up, &down}) {
    sig->base.kind = "prev_close";
    sig->base.price = st.prev_close;
    sig->base.time = st.prev_close_time;
    sig->extra = signal::note::gap;
    sig->x = rs.gap_open;
  }
  up.change_pct = down.change_pct = gap;
  up.level_pct = down.level_pct = r.threshold_pct;
  up.level = holds_up ? level_for(r, gap) : -1;
  down.level = holds_down ? level_for(r, -gap) : -1;
  return true;
}

void engine::eval_limit(const rule_spec& r, const symbol_state& st, const std::string& symbol,
                        double price, std::int64_t day, signal& up, signal& down) const {
  (void)r;
  if (st.prev_close <= 0 || st.prev_close_day >= day) return;
  (void)symbol;
  const std::optional<double> pct =
      st.limit_pct >= 0 ? std::optional<double>(st.limit_pct) : std::nullopt;
  if (!pct) return;
  // Limit prices are rounded to the tick (0.01), so "at the limit" is within half a tick.
  const double limit_up = round_cents(st.prev_close * (1.0 + *pct / 100.0));
  const double limit_down = round_cents(st.prev_close * (1.0 - *pct / 100.0));
  const bool at_up = price >= limit_up - 0.005;
  const bool at_down = price <= limit_down + 0.005;
  const double change = (price / st.prev_close - 1.0) * 100.0;
  for (signal* sig : {&up, &down}) {
    sig->base.kind = "prev_close";
    sig->base.price = st.prev_close;
    sig->base.time = st.prev_close_time;
    sig->extra = signal::note::limits;
    sig->x = limit_down;
    sig->y = limit_up;
    sig->z = *pct;
  }
  up.change_pct = down.change_pct = change;
  up.level_pct = down.level_pct = *pct;
  up.level = at_up ? 0 : -1;
  down.level = at_down ? 0 : -1;
  up.rearm = !at_up;     // the board re-opened
  down.rearm = !at_down;
}

void engine::eval_luld(const symbol_state& st, double price, signal& up, signal& down) {
  if (st.luld_up <= 0 || st.luld_down <= 0) return;
  const bool at_up = price >= st.luld_up;
  const bool at_down = price <= st.luld_down;
  const double change = st.prev_close > 0 ? (price / st.prev_close - 1.0) * 100.0 : 0.0;
  up.base.kind = down.base.kind = "luld_band";
  up.base.price = down.base.price = at_down ? st.luld_down : st.luld_up;
  up.base.time = down.base.time = st.last_time;
  if (at_up || at_down) {  // strings only when it holds
    luld_description_ = "LULD band " + format_price(st.luld_down) + " - " + format_price(st.luld_up);
    up.base.description = down.base.description = luld_description_;
  }
  up.change_pct = down.change_pct = change;
  up.level = at_up ? 0 : -1;
  down.level = at_down ? 0 : -1;
  up.rearm = !at_up;
  down.rearm = !at_down;
}

void engine::eval_breadth(std::size_t r, const std::string& symbol, symbol_state& st,
                          double price, time_ns t, std::int64_t day, std::vector<alert>& out) {
  (void)out;
  const symbol_info* info = st.info;
  if (!info || st.prev_close <= 0 || st.prev_close_day >= day) return;
  const double change = (price / st.prev_close - 1.0) * 100.0;
  if (stage_ == engine_stage::shard) {
    // The basket's other members live on other shards: the arbiter keeps the breadth.
    if (moves_out_) {
      moves_out_->push_back({rules_->config().rules[r].name, symbol, change, price, t, day});
    }
    return;
  }
  update_basket(r, symbol, st, change, price, t, day, out);
}

engine::basket_state::member& engine::basket_state::member_for(const std::string& symbol) {
  const auto at = std::lower_bound(by_name.begin(), by_name.end(), symbol,
                                   [](const member* m, const std::string& s) { return m->name < s; });
  if (at != by_name.end() && (*at)->name == symbol) return **at;
  member& added = entries.emplace_back();
  added.name = symbol;
  by_name.insert(at, &added);
  return added;
}

void engine::update_basket(std::size_t r, const std::string& symbol, symbol_state& st,
                           double change, double price, time_ns t, std::int64_t day,
                           std::vector<alert>& out) {
  const rule_spec& spec = rules_->config().rules[r];
  const symbol_info* info = st.info;
  if (!info) return;
  auto first = std::find_if(st.basket_links.begin(), st.basket_links.end(),
                            [r](const basket_link& l) { return l.rule == r; });
  if (first == st.basket_links.end()) {
    // First print of this symbol for this rule: find its baskets once.
    const std::size_t before = st.basket_links.size();
    for (const std::string& basket : info->baskets) {
      if (!spec.baskets.empty() &&
          std::find(spec.baskets.begin(), spec.baskets.end(), basket) == spec.baskets.end()) {
        continue;
      }
      basket_state& bs = baskets_[{spec.name, basket}];
      st.basket_links.push_back(
          {r, &bs, &bs.member_for(symbol), &basket, rules_->basket_members(basket).size()});
    }
    if (st.basket_links.size() == before) st.basket_links.push_back({r, nullptr, nullptr, nullptr, 0});
    first = st.basket_links.begin() + static_cast<std::ptrdiff_t>(before);
  }
  for (auto link = first; link != st.basket_links.end() && link->rule == r; ++link) {
    if (!link->state) break;
    basket_state& bs = *link->state;
    const std::string& basket = *link->basket;
    link->member->change = change;
    link->member->time = t;
    breadth_up_members_.clear();
    breadth_down_members_.clear();
    double up_sum = 0, down_sum = 0;
    std::size_t up_near = 0, down_near = 0;  // still within the re-arm margin
    const double near = spec.threshold_pct - spec.rearm_margin_pct;
    const time_ns fresh_from = t - k_breadth_freshness;
    for (const basket_state::member* m : bs.by_name) {
      if (m->time < fresh_from) continue;  // yesterday's moves do not count today
      if (m->change >= spec.threshold_pct) {
        breadth_up_members_.push_back(&m->name);
        up_sum += m->change;
      } else if (m->change <= -spec.threshold_pct) {
        breadth_down_members_.push_back(&m->name);
        down_sum += m->change;
      }
      if (m->change >= near) ++up_near;
      if (m->change <= -near) ++down_near;
    }
    const std::size_t min = spec.min_members;
    const std::size_t total = link->total;
    auto make_signal = [&](std::size_t n, double sum, std::size_t still_near) {
      signal s;
      s.level = n >= min ? static_cast<int>(std::min<std::size_t>(n / min - 1, 3)) : -1;
      s.rearm = still_near < min;  // hysteresis: members must retrace past the margin
      s.change_pct = n ? sum / static_cast<double>(n) : 0.0;
      s.level_pct = spec.threshold_pct;
      s.base.kind = "prev_close";
      s.extra = signal::note::breadth;
      s.n = n;
      s.total = total;
      return s;
    };
    const signal up = make_signal(breadth_up_members_.size(), up_sum, up_near);
    const signal down = make_signal(breadth_down_members_.size(), down_sum, down_near);

    static const std::string k_no_symbol;
    apply(bs.up, r, k_no_symbol, &st, up, true, price, t, day, true, breadth_up_members_, basket, out);
    apply(bs.down, r, k_no_symbol, &st, down, false, price, t, day, true, breadth_down_members_, basket,
          out);
  }
}

// ---------------------------------------------------------------------------------------------
// Volume, status, corrections, news

void engine::observe_volume(const std::string& symbol, symbol_state& st, double volume, time_ns t,
                            std::vector<alert>& out) {
  if (!(volume > 0)) return;
  const auto& specs = rules_->config().rules;
  const exchange_calendar& cal = rules_->calendars()[st.exchange];
  for (const std::size_t r : volume_rules_) {
    const rule_spec& spec = specs[r];
    const local_clock& clock = clock_at(st.exchange, t);
    if (!session_allowed(st.applies[r], clock.session)) continue;
    volume_stats& vs = st.rules[r].volume();
    const std::int64_t day = clock.day;
    const int bucket = static_cast<int>(static_cast<time_ns>(clock.minute) * k_ns_per_min /
                                        spec.bucket);
    if (day != vs.day || bucket != vs.bucket) {
      if (vs.day != INT64_MIN) {
        auto& h = vs.history[vs.bucket];
        h.push_back(vs.current);
        if (h.size() > k_volume_days) h.pop_front();
      }
      vs.day = day;
      vs.bucket = bucket;
      vs.current = 0;
      // The typical volume of this slot is fixed for the slot's duration: computed once here.
      vs.typical = 0;
      vs.typical_days = 0;
      if (const auto it = vs.history.find(bucket); it != vs.history.end() && !it->second.empty()) {
        for (std::size_t i = 0; i < it->second.size(); ++i) vs.typical += it->second[i];
        vs.typical_days = it->second.size();
        vs.typical /= static_cast<double>(vs.typical_days);
      }
    }
    vs.current += volume;
    if (vs.typical_days < spec.min_days) continue;
    const double typical = vs.typical;
    if (!(typical > 0) || vs.current < spec.volume_factor * typical) continue;
    if (vs.fired_day == day && vs.fired_bucket == bucket) {
      ++stats_.suppressed;
      ++stats_.suppressed_frequency;
      ++stats_.suppressed_by_rule[r].frequency;
      continue;
    }
    vs.fired_day = day;
    vs.fired_bucket = bucket;
    signal sig;
    sig.level = 0;
    sig.level_pct = spec.volume_factor;
    const int start_min = static_cast<int>(static_cast<time_ns>(bucket) * spec.bucket / k_ns_per_min);
    const int end_min = start_min + static_cast<int>(spec.bucket / k_ns_per_min);
    char desc[160];
    std::snprintf(desc, sizeof desc,
                  "typical volume %s for %02d:%02d-%02d:%02d %s over %zu days", format_number(typical).c_str(),
                  start_min / 60, start_min % 60, end_min / 60 % 24, end_min % 60,
                  cal.zone().abbreviation(t).c_str(), vs.typical_days);
    sig.base = {"typical_volume", typical, 0, desc};
    alert a = make_alert(r, symbol, &st, sig, "", st.last_price, t, {}, {});
    a.facts = {{"volume", vs.current}, {"typical_volume", typical},
               {"ratio", vs.current / typical}};
    a.summary = compose_summary(a, cal);
    emit(r, std::move(a), out);
  }
}

void engine::on_status(const trading_status& s, std::vector<alert>& out) {
  symbol_state& st = state_for(s.symbol);
  const bool halt = is_halt_code(s.status_code);
  const bool resume = is_resume_code(s.status_code);
  if ((!halt && !resume) || halt == st.halted) return;
  st.halted = halt;
  const auto& specs = rules_->config().rules;
  const exchange_calendar& cal = rules_->calendars()[st.exchange];
  for (std::size_t r = 0; r < specs.size(); ++r) {
    if (specs[r].kind != rule_kind::trading_halt || !rules_->rule_applies(r, s.symbol)) continue;
    trigger& tr = st.rules[r].up;
    if (halt) {
      signal sig;
      sig.level = 0;
      const std::string description =
          "status " + s.status_code + " (" + s.status_message + "), reason " + s.reason_code +
          (s.reason_message.empty() ? "" : " (" + s.reason_message + ")");
      sig.base = {"status", st.last_price, s.time, description};
      alert a = make_alert(r, s.symbol, &st, sig, "", st.last_price, s.time, {}, {});
      a.level = severity::critical;
      a.summary = compose_summary(a, cal);
      tr.firing = true;
      tr.story().fingerprint = a.fingerprint;
      remember_announcement(tr, a);
      tr.announced = emit(r, std::move(a), out);
    } else if (tr.firing) {
      tr.firing = false;
      if (tr.announced) {
        emit(r, make_resolved(r, s.symbol, &st, tr, 0, st.last_price, s.time,
                              "trading resumed (" + s.status_code + " " + s.status_message + ")"),
             out);
      }
      tr.announced = false;
    }
  }
}

void engine::on_correction(const std::string& symbol, std::int64_t id,
                           std::optional<double> price, std::int64_t new_id) {
  symbol_state* found = find_state(symbol);
  if (!found || id == 0) return;
  symbol_state& st = *found;
  if (st.held && st.held->id == id) {
    if (price) st.held->price = *price;
    else st.held.reset();
    return;
  }
  std::size_t at = 0;
  while (at < st.recent.size() && st.recent[at].id != id) ++at;
  if (at == st.recent.size()) return;  // too old to matter, or never seen
  print* it = &st.recent[at];
  const bool was_last = at + 1 == st.recent.size();
  const bool was_regular_last = it->time == st.last_regular_time;
  // The print may already have become the previous close (the next day has begun).
  const bool was_prev_close = st.prev_close > 0 && it->time == st.prev_close_time && it->regular;
  if (price && *price > 0 && std::isfinite(*price)) {
    it->price = *price;
    if (new_id != 0) it->id = new_id;
    ++stats_.corrections;
  } else {
    st.recent.erase(at);
    ++stats_.cancels;
  }
  if (was_last && !st.recent.empty()) st.last_price = st.recent.back().price;
  if (was_regular_last || was_prev_close) {
    const time_ns limit = was_prev_close ? st.prev_close_time : INT64_MAX;
    for (std::size_t i = st.recent.size(); i-- > 0;) {
      const print* r = &st.recent[i];
      if (r->regular && r->time <= limit) {
        if (was_regular_last) {
          st.last_regular_price = r->price;
          st.last_regular_time = r->time;
        }
        if (was_prev_close) {
          st.prev_close = r->price;
          st.prev_close_time = r->time;
        }
        break;
      }
    }
  }
  rebuild_windows(st);
  // A confirmation in progress may rest on the withdrawn print: start it again.
  for (auto& rs : st.rules) rs.up.pending = rs.down.pending = 0;
  st.busy = ~std::uint64_t{0};  // let the next print settle which triggers are idle
}

void engine::rebuild_windows(symbol_state& st) {
  const auto& specs = rules_->config().rules;
  if (st.recent.empty()) return;
  const time_ns now = st.recent.back().time;
  for (std::size_t r = 0; r < specs.size() && r < st.rules.size(); ++r) {
    if (specs[r].kind != rule_kind::window_move && specs[r].kind != rule_kind::zscore_move) continue;
    series_state& rs = st.rules[r].series();
    rs.mins.clear();
    rs.maxs.clear();
    rs.points.clear();
    for (std::size_t i = 0; i < st.recent.size(); ++i) {
      const print& p = st.recent[i];
      if (p.time < now - specs[r].window) {
        if (specs[r].kind == rule_kind::zscore_move) rs.points.assign(1, {p.time, p.price});
        continue;
      }
      rs.points.push_back({p.time, p.price});
      // The same median-of-three entry eval_window makes (see there).
      window_point entry{p.time, p.price};
      if (i >= 2) {
        const double a = st.recent[i - 2].price, b = st.recent[i - 1].price, c = p.price;
        entry.price = std::max(std::min(a, b), std::min(std::max(a, b), c));
        entry.time = st.recent[i - 1].time;
      }
      while (!rs.mins.empty() && rs.mins.back().price >= entry.price) rs.mins.pop_back();
      while (!rs.maxs.empty() && rs.maxs.back().price <= entry.price) rs.maxs.pop_back();
      rs.mins.push_back(entry);
      rs.maxs.push_back(entry);
    }
  }
}

void engine::on_news(const news& n, std::vector<alert>& out) {
  if (!news_.add(n, *rules_)) return;
  // Follow-ups refer to firings that went out, which only the arbiter knows.
  if (stage_ == engine_stage::shard) return;
  const auto& policy = rules_->config().news;
  // A direct headline that arrives after a move (within the lookahead) is cited in a
  // follow-up with the same fingerprint, so the desk learns the likely cause.
  for (const auto& m : news_.last_matches().entities) {
    if (m.how == link_kind::theme) continue;
    symbol_state* found = find_state(m.symbol);
    if (!found) continue;
    symbol_state& st = *found;
    const time_ns horizon = stats_.watermark - policy.lookahead - policy.lookback;
    std::size_t stale = 0;
    while (stale < st.recent_alerts.size() && st.recent_alerts[stale].time < horizon) ++stale;
    st.recent_alerts.erase(st.recent_alerts.begin(),
                           st.recent_alerts.begin() + static_cast<std::ptrdiff_t>(stale));
    // Newest first: the follow-up amends the latest thing said about the symbol.
    for (auto it = st.recent_alerts.rbegin(); it != st.recent_alerts.rend(); ++it) {
      auto& ra = *it;
      if (n.time > ra.time + policy.lookahead || n.time < ra.time - policy.lookback) continue;
      if (std::find(ra.cited.begin(), ra.cited.end(), n.id) != ra.cited.end()) continue;
      if (n.time <= ra.time) continue;  // was there at the time: already considered
      ra.cited.push_back(n.id);
      alert a = ra.snapshot;
      a.follow_up_of = ra.id;
      a.id = stable_hash_hex(ra.id + "\x1f" "follow_up\x1f" + n.id);
      const exchange_calendar& cal = rules_->calendars()[st.exchange];
      a.headlines = news_.cite(m.symbol, ra.time - policy.lookback, std::max(n.time, ra.time),
                               policy.max_citations, *rules_);
      // The move is told as it was (its own time and price); the alert's time is the headline's.
      a.summary = "follow-up, headline at " + format_local_clock(cal, n.time) + ": " +
                  compose_summary(a, cal);
      a.event_time = std::max(n.time, ra.time);
      ++stats_.follow_ups;
      const std::size_t rule = ra.rule;
      emit(rule, std::move(a), out);
      break;  // one follow-up per headline per symbol
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

bool engine::apply(trigger& tr, std::size_t r, const std::string& symbol, const symbol_state* st,
                   const signal& sig, bool up, double price, time_ns t, std::int64_t day,
                   bool day_scoped, std::span<const std::string* const> basket_symbols,
                   const std::string& basket, std::vector<alert>& out) {
  (void)out;
  const rule_spec& spec = rules_->config().rules[r];
  const std::string& who = symbol.empty() ? basket : symbol;
  if (tr.day != day) {
    if (day_scoped && tr.firing) {
      // A new session means a new baseline: yesterday's condition is over.
      if (tr.announced) {
        fresh_.push_back({r, make_resolved(r, who, st, tr, sig.change_pct, price, t,
                                           "a new trading day started"), nullptr});
      }
    }
    if (day_scoped) tr = trigger{};
    tr.day = day;
    tr.fires_today = 0;
  }
  if (sig.level < 0) {
    if (tr.pending > 0) {
      ++stats_.unconfirmed;
      ++stats_.suppressed_by_rule[r].unconfirmed;
      tr.pending = 0;
    }
    if (tr.firing && sig.rearm) {
      tr.firing = false;
      tr.level = -1;
      if (tr.announced) {
        fresh_.push_back({r, make_resolved(r, who, st, tr, sig.change_pct, price, t, "the move retraced"),
                          nullptr});
      }
      tr.announced = false;
    }
    return false;
  }

  bool would_fire = false;
  std::uint64_t* reason = &stats_.suppressed_frequency;
  std::uint64_t* rule_reason = &stats_.suppressed_by_rule[r].frequency;
  switch (spec.frequency) {
    case trigger_frequency::on_cross:
      if (!tr.firing) {
        would_fire = t >= tr.cooling_until;
        reason = &stats_.suppressed_cooldown;
        rule_reason = &stats_.suppressed_by_rule[r].cooldown;
      } else {
        would_fire = sig.level > tr.level;  // escalation never waits for a cooldown
      }
      break;
    case trigger_frequency::once:
      would_fire = tr.fires_today == 0;
      break;
    case trigger_frequency::once_per_bar:
      would_fire = tr.last_fire == INT64_MIN || t / spec.bar != tr.last_fire / spec.bar;
      break;
    case trigger_frequency::every_time:
      would_fire = tr.last_fire == INT64_MIN || t - tr.last_fire >= spec.min_interval;
      break;
  }
  if (!would_fire) {
    ++stats_.suppressed;
    ++*reason;
    ++*rule_reason;
    tr.pending = 0;
    return false;
  }
  // A single print never fires by itself: later observations must agree.
  if (tr.pending < spec.confirm) {
    ++tr.pending;
    return false;
  }
  tr.pending = 0;

  alert a = make_alert(r, symbol, st, sig, up ? "up" : "down", price, t, basket_symbols, basket);
  const bool escalation = tr.firing;
  tr.firing = true;
  tr.level = std::max(tr.level, sig.level);
  tr.story().fingerprint = a.fingerprint;
  tr.last_change = sig.change_pct;
  if (spec.kind == rule_kind::unexplained_move && !a.headlines.empty()) {
    ++stats_.suppressed;
    ++stats_.suppressed_explained;
    ++stats_.suppressed_by_rule[r].explained;
    return false;
  }
  ++tr.fires_today;
  tr.last_fire = t;
  if (!escalation) {
    const bool window_kind = spec.kind == rule_kind::window_move || spec.kind == rule_kind::zscore_move;
    double cooldown = static_cast<double>(
        spec.cooldown > 0 ? spec.cooldown : (window_kind ? spec.window : 30 * k_ns_per_min));
    cooldown *= std::pow(spec.cooldown_backoff, std::max(0, tr.fires_today - 1));
    tr.cooling_until = t + static_cast<time_ns>(std::min(cooldown, 1e18));
  }
  fresh_.push_back({r, std::move(a), &tr});
  return true;
}

alert engine::make_alert(std::size_t r, const std::string& symbol, const symbol_state* st,
                         const signal& sig, const char* direction, double price, time_ns t,
                         std::span<const std::string* const> basket_symbols,
                         const std::string& basket) const {
  const rule_spec& spec = rules_->config().rules[r];
  const exchange_calendar& cal = rules_->calendars()[st ? st->exchange : 0];
  const symbol_info* info = symbol.empty() ? nullptr : rules_->find_symbol(symbol);
  const auto& policy = rules_->config().news;
  alert a;
  a.kind = alert_kind(spec.kind);
  a.rule = spec.name;
  a.symbol = symbol;
  if (symbol.empty()) {
    a.symbols.reserve(basket_symbols.size());
    for (const std::string* member : basket_symbols) a.symbols.push_back(*member);
  } else {
    a.symbols = {symbol};
  }
  a.name = info ? info->name : basket;
  a.exchange = cal.spec().mic;
  a.time_zone = cal.spec().time_zone;
  a.utc_offset_s = cal.zone().utc_offset(t);
  if (is_price_kind(spec.kind) && !(spec.kind == rule_kind::luld && st && st->prev_close <= 0)) {
    a.change_pct = sig.change_pct;
  }
  a.direction = direction;
  a.price = price;
  a.threshold_pct = sig.level_pct;
  a.event_time = t;
  a.window = spec.kind == rule_kind::window_move || spec.kind == rule_kind::zscore_move ? spec.window : 0;
  const bool critical = std::fabs(sig.change_pct) >= spec.critical_pct ||
                        spec.kind == rule_kind::price_limit || spec.kind == rule_kind::trading_halt;
  a.level = spec.kind == rule_kind::volume_spike ? severity::info
            : critical                          ? severity::critical
                                                : severity::warning;
  a.base = baseline{std::string(sig.base.kind), sig.base.price, sig.base.time,
                    std::string(sig.base.description)};
  if (a.base->description.empty()) a.base->description = describe_baseline(spec, st, sig, basket);
  const std::string& who = symbol.empty() ? basket : symbol;
  a.fingerprint = stable_hash_hex(a.rule + '\x1f' + who + '\x1f' + a.direction + '\x1f' + a.base->kind);
  a.id = stable_hash_hex(a.fingerprint + '\x1f' + std::to_string(t) + '\x1f' +
                         std::to_string(sig.level_pct));
  if (!symbol.empty()) {
    a.headlines = news_.cite(symbol, t - policy.lookback, t, policy.max_citations, *rules_);
  } else {
    std::vector<citation> all;
    for (const std::string* member : basket_symbols) {
      auto c = news_.cite(*member, t - policy.lookback, t, policy.max_citations, *rules_);
      all.insert(all.end(), c.begin(), c.end());
    }
    sort_citations(all, policy.max_citations);
    a.headlines = std::move(all);
  }
  a.summary = compose_summary(a, cal);
  return a;
}

void engine::restate(alert& resolved, const trigger_story& told) {
  // Same labels as the firing (direction, severity), so receivers such as Alertmanager can end
  // exactly the alert that fired, and the same baseline and window.
  resolved.level = told.level;
  resolved.direction = told.direction;
  resolved.base = told.base;
  resolved.window = told.window;
  resolved.threshold_pct = told.threshold_pct;
  resolved.fingerprint = told.fingerprint;
  resolved.id = stable_hash_hex(told.fingerprint + "\x1f" "resolved\x1f" +
                                std::to_string(resolved.event_time));
}

alert engine::make_resolved(std::size_t r, const std::string& who, const symbol_state* st,
                            const trigger& tr, double change, double price, time_ns t,
                            const std::string& why) const {
  const rule_spec& spec = rules_->config().rules[r];
  const exchange_calendar& cal = rules_->calendars()[st ? st->exchange : 0];
  alert a;
  a.status = alert_status::resolved;
  a.kind = alert_kind(spec.kind);
  a.rule = spec.name;
  const bool is_symbol = spec.kind != rule_kind::basket_breadth;
  a.symbol = is_symbol ? who : std::string();
  if (is_symbol) a.symbols = {who};
  if (is_symbol) {
    if (const symbol_info* info = rules_->find_symbol(who)) a.name = info->name;
  } else {
    a.name = who;
  }
  a.exchange = cal.spec().mic;
  a.time_zone = cal.spec().time_zone;
  a.utc_offset_s = cal.zone().utc_offset(t);
  if (is_price_kind(spec.kind)) a.change_pct = change;
  static const trigger_story k_untold;
  a.event_time = t;
  a.price = price;
  restate(a, tr.told ? *tr.told : k_untold);
  a.summary = who + " " + spec.name + " resolved: " + why + " (" + format_local_clock(cal, t) + ")";
  return a;
}

std::string engine::describe_baseline(const rule_spec& spec, const symbol_state* st,
                                      const signal& sig, const std::string& basket) const {
  const exchange_calendar& cal = rules_->calendars()[st ? st->exchange : 0];
  const signal::base_ref& b = sig.base;
  char buf[200];
  switch (sig.extra) {
    case signal::note::breadth:
      std::snprintf(buf, sizeof buf,
                    "each member's previous close; %zu of %zu members of %s moved at least %g%%",
                    sig.n, sig.total, basket.c_str(), spec.threshold_pct);
      return buf;
    case signal::note::zscore:
      std::snprintf(buf, sizeof buf, "; one-minute volatility %.3f%% over %zu returns; z %+.1f",
                    sig.x * 100.0, sig.n, sig.y);
      return "price " + format_price(b.price) + " at " + format_local_clock(cal, b.time) + " (" +
             format_duration(spec.window) + " earlier)" + buf;
    default:
      break;
  }
  if (b.kind == "window_low" || b.kind == "window_high") {
    return std::string(b.kind == "window_low" ? "low " : "high ") + format_price(b.price) +
           " at " + format_local_clock(cal, b.time) + " within the last " +
           format_duration(spec.window);
  }
  std::string d = "previous close " + format_price(b.price);
  if (st) d += " (" + format_date(st->prev_close_day) + ", " + cal.spec().mic + ")";
  if (sig.extra == signal::note::limits) {
    std::snprintf(buf, sizeof buf, "; limits %s / %s (±%g%%)", format_price(sig.x).c_str(),
                  format_price(sig.y).c_str(), sig.z);
    d += buf;
  } else if (sig.extra == signal::note::gap) {
    d += "; opened at " + format_price(sig.x);
  }
  return d;
}

std::string engine::compose_summary(const alert& a, const exchange_calendar& cal) const {
  std::string s;
  const std::string when = format_local_clock(cal, a.event_time) + " (" +
                           format_rfc3339_s(a.event_time).substr(11, 5) + "Z)";
  if (a.kind == "basket_move") {
    s = a.name + ": " + std::to_string(a.symbols.size()) + " members " +
        (a.direction == "up" ? "up" : "down") + " at least " + format_pct(a.threshold_pct).substr(1) +
        " vs their previous closes, average " + format_pct(a.change_pct.value_or(0)) + " (";
    for (std::size_t i = 0; i < a.symbols.size(); ++i) s += (i ? ", " : "") + a.symbols[i];
    s += ") at " + when;
  } else if (a.kind == "halt") {
    s = a.symbol + " trading halted at " + when + ": " + (a.base ? a.base->description : "");
  } else if (a.kind == "volume_spike") {
    double volume = 0, ratio = 0;
    for (const auto& [k, v] : a.facts) {
      if (k == "volume") volume = v;
      if (k == "ratio") ratio = v;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fx", ratio);
    s = a.symbol + " volume " + format_number(volume) + ", " + buf + " the " +
        (a.base ? a.base->description : "") + ", at " + when;
  } else {
    s = a.symbol;
    if (!a.name.empty() && a.name != a.symbol) s += " (" + a.name + ")";
    if (a.kind == "limit_hit") s += a.direction == "up" ? " at limit-up" : " at limit-down";
    if (a.kind == "luld") s += a.direction == "up" ? " at the LULD upper band" : " at the LULD lower band";
    if (a.kind == "gap") s += " gapped";
    if (a.change_pct) s += " " + format_pct(*a.change_pct);
    if (a.base) s += " vs " + a.base->description;
    s += ": " + format_price(a.price) + " at " + when;
  }
  if (a.headlines.empty()) {
    s += "; no linked headline yet";
  } else {
    const citation& top = a.headlines.front();
    s += top.how == link_kind::theme ? "; possible cause (" + top.theme + " theme): "
                                     : "; likely cause: ";
    s += top.headline;
    if (a.headlines.size() > 1) s += " (+" + std::to_string(a.headlines.size() - 1) + " more)";
  }
  return s;
}

void engine::remember_announcement(trigger& tr, const alert& a) {
  tr.announced = true;
  trigger_story& told = tr.story();
  told.fingerprint = a.fingerprint;
  told.base = a.base.value_or(baseline{});
  told.window = a.window;
  told.threshold_pct = a.threshold_pct;
  told.direction = a.direction;
  told.level = a.level;
}

bool engine::emit(std::size_t r, alert a, std::vector<alert>& out) {
  if (stage_ == engine_stage::shard) {
    // A candidate: the arbiter applies the storm budget across every shard's alerts, and
    // follow-ups are its business (it knows which firings went out).
    ++(a.status == alert_status::resolved ? stats_.resolved : stats_.alerts);
    out.push_back(std::move(a));
    return true;
  }
  if (a.status == alert_status::resolved) {
    ++stats_.resolved;
    out.push_back(std::move(a));
    return true;
  }
  const storm_spec& budget = rules_->config().storm;
  storm_state& storm = storms_[a.rule];
  while (!storm.fired.empty() && storm.fired.front() <= a.event_time - budget.window) {
    storm.fired.pop_front();
  }
  if (storm.fired.size() >= budget.max_alerts) {
    // A burst rolls into a digest, never into silence.
    if (storm.held.empty()) {
      storm.digest_start = a.event_time;
      digest_due_ = std::min(digest_due_, storm.digest_start + budget.window);
    }
    storm.held.push_back(std::move(a));
    ++stats_.suppressed;
    ++stats_.suppressed_storm;
    ++stats_.suppressed_by_rule[r].storm;
    return false;
  }
  storm.fired.push_back(a.event_time);
  ++stats_.alerts;
  if (!a.symbol.empty() && a.follow_up_of.empty()) remember_for_follow_up(a.symbol, r, a);
  out.push_back(std::move(a));
  return true;
}

void engine::emit_due_digests(std::vector<alert>& out, bool all) {
  // Runs on every event: the usual answer (nothing due) must cost one comparison.
  if (!all && stats_.watermark < digest_due_) return;
  const time_ns window = rules_->config().storm.window;
  digest_due_ = INT64_MAX;
  for (auto& [rule, storm] : storms_) {
    if (storm.held.empty()) continue;
    if (!all && stats_.watermark < storm.digest_start + window) {
      digest_due_ = std::min(digest_due_, storm.digest_start + window);
      continue;
    }
    alert d;
    d.kind = "digest";
    d.rule = rule;
    d.level = severity::warning;
    std::set<std::string> names;
    std::string list;
    for (const auto& h : storm.held) {
      for (const auto& s : h.symbols) names.insert(s);
      if (list.size() < 600) {
        list += (list.empty() ? "" : ", ") + (h.symbol.empty() ? h.name : h.symbol);
        if (h.change_pct) list += " " + format_pct(*h.change_pct);
      }
      d.event_time = std::max(d.event_time, h.event_time);
    }
    d.symbols.assign(names.begin(), names.end());
    d.fingerprint = stable_hash_hex(rule + "\x1f" "digest");
    d.id = stable_hash_hex(d.fingerprint + '\x1f' + std::to_string(storm.digest_start));
    d.facts = {{"alerts", static_cast<double>(storm.held.size())}};
    d.summary = std::to_string(storm.held.size()) + " more " + rule + " alerts within " +
                format_duration(window) + " rolled into this digest: " + list;
    storm.held.clear();
    storm.digest_start = INT64_MIN;
    ++stats_.digests;
    ++stats_.alerts;
    out.push_back(std::move(d));
  }
}

void engine::remember_for_follow_up(const std::string& symbol, std::size_t r, const alert& a) {
  // An arbiter sees no prices, so its symbols get a state when they first alert.
  symbol_state* st = stage_ == engine_stage::arbiter ? &state_for(symbol) : find_state(symbol);
  if (!st) return;
  recent_alert ra;
  ra.id = a.id;
  ra.fingerprint = a.fingerprint;
  ra.rule = r;
  ra.time = a.event_time;
  for (const auto& c : a.headlines) ra.cited.push_back(c.id);
  ra.snapshot = a;
  auto& list = st->recent_alerts;
  list.push_back(std::move(ra));
  const time_ns horizon = a.event_time - rules_->config().news.lookahead;
  std::size_t stale = 0;
  while (list.size() - stale > 1 && list[stale].time < horizon) ++stale;
  list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(stale));
}


// ---------------------------------------------------------------------------------------------
// The two stages

void engine::process_shard(const event& e, stage_output& out) {
  moves_out_ = &out.moves;
  process(e, out.candidates);
  moves_out_ = nullptr;
}

std::size_t engine::rule_index(const std::string& name) const {
  const auto& specs = rules_->config().rules;
  for (std::size_t r = 0; r < specs.size(); ++r) {
    if (specs[r].name == name) return r;
  }
  return specs.size();
}

std::string engine::trigger_key(const alert& a) {
  return a.rule + '\x1f' + (a.symbol.empty() ? a.name : a.symbol) + '\x1f' + a.direction;
}

bool engine::restate_resolve(alert& a) {
  auto it = announced_.find(trigger_key(a));
  if (it == announced_.end()) return false;  // its firing never went out on its own
  // The shard assumed its latest firing went out; the resolve must repeat what actually did
  // (an escalation held for a digest leaves the earlier announcement standing).
  restate(a, it->second);
  announced_.erase(it);
  return true;
}

void engine::arbitrate(time_ns stream_watermark, const news* headline, const stage_output& in,
                       std::vector<alert>& out) {
  if (stream_watermark > stats_.watermark) stats_.watermark = stream_watermark;
  if (stats_.watermark >= digest_due_) [[unlikely]] emit_due_digests(out, false);
  if (headline) {
    // Every shard hands the headline over; the first copy is new, the others are duplicates.
    const news_stats before = news_.stats();
    on_news(*headline, out);
    if (news_.stats().headlines + news_.stats().updates != before.headlines + before.updates) {
      ++stats_.events;
      ++stats_.news;
    }
  }
  if (!in.candidates.empty()) ++stats_.events;
  for (const alert& candidate : in.candidates) {
    const std::size_t r = rule_index(candidate.rule);
    if (r >= rules_->config().rules.size()) continue;  // a rule this arbiter does not have
    alert a = candidate;
    if (a.status == alert_status::resolved) {
      if (restate_resolve(a)) emit(r, std::move(a), out);
      continue;
    }
    trigger told;
    remember_announcement(told, a);
    const std::string key = trigger_key(a);
    if (emit(r, std::move(a), out)) announced_[key] = std::move(*told.told);
  }
  if (in.moves.empty()) return;
  // One event's moves (one print): breadth per basket, then one message per direction.
  for (const member_move& m : in.moves) {
    const std::size_t r = rule_index(m.rule);
    if (r >= rules_->config().rules.size()) continue;
    update_basket(r, m.symbol, state_for(m.symbol), m.change_pct, m.price, m.time, m.day, out);
  }
  speak_fresh(out);
}

}  // namespace aftershock::rules
