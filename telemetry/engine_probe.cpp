#include "telemetry/engine_probe.h"

namespace aftershock::telemetry {

engine_probe::engine_probe(metrics& m, std::chrono::milliseconds interval)
    : metrics_(m), interval_(interval) {}

void engine_probe::after_event(const rules::engine& engine, const rules::event& e,
                               const std::vector<rules::alert>& alerts,
                               clock::time_point received) {
  if (std::holds_alternative<rules::news>(e)) {
    // A headline the linker accepted (new, or an edited one) has fresh matches; a duplicate
    // leaves the counts unchanged and the previous matches in place, so it is not counted.
    const rules::news_stats& n = engine.headline_stats();
    const std::uint64_t seen = n.headlines + n.updates;
    if (seen != headlines_seen_) {
      headlines_seen_ = seen;
      metrics_.count_headline(engine.last_headline_matches());
    }
  }
  if (alerts.empty()) return;
  const double latency = std::chrono::duration<double>(clock::now() - received).count();
  for (const rules::alert& a : alerts) {
    metrics_.count_alert(a);
    metrics_.observe_event_to_alert(latency);
  }
}

void engine_probe::count_alerts(const std::vector<rules::alert>& alerts) {
  for (const rules::alert& a : alerts) metrics_.count_alert(a);
}

void engine_probe::count_alert(const rules::alert& a) { metrics_.count_alert(a); }

void engine_probe::tick(const rules::engine& engine, bool force) {
  metrics_.engine_heartbeat();
  const auto now = clock::now();
  if (!force && now < next_copy_) return;
  next_copy_ = now + interval_;
  const rules::compiled_rules& rules = engine.rules();
  const std::size_t cap = metrics_.options().max_extra_symbols;
  std::vector<price_sample> prices;
  std::size_t unexported = 0;
  engine.for_each_price([&](const std::string& symbol, const rules::engine::price_view& v) {
    if (v.last <= 0) return;
    const rules::symbol_info* info = rules.find_symbol(symbol);
    if (!info || !info->in_universe) {
      if (!extra_symbols_.count(symbol)) {
        if (extra_symbols_.size() >= cap) {
          ++unexported;
          return;
        }
        extra_symbols_.insert(symbol);
      }
    }
    prices.push_back(
        {symbol, rules.calendars()[info ? info->exchange : rules.exchange_for(symbol)].spec().mic,
         v});
  });
  metrics_.store_engine(engine.stats(), engine.headline_stats(), std::move(prices), unexported);
}

}  // namespace aftershock::telemetry
