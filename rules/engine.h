// The rules engine: events in, alerts out. Pure and single-threaded: it reads time only from
// the events (a watermark), never from a clock, so a replay makes exactly the alerts a live run
// made. One thread owns an engine; it takes no locks. Scale comes from sharding symbols across
// engines, not from sharing one.
//
// Pipeline for a price observation (trade or bar close): duplicate and out-of-order checks, an
// outlier hold (a print far from the last one waits for the next print to agree), market state
// (previous close learned from the stream per exchange calendar), then every rule that applies
// evaluates a condition per direction and hands it to the shared trigger lifecycle:
// confirmation, frequency, cooldown with backoff, hysteresis, escalation, resolve, and the
// per-rule storm budget that rolls bursts into a digest.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rules/alert.h"
#include "rules/compiled_rules.h"
#include "rules/event.h"
#include "rules/news_linker.h"
#include "rules/ring.h"
#include "rules/symbol_table.h"

namespace aftershock::rules {

/// Suppressions of one rule, by reason (the same reasons as engine_stats' totals).
struct rule_suppressions {
  std::string rule;  // the rule's name
  std::uint64_t cooldown = 0, frequency = 0, duplicate = 0, explained = 0, storm = 0,
                unconfirmed = 0;
};

/// Where an engine sits. One process that sees every event is `whole`. A sharded deployment
/// (docs/design.md, "Two-stage engine") splits the work in two stages that together make
/// exactly the whole engine's alerts: `shard` engines each evaluate their share of the symbols
/// (and every headline) and say what they would alert, and one `arbiter`, reading every shard's
/// output in stream order, decides what goes out: basket breadth across all members, the
/// per-rule storm budget, which firings a resolve or a follow-up refers to.
enum class engine_stage : std::uint8_t { whole, shard, arbiter };

/// A basket member's move against its previous close: what a shard hands to the arbiter
/// instead of evaluating basket breadth itself (members live on every shard).
struct member_move {
  std::string rule;     // the basket_breadth rule
  std::string symbol;
  double change_pct = 0;
  double price = 0;
  time_ns time = 0;
  std::int64_t day = 0;  // the member's trading day on its exchange's calendar

  bool operator==(const member_move&) const = default;
};

/// What a shard engine says about one event, for the arbiter.
struct stage_output {
  /// Alerts before the storm budget, in the order the whole engine would make them. Every
  /// firing counts as announced here, so resolves come for all of them (the arbiter keeps the
  /// ones whose firing went out); a headline's follow-ups come as options, newest move first,
  /// of which the arbiter keeps at most one per symbol.
  std::vector<alert> candidates;
  std::vector<member_move> moves;

  void clear() {
    candidates.clear();
    moves.clear();
  }
  bool empty() const noexcept { return candidates.empty() && moves.empty(); }
};

/// Counters a metrics layer can read between events (plain struct, copied out).
struct engine_stats {
  std::uint64_t events = 0;
  std::uint64_t trades = 0;
  std::uint64_t bars = 0;
  std::uint64_t quotes = 0;
  std::uint64_t news = 0;
  std::uint64_t statuses = 0;
  std::uint64_t other = 0;
  std::uint64_t out_of_order = 0;   // price observations older than the symbol's last one
  std::uint64_t duplicates = 0;     // a trade id seen again
  std::uint64_t outliers = 0;       // held prints the next print did not confirm (bad ticks)
  std::uint64_t corrections = 0;    // corrections applied to a remembered print
  std::uint64_t cancels = 0;        // cancels/errors applied to a remembered print
  std::uint64_t unconfirmed = 0;    // conditions that held once and were not confirmed
  std::uint64_t alerts = 0;         // firing alerts emitted (digests included)
  std::uint64_t resolved = 0;       // resolved alerts emitted
  std::uint64_t follow_ups = 0;     // follow-ups citing a late headline
  std::uint64_t suppressed = 0;     // conditions that held but did not fire (all reasons below)
  std::uint64_t suppressed_cooldown = 0;
  std::uint64_t suppressed_frequency = 0;  // already fired at this level / bar / day
  std::uint64_t suppressed_duplicate = 0;  // another rule spoke for the same print
  std::uint64_t suppressed_explained = 0;  // unexplained_move with a linked headline
  std::uint64_t suppressed_storm = 0;      // rolled into a digest
  std::uint64_t digests = 0;
  std::vector<rule_suppressions> suppressed_by_rule;  // one per configured rule, in order
  time_ns watermark = 0;            // latest market time seen
};

class engine {
 public:
  explicit engine(std::shared_ptr<const compiled_rules> rules,
                  engine_stage stage = engine_stage::whole);

