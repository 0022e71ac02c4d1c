#include "rules/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

bool session_allowed(const rule_spec& r, session_kind s) {
  return r.sessions.empty() || std::find(r.sessions.begin(), r.sessions.end(), s) != r.sessions.end();
}

}  // namespace

engine::engine(std::shared_ptr<const compiled_rules> rules) : rules_(std::move(rules)) {}

void engine::replace_rules(std::shared_ptr<const compiled_rules> rules) {
  rules_ = std::move(rules);
  const auto& specs = rules_->config().rules;
  for (auto& [symbol, st] : symbols_) {
    std::vector<rule_state> carried(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      carried[i].rule = specs[i].name;
      for (auto& old : st.rules) {
        if (old.rule == specs[i].name) {
          carried[i] = std::move(old);
          break;
        }
      }
    }
    st.rules = std::move(carried);
    st.exchange = rules_->exchange_for(symbol);
  }
  news_.rematch(*rules_);
}

engine::symbol_state& engine::state_for(const std::string& symbol) {
  auto it = symbols_.find(symbol);
  if (it != symbols_.end()) return it->second;
  symbol_state st;
  st.exchange = rules_->exchange_for(symbol);
  const auto& specs = rules_->config().rules;
  st.rules.resize(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) st.rules[i].rule = specs[i].name;
  return symbols_.emplace(symbol, std::move(st)).first->second;
}

bool engine::price_of(const std::string& symbol, price_view& out) const {
  auto it = symbols_.find(symbol);
  if (it == symbols_.end()) return false;
  out.last = it->second.last_price;
  out.prev_close = it->second.prev_close;
  out.time = it->second.last_time;
  return true;
}

void engine::process(const event& e, std::vector<alert>& out) {
  ++stats_.events;
  const time_ns t = event_time(e);
  if (t > stats_.watermark) stats_.watermark = t;
  if (const auto* tr = std::get_if<trade>(&e)) {
    ++stats_.trades;
    observe_price(tr->symbol, tr->price, tr->time, tr->time, out);
  } else if (const auto* b = std::get_if<bar>(&e)) {
    ++stats_.bars;
    // A minute bar is known at its end; its close belongs to the session of its last instant.
    // Updated bars revise a minute already seen and daily bars repeat the running day, so
    // neither is a new price observation.
    if (b->kind == bar_kind::minute || b->kind == bar_kind::second) {
      observe_price(b->symbol, b->close, b->end, b->end - 1, out);
    }
  } else if (const auto* n = std::get_if<news>(&e)) {
    ++stats_.news;
    news_.add(*n, *rules_);
  } else if (std::holds_alternative<quote>(e)) {
    ++stats_.quotes;
  } else {
    ++stats_.other;
  }
}

void engine::observe_price(const std::string& symbol, double price, time_ns t,
                           time_ns session_time, std::vector<alert>& out) {
  symbol_state& st = state_for(symbol);
  if (t < st.last_time) {
    ++stats_.out_of_order;
    return;
  }
  const exchange_calendar& cal = rules_->calendars()[st.exchange];
  const std::int64_t day = cal.local_day(session_time);
  const session_kind session = cal.session_at(session_time);

  // The previous close is the last regular-session price of the most recent earlier trading
  // day, learned from the stream itself, so a capture that starts the day before needs nothing
  // else.
  if (st.last_regular_day != INT64_MIN && st.last_regular_day < day &&
      st.prev_close_day != st.last_regular_day) {
    st.prev_close = st.last_regular_price;
    st.prev_close_day = st.last_regular_day;
    st.prev_close_time = st.last_regular_time;
  }
  if (session == session_kind::regular) {
    st.last_regular_price = price;
    st.last_regular_day = day;
    st.last_regular_time = t;
  }
  st.last_price = price;
  st.last_time = t;

  const auto& specs = rules_->config().rules;
  const std::size_t first_new = out.size();
  for (std::size_t r = 0; r < specs.size(); ++r) {
    if (!session_allowed(specs[r], session) || !rules_->rule_applies(r, symbol)) continue;
    switch (specs[r].kind) {
      case rule_kind::prev_close_move:
        eval_prev_close(r, symbol, st, price, t, day, out);
        break;
      case rule_kind::window_move:
        eval_window(r, symbol, st, price, t, out);
        break;
    }
  }
  // One print, one message per direction: when several rules fire on the same observation in
  // the same direction, the first configured rule speaks and the others are counted.
  for (std::size_t i = first_new + 1; i < out.size();) {
    const bool repeats = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(first_new),
                                     out.begin() + static_cast<std::ptrdiff_t>(i),
                                     [&](const alert& a) { return a.direction == out[i].direction; });
    if (repeats) {
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      ++stats_.suppressed;
      --stats_.alerts;
    } else {
      ++i;
    }
  }
}