  /// Processes one event and appends any alerts it causes to `out`.
  void process(const event& e, std::vector<alert>& out);

  /// How many events ahead of process() a caller passes events to prefetch().
  static constexpr std::size_t k_prefetch_distance = 8;
  /// A hint that `e` will be processed k_prefetch_distance events from now: starts loading
  /// what processing it will touch (its symbol's slot, state, rule states, windows) so that it
  /// is in cache by then. With thousands of symbols the engine's state outgrows the caches and
  /// a print would otherwise wait on a chain of dependent misses (slot, state, rule state,
  /// window, window buffer), one after another. Optional and unobservable: the alerts are the
  /// same with or without it, whatever is passed. Cheap: a hash and a few loads of lines the
  /// earlier steps already fetched.
  void prefetch(const event& e) noexcept;
  /// Below this many known symbols prefetch() does nothing: their state stays in the caches
  /// anyway and the hints would only cost instructions (on the CI host the hints start to pay
  /// between 500 and 1,000 symbols and cost 8-9% with 23 or 250; docs/performance.md).
  static constexpr std::size_t k_prefetch_min_symbols = 512;
  /// Sets that threshold (0: always hint, as the tests do to exercise the hints on small days).
  void set_prefetch_min_symbols(std::size_t symbols) noexcept { prefetch_min_symbols_ = symbols; }

  /// Processes a batch (a frame's events) in order, loading each event's state ahead with
  /// prefetch() when that pays: the batch is long enough and the engine knows at least
  /// k_prefetch_min_symbols symbols. For each event, `out` is cleared, the event processed,
  /// then `after_each(event, out)` called with its alerts.
  template <typename AfterEach>
  void process_batch(const std::vector<event>& events, std::vector<alert>& out,
                     AfterEach&& after_each) {
    const std::size_t count = events.size();
    const bool ahead = count > k_prefetch_distance && states_.size() >= prefetch_min_symbols_;
    if (ahead) {
      // The first events' loads start together (their misses overlap); from then on each
      // event's hint is given k_prefetch_distance events before it is processed.
      for (std::size_t i = 0; i < k_prefetch_distance; ++i) prefetch(events[i]);
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (ahead && i + k_prefetch_distance < count) prefetch(events[i + k_prefetch_distance]);
      out.clear();
      process(events[i], out);
      after_each(events[i], out);
    }
  }

  // ---- the two stages (engine_stage::shard and ::arbiter) --------------------------------

  /// Shard: one event of this shard's symbols, or a headline (every shard reads every one,
  /// for the citations of its own alerts).
  void process_shard(const event& e, stage_output& out);
  /// Arbiter: one stream position, positions strictly in stream order: the output of the
  /// shard that read that event (`in`, empty if it said nothing) and, for a headline, the
  /// headline itself (several shards may hand over the same one: the first counts).
  /// `stream_watermark` is the latest market time of all events up to this position in the
  /// whole stream (what a whole engine's watermark would be): digests fall due by it.
  void arbitrate(time_ns stream_watermark, const news* headline, const stage_output& in,
                 std::vector<alert>& out);

  /// Emits what is held back (digests of rolled-up bursts). Call at the end of a replay and at
  /// shutdown; live, digests are also emitted as the watermark passes their window.
  void flush(std::vector<alert>& out);

  /// Swaps in a new, already validated configuration, keeping market state (previous closes,
  /// windows, what has fired) for rules whose names survive.
  void replace_rules(std::shared_ptr<const compiled_rules> rules);

  const engine_stats& stats() const noexcept { return stats_; }
  const news_stats& headline_stats() const noexcept { return news_.stats(); }
  /// What the headline most recently accepted (new or edited) matched, for metrics.
  const match_result& last_headline_matches() const noexcept { return news_.last_matches(); }
  const compiled_rules& rules() const noexcept { return *rules_; }
  std::shared_ptr<const compiled_rules> rules_ptr() const noexcept { return rules_; }

  /// Last price and previous close of a symbol, for metrics; false if unknown.
  struct price_view {
    double last = 0;
    double prev_close = 0;  // 0 if not known yet
    time_ns time = 0;
  };
  bool price_of(const std::string& symbol, price_view& out) const;
  /// Calls fn(symbol, view) for every symbol with a price (for metrics snapshots).
  template <typename Fn>
  void for_each_price(Fn&& fn) const {
    for (std::uint32_t i = 0; i < states_.size(); ++i) {
      const symbol_state& st = *states_[i];
      fn(symbol_names_.name(i), price_view{st.last_price, st.prev_close, st.last_time});
    }
  }

 private:
  struct print {
    std::int64_t id = 0;
    double price = 0;
    time_ns time = 0;
    bool regular = false;
  };
  struct window_point {
    time_ns time;
    double price;
  };
  // What an announced firing said, so its resolve names the same fingerprint, baseline, window,
  // direction and severity. Cold: allocated only once a trigger fires.
  struct trigger_story {
    std::string fingerprint;
    baseline base;
    time_ns window = 0;
    double threshold_pct = 0;
    std::string direction;
    severity level = severity::info;
  };
  // The lifecycle of one condition (rule x symbol-or-basket x direction). Kept small: every
  // price observation touches one per rule and direction, so its size is cache misses.
  struct trigger {
    bool firing = false;
    // Whether the firing reached the output on its own (not folded into another rule's message
    // on the same print, nor into a storm digest). Only announced firings get a resolve.
    bool announced = false;
    int level = -1;                    // highest level announced while firing
    int fires_today = 0;
    int pending = 0;                   // observations seen toward confirmation
    std::int64_t day = INT64_MIN;      // trading day for day-scoped rules
    time_ns last_fire = INT64_MIN;
    time_ns cooling_until = INT64_MIN;
    double last_change = 0;
    std::unique_ptr<trigger_story> told;  // null until the first firing

    trigger_story& story() {
      if (!told) told = std::make_unique<trigger_story>();
      return *told;
    }
  };
  // A condition as an evaluator sees it on one observation, for one direction.
  struct signal {
    int level = -1;          // -1: does not hold; 0: threshold; 1..: escalation levels
    bool rearm = false;      // clearly gone (hysteresis passed): re-arm and resolve
    double change_pct = 0;   // signed move the alert reports
    double level_pct = 0;    // the level crossed
    // The baseline as numbers and a static kind name: evaluated on every print, so nothing is
    // allocated or freed here; the description is written only when an alert is made
    // (describe_baseline), or given (as a view of a string the caller keeps alive until the
    // alert is made) by the few evaluators that have one already.
    struct base_ref {
      std::string_view kind;
      double price = 0;
      time_ns time = 0;
      std::string_view description;
    } base;
    enum class note : std::uint8_t { none, limits, gap, zscore, breadth } extra = note::none;
    double x = 0, y = 0, z = 0;  // note-specific numbers (limits, gap open, volatility ...)
    std::size_t n = 0, total = 0;
  };
  struct minute_stats {               // rolling one-minute returns for zscore_move
    std::int64_t minute = INT64_MIN;
    double minute_close = 0;
    double prev_close = 0;
    ring<double> returns;
    double sum = 0, sum_sq = 0;
    // Standard deviation of `returns` (floored at 1e-6), updated with them; NaN, as computed
    // from no returns, until there is one.
    double sigma = std::numeric_limits<double>::quiet_NaN();
  };
  struct volume_stats {               // per time-of-day bucket, for volume_spike
    std::int64_t day = INT64_MIN;
    int bucket = -1;
    double current = 0;
    std::map<int, ring<double>> history;  // bucket -> last days' volumes
    std::int64_t fired_day = INT64_MIN;
    int fired_bucket = -1;
    // The typical volume of the current bucket, computed once when the bucket starts.
    double typical = 0;
    std::size_t typical_days = 0;
  };
  // Rolling windows of one price series: window_move's monotonic deques, zscore_move's points
  // and one-minute returns.
  struct series_state {
    ring<window_point> mins, maxs, points;
    minute_stats minutes;
  };
  // One rule's state for one symbol. Small on purpose (every print walks the symbol's rules):
  // what only some kinds need lives behind a pointer allocated on first use.
  // Line-aligned, with what rolling rules touch on every print (gap, windows, volume) in its
  // first cache line: the triggers after it are read only when a condition holds or is in
  // flight.
  struct alignas(64) rule_state {
    std::int64_t gap_day = INT64_MIN;  // opening_gap: the day whose open is below
    double gap_open = 0;
    time_ns gap_time = 0;
    std::unique_ptr<series_state> series_;  // window_move, zscore_move
    std::unique_ptr<volume_stats> volume_;  // volume_spike
    trigger up, down;