void engine::eval_prev_close(std::size_t r, const std::string& symbol, symbol_state& st,
                             double price, time_ns t, std::int64_t day, std::vector<alert>& out) {
  if (st.prev_close <= 0 || st.prev_close_day >= day) return;
  const rule_spec& spec = rules_->config().rules[r];
  rule_state& rs = st.rules[r];
  if (rs.day != day) {
    rs.day = day;
    rs.fired_up = rs.fired_down = -1;
  }
  const double change = (price / st.prev_close - 1.0) * 100.0;
  const double magnitude = std::fabs(change);
  // Highest level reached: 0 is the threshold, then each escalation level.
  int level = -1;
  if (magnitude >= spec.threshold_pct) {
    level = 0;
    for (std::size_t i = 0; i < spec.escalation_pct.size(); ++i) {
      if (magnitude >= spec.escalation_pct[i]) level = static_cast<int>(i) + 1;
    }
  }
  if (level < 0) return;
  int& fired = change > 0 ? rs.fired_up : rs.fired_down;
  if (level <= fired) {
    ++stats_.suppressed;
    return;
  }
  fired = level;
  const double level_pct = level == 0 ? spec.threshold_pct : spec.escalation_pct[level - 1];
  const exchange_calendar& cal = rules_->calendars()[st.exchange];
  baseline base;
  base.kind = "prev_close";
  base.price = st.prev_close;
  base.time = st.prev_close_time;
  base.description = "previous close " + format_price(st.prev_close) + " (" +
                     format_date(st.prev_close_day) + ", " + cal.spec().mic + ")";
  out.push_back(make_price_alert(r, symbol, st, price, change, level_pct, t, std::move(base)));
  ++stats_.alerts;
}

void engine::eval_window(std::size_t r, const std::string& symbol, symbol_state& st, double price,
                         time_ns t, std::vector<alert>& out) {
  const rule_spec& spec = rules_->config().rules[r];
  rule_state& rs = st.rules[r];
  const time_ns horizon = t - spec.window;
  while (!rs.mins.empty() && rs.mins.front().time < horizon) rs.mins.pop_front();
  while (!rs.maxs.empty() && rs.maxs.front().time < horizon) rs.maxs.pop_front();
  while (!rs.mins.empty() && rs.mins.back().price >= price) rs.mins.pop_back();
  while (!rs.maxs.empty() && rs.maxs.back().price <= price) rs.maxs.pop_back();
  rs.mins.push_back({t, price});
  rs.maxs.push_back({t, price});
  const window_point low = rs.mins.front();
  const window_point high = rs.maxs.front();
  const exchange_calendar& cal = rules_->calendars()[st.exchange];

  const double up = (price / low.price - 1.0) * 100.0;
  const double down = (price / high.price - 1.0) * 100.0;
  auto fire = [&](double change, const window_point& ref, const char* kind, time_ns& last_fire) {
    // A move that keeps going is the same move: one alert per direction per cooldown.
    const time_ns cooldown = spec.cooldown > 0 ? spec.cooldown : spec.window;
    if (last_fire != INT64_MIN && t - last_fire < cooldown) {
      ++stats_.suppressed;
      return;
    }
    last_fire = t;
    baseline base;
    base.kind = kind;
    base.price = ref.price;
    base.time = ref.time;
    base.description = std::string(kind == std::string("window_low") ? "low" : "high") + " " +
                       format_price(ref.price) + " at " + format_local_clock(cal, ref.time) +
                       " within the last " + format_duration(spec.window);
    alert a = make_price_alert(r, symbol, st, price, change, spec.threshold_pct, t, std::move(base));
    a.window = spec.window;
    out.push_back(std::move(a));
    ++stats_.alerts;
  };
  if (up >= spec.threshold_pct) fire(up, low, "window_low", rs.last_fire_up);
  if (-down >= spec.threshold_pct) fire(down, high, "window_high", rs.last_fire_down);
}

alert engine::make_price_alert(std::size_t r, const std::string& symbol, const symbol_state& st,
                               double price, double change_pct, double level, time_ns t,
                               baseline base) const {
  const rule_spec& spec = rules_->config().rules[r];
  const exchange_calendar& cal = rules_->calendars()[st.exchange];
  const symbol_info* info = rules_->find_symbol(symbol);
  alert a;
  a.kind = spec.kind == rule_kind::window_move ? "fast_move" : "move";
  a.rule = spec.name;
  a.symbol = symbol;
  a.symbols = {symbol};
  a.name = info ? info->name : std::string();
  a.exchange = cal.spec().mic;
  a.time_zone = cal.spec().time_zone;
  a.utc_offset_s = cal.zone().utc_offset(t);
  a.change_pct = change_pct;
  a.direction = change_pct > 0 ? "up" : "down";
  a.price = price;
  a.threshold_pct = level;
  a.event_time = t;
  a.level = std::fabs(change_pct) >= spec.critical_pct ? severity::critical : severity::warning;
  a.base = std::move(base);
  a.fingerprint = stable_hash_hex(a.rule + '\x1f' + symbol + '\x1f' + a.direction + '\x1f' + a.base->kind);
  a.id = stable_hash_hex(a.fingerprint + '\x1f' + std::to_string(t) + '\x1f' + std::to_string(level));
  attach_citations(a);

  std::string s = symbol;
  if (info && info->name != symbol) s += " (" + info->name + ")";
  s += " " + format_pct(change_pct) + " vs " + a.base->description + ": " + format_price(price) +
       " at " + format_local_clock(cal, t) + " (" + format_rfc3339_s(t).substr(11, 5) + "Z)";
  if (a.headlines.empty()) {
    s += "; no linked headline yet";
  } else {
    const citation& top = a.headlines.front();
    s += top.how == link_kind::theme ? "; possible cause (" + top.theme + " theme): "
                                     : "; likely cause: ";
    s += top.headline;
    if (a.headlines.size() > 1) {
      s += " (+" + std::to_string(a.headlines.size() - 1) + " more)";
    }
  }
  a.summary = std::move(s);
  return a;
}

void engine::attach_citations(alert& a) const {
  const auto& policy = rules_->config().news;
  a.headlines = news_.cite(a.symbol, a.event_time - policy.lookback, a.event_time,
                           policy.max_citations, *rules_);
}

}  // namespace aftershock::rules