    series_state& series() {
      if (!series_) series_ = std::make_unique<series_state>();
      return *series_;
    }
    volume_stats& volume() {
      if (!volume_) volume_ = std::make_unique<volume_stats>();
      return *volume_;
    }
    // Neither direction is firing or counting confirmations: a print whose condition does not
    // hold changes nothing here (day resets are applied when the trigger is next used).
    bool idle() const noexcept {
      return !up.firing && !down.firing && up.pending == 0 && down.pending == 0;
    }
  };
  struct recent_alert {
    std::string id, fingerprint;
    std::size_t rule = 0;
    time_ns time = 0;
    std::vector<std::string> cited;
    alert snapshot;
  };
  // Per rule, a byte; inline for up to 16 rules (a vector's size), so the hot path reads it
  // from the symbol's own cache lines rather than from a block of its own.
  class rule_bytes {
   public:
    void assign(std::size_t count) {
      heap_.reset(count > k_inline ? new std::uint8_t[count]() : nullptr);
      inline_.fill(0);
    }
    std::uint8_t* data() noexcept { return heap_ ? heap_.get() : inline_.data(); }
    const std::uint8_t* data() const noexcept { return heap_ ? heap_.get() : inline_.data(); }
    std::uint8_t& operator[](std::size_t r) noexcept { return data()[r]; }
    std::uint8_t operator[](std::size_t r) const noexcept { return data()[r]; }

   private:
    static constexpr std::size_t k_inline = 16;
    std::array<std::uint8_t, k_inline> inline_{};
    std::unique_ptr<std::uint8_t[]> heap_;
  };
  // One basket under one basket_breadth rule. Every print of a member re-counts the basket, so
  // the members are read from a vector of pointers in name order (the order alerts list them)
  // into entries that sit together in a deque, rather than walked node by node in a map.
  struct basket_state {
    struct member {
      std::string name;
      double change = 0;
      time_ns time = 0;
    };
    std::deque<member> entries;      // stable addresses: basket_links point into it
    std::vector<member*> by_name;    // the entries, sorted by name
    member& member_for(const std::string& symbol);  // finds or adds (first print after a reload)
    trigger up, down;
  };
  // One basket a symbol counts in for one basket_breadth rule: found once, then reached
  // without building (rule, basket) keys or looking names up on every print.
  struct basket_link {
    std::size_t rule = 0;
    basket_state* state = nullptr;               // node of baskets_ (never erased: stable)
    basket_state::member* member = nullptr;      // this symbol's entry in state->members
    const std::string* basket = nullptr;         // its name, owned by the rules
    std::size_t total = 0;                       // the basket's member count
  };
  struct symbol_state {
    std::size_t exchange = 0;
    const symbol_info* info = nullptr;  // null outside the universe
    // Per rule: bit s is set if the rule applies to this symbol in session_kind s (cached, so
    // the hot path neither matches names nor scans session lists).
    rule_bytes applies;
    double limit_pct = -1;              // daily price limit in %, negative if none (cached)
    std::int64_t max_id = 0;            // highest trade id seen: anything above is new
    double last_price = 0;
    time_ns last_time = INT64_MIN;
    double last_regular_price = 0;
    std::int64_t last_regular_day = INT64_MIN;
    time_ns last_regular_time = 0;
    double prev_close = 0;
    std::int64_t prev_close_day = INT64_MIN;
    time_ns prev_close_time = 0;
    std::int64_t first_regular_day = INT64_MIN;
    ring<print> recent;                // recent accepted prints (ids for dedupe/corrections)
    std::optional<print> held;         // an outlier waiting for confirmation
    bool has_bars = false;             // volume comes from bars when the feed sends them
    bool halted = false;
    double luld_up = 0, luld_down = 0;
    // Per session_kind, the price rules (by bit, as `busy`) that apply to this symbol then;
    // basket_breadth rules only for symbols in the universe (no other symbol is in a basket).
    // All zero when there are more than 64 rules (the walk then checks each rule).
    std::array<std::uint64_t, 4> walk_in_session{};
    // Bit r (r < 64): rule r's triggers are not idle. A print whose condition holds in
    // neither direction skips the lifecycle of rules whose bit is clear without touching
    // their state.
    std::uint64_t busy = 0;
    std::vector<rule_state> rules;
    std::vector<recent_alert> recent_alerts;  // for late-headline follow-ups, oldest first
    // Per basket_breadth rule evaluated so far, its baskets (a link with a null state when the
    // rule has none for this symbol); cleared when the rules are replaced.
    std::vector<basket_link> basket_links;
  };
  struct storm_state {
    std::deque<time_ns> fired;
    time_ns digest_start = INT64_MIN;
    std::vector<alert> held;
  };

  symbol_state& state_for(const std::string& symbol);
  symbol_state* find_state(const std::string& symbol) noexcept;
  // Sizes a symbol's rule states for the current rules; with `carried_from` (new rule index ->
  // old index or -1), keeps the state of rules whose names survived a reload.
  void init_rule_states(symbol_state& st, const std::vector<int>* carried_from) const;
  void observe_price(const std::string& symbol, symbol_state& st, std::int64_t id, double price,
                     time_ns t, time_ns session_time, std::vector<alert>& out);
  void accept_price(const std::string& symbol, symbol_state& st, const print& p,
                    time_ns session_time, std::vector<alert>& out);
  void observe_volume(const std::string& symbol, symbol_state& st, double volume, time_ns t,
                      std::vector<alert>& out);
  void on_status(const trading_status& s, std::vector<alert>& out);
  void on_correction(const std::string& symbol, std::int64_t id, std::optional<double> price,
                     std::int64_t new_id);
  void on_news(const news& n, std::vector<alert>& out);
  void rebuild_windows(symbol_state& st);

  // Evaluators: fill `up` and `down` for this observation.
  void eval_prev_close(const rule_spec& r, const symbol_state& st, double price,
                       std::int64_t day, signal& up, signal& down) const;
  // These keep rolling state, so they run on every print. Each returns whether it wrote the
  // signals; with `idle` (no trigger in flight) it returns false without writing them when
  // nothing holds.
  [[gnu::always_inline]] bool eval_window(const rule_spec& r, rule_state& rs, const symbol_state& st, double price,
                   time_ns t, bool idle, signal& up, signal& down) const;
  [[gnu::always_inline]] bool eval_zscore(const rule_spec& r, rule_state& rs, double price, time_ns t, bool idle,
                   signal& up, signal& down) const;
  [[gnu::always_inline]] bool eval_gap(const rule_spec& r, rule_state& rs, const symbol_state& st, double price,
                time_ns t, std::int64_t day, bool regular, bool idle, signal& up,
                signal& down) const;
  void eval_limit(const rule_spec& r, const symbol_state& st, const std::string& symbol,
                  double price, std::int64_t day, signal& up, signal& down) const;
  void eval_luld(const symbol_state& st, double price, signal& up, signal& down);
  // False when rule `spec` certainly does not hold in either direction on this print and
  // needs no state update, so an idle rule can be skipped without building its signals.
  bool may_hold(const rule_spec& spec, const symbol_state& st, double price,
                double move_pct) const noexcept;
  void eval_breadth(std::size_t r, const std::string& symbol, symbol_state& st,
                    double price, time_ns t, std::int64_t day, std::vector<alert>& out);
  void update_basket(std::size_t r, const std::string& symbol, symbol_state& st,
                     double change, double price, time_ns t, std::int64_t day,
                     std::vector<alert>& out);
  std::size_t rule_index(const std::string& name) const;

  // The shared lifecycle. Returns true if an alert was emitted.
  bool apply(trigger& tr, std::size_t r, const std::string& symbol, const symbol_state* st,
             const signal& sig, bool up, double price, time_ns t, std::int64_t day,
             bool day_scoped, std::span<const std::string* const> basket_symbols,
             const std::string& basket, std::vector<alert>& out);
  alert make_alert(std::size_t r, const std::string& symbol, const symbol_state* st,
                   const signal& sig, const char* direction, double price, time_ns t,
                   std::span<const std::string* const> basket_symbols,
                   const std::string& basket) const;
  alert make_resolved(std::size_t r, const std::string& symbol, const symbol_state* st,
                      const trigger& tr, double change, double price, time_ns t,
                      const std::string& why) const;
  // Sends one alert out (or into a storm digest). Returns whether it went out on its own.
  bool emit(std::size_t r, alert a, std::vector<alert>& out);
  // Records on the trigger what an announced firing said, for its resolve.
  static void remember_announcement(trigger& tr, const alert& a);
  void emit_due_digests(std::vector<alert>& out, bool all);
  void remember_for_follow_up(const std::string& symbol, std::size_t r, const alert& a);
  std::string compose_summary(const alert& a, const exchange_calendar& cal) const;
  std::string describe_baseline(const rule_spec& spec, const symbol_state* st, const signal& sig,
                                const std::string& basket) const;

  void index_rules();
  // Sends the current observation's alerts out: one message per print and direction, then
  // the storm budget; records what each trigger announced.
  void speak_fresh(std::vector<alert>& out);
  // Arbiter: a member's move into its basket's breadth.
  void arbitrate_move(const member_move& m, std::vector<alert>& out);
  // Arbiter: whether a resolve's firing went out; if so, the resolve restates what it said.
  bool restate_resolve(alert& a);
  // Writes into a resolve (its event_time set) what the firing it ends said, and its id.
  static void restate(alert& resolved, const trigger_story& told);
  static std::string trigger_key(const alert& a);
  // An exchange's local day, minute and session, which only change at minute boundaries: the
  // time-zone arithmetic runs once per exchange per minute instead of once per print.
  struct local_clock {
    time_ns from = 1, to = 0;  // [from, to): the UTC minute this entry describes
    std::int64_t day = 0;
    int minute = 0;
    session_kind session = session_kind::closed;
  };
  // The current minute's entry is found inline; anything else (the other entry, a new
  // minute, the first use) goes the slow way, which does the whole lookup again.
  const local_clock& clock_at(std::size_t exchange, time_ns t) {
    if (exchange < clocks_.size()) [[likely]] {
      const clock_pair& pair = clocks_[exchange];
      const local_clock& newest = pair.entry[pair.newest];
      if (t >= newest.from && t < newest.to) return newest;
    }
    return clock_at_slow(exchange, t);
  }
  const local_clock& clock_at_slow(std::size_t exchange, time_ns t);
  // Per exchange, the two most recent minutes: prints straddling a minute boundary arrive
  // interleaved, and one entry would thrash between them.
  struct clock_pair {
    local_clock entry[2];
    std::uint8_t newest = 0;
  };
  std::vector<clock_pair> clocks_;  // per exchange index

  std::shared_ptr<const compiled_rules> rules_;
  // Rules evaluated on every price observation, with what the loop needs inline.
  struct price_rule {
    std::size_t index;
    const rule_spec* spec;
    std::uint64_t bit;  // in symbol_state::busy; 0 for rules past the 64th (never skipped)
  };
  std::vector<price_rule> price_rules_;
  // With at most 64 rules, a print walks only the rules set in
  //   walk_in_session[session] & (busy | rolling_rules_ | the stateless rules that may hold),
  // lowest bit first (the configured order), instead of testing every price rule in turn.
  bool walk_by_mask_ = false;
  std::uint64_t rolling_rules_ = 0;  // keep state on every print: always walked
  std::uint64_t limit_rules_ = 0;    // price_limit
  std::uint64_t luld_rules_ = 0;     // luld
  struct close_rule {                // prev_close_move, unexplained_move
    std::uint64_t bit;
    double threshold_pct;
  };
  std::vector<close_rule> close_rules_;
  double close_min_threshold_ = 0;   // the lowest of their thresholds (+inf if none)
  void cache_walk(symbol_state& st) const;
  std::vector<std::size_t> volume_rules_;  // volume_spike rules
  // Rules that touch their state on every print (rolling windows, gaps, volume), for prefetch.
  std::vector<std::size_t> stateful_rules_;
  std::vector<std::size_t> series_rules_;  // of those, the ones with rolling windows
  std::size_t rule_count_ = 0;              // rules_->config().rules.size()
  // prefetch()'s pipeline: each call starts a new event and moves each of the
  // k_prefetch_steps earlier ones, every k_prefetch_spacing calls, one level deeper (slot,
  // state, rule states, windows), so each level's loads have had time to arrive.
  static constexpr std::size_t k_prefetch_spacing = 2;
  static constexpr std::size_t k_prefetch_steps = 4;
  static_assert(k_prefetch_spacing * k_prefetch_steps == k_prefetch_distance);
  struct prefetch_entry {
    std::uint64_t hash = 0;
    const symbol_state* st = nullptr;
    bool price = false;  // a trade or bar: something to prefetch
  };
  std::array<prefetch_entry, 16> prefetch_ring_{};
  std::size_t prefetch_next_ = 0;
  std::size_t prefetch_min_symbols_ = k_prefetch_min_symbols;
  symbol_table symbol_names_;                          // symbol -> index into states_
  std::vector<std::unique_ptr<symbol_state>> states_;  // stable addresses across growth
  std::map<std::pair<std::string, std::string>, basket_state> baskets_;  // (rule, basket)
  std::map<std::string, storm_state> storms_;   // per rule name
  time_ns digest_due_ = INT64_MAX;  // earliest time a held digest is due (checked per event)
  std::string luld_description_;    // scratch: the LULD band text a signal refers to
  struct fresh_alert {
    std::size_t rule;
    alert a;
    trigger* tr;  // the trigger that made it (null for alerts without lifecycle)
  };
  std::vector<fresh_alert> fresh_;  // alerts of the current observation
  signal scratch_up_, scratch_down_;  // accept_price's signals (see there)
  bool scratch_dirty_ = false;        // an evaluator wrote them since they were last reset
  engine_stage stage_ = engine_stage::whole;
  std::vector<member_move>* moves_out_ = nullptr;  // shard: where eval_breadth's moves go
  // Arbiter: what each announced trigger (rule, symbol or basket, direction) said last, for
  // its resolve; a trigger absent here has nothing standing (never out, or resolved).
  std::map<std::string, trigger_story> announced_;
  // Scratch of update_basket, reused per observation: the members past the threshold, by
  // pointer (an alert copies the names; most observations write none).
  std::vector<const std::string*> breadth_up_members_, breadth_down_members_;
  news_linker news_;
  engine_stats stats_;
};

/// 64-bit FNV-1a as 16 lowercase hex digits: stable ids and fingerprints.
std::string stable_hash_hex(std::string_view text);

}  // namespace aftershock::rules
