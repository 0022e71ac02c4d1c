#include "telemetry/metrics.h"

#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace aftershock::telemetry {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<std::pair<std::string, std::string>>;

// Engine latency runs from microseconds (a replay) to a second (a backed-up live queue).
const std::vector<double>& event_to_alert_bounds() {
  static const std::vector<double> bounds{0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                          0.0005,  0.001,    0.0025,  0.005,  0.01,
                                          0.025,   0.05,     0.1,     0.25,   0.5,
                                          1.0,     2.5,      5.0};
  return bounds;
}

// A family of series built at scrape time from snapshot values.
class family {
 public:
  family(std::string name, std::string help, MetricType type) {
    f_.name = std::move(name);
    f_.help = std::move(help);
    f_.type = type;
  }
  family& add(const labels& ls, double value) {
    ClientMetric m = metric(ls);
    switch (f_.type) {
      case MetricType::Counter: m.counter.value = value; break;
      case MetricType::Gauge: m.gauge.value = value; break;
      default: m.untyped.value = value; break;
    }
    f_.metric.push_back(std::move(m));
    return *this;
  }
  // bounds: upper bounds; counts: per bucket, not cumulative, the last one for +Inf.
  template <typename Bounds, typename Counts>
  family& add_histogram(const labels& ls, const Bounds& bounds, const Counts& counts,
                        double sum, std::uint64_t count) {
    ClientMetric m = metric(ls);
    std::uint64_t cumulative = 0;
    std::size_t i = 0;
    for (double b : bounds) {
      cumulative += counts[i++];
      m.histogram.bucket.push_back({cumulative, b});
    }
    m.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = count;
    m.histogram.sample_sum = sum;
    f_.metric.push_back(std::move(m));
    return *this;
  }
  void into(std::vector<MetricFamily>& out) {
    if (!f_.metric.empty()) out.push_back(std::move(f_));
  }

 private:
  static ClientMetric metric(const labels& ls) {
    ClientMetric m;
    for (const auto& [k, v] : ls) m.label.push_back({k, v});
    return m;
  }
  MetricFamily f_;
};

double u(std::uint64_t v) { return static_cast<double>(v); }

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

metrics::metrics(metrics_options options)
    : options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  alerts_fired_ = &BuildCounter()
                       .Name("aftershock_alerts_fired_total")
                       .Help("Alerts fired by the rules (digests and follow-ups included) and "
                             "feed_stale alerts, by rule, severity and kind")
                       .Register(*registry_);
  alerts_resolved_ = &BuildCounter()
                          .Name("aftershock_alerts_resolved_total")
                          .Help("Resolved alerts (the condition cleared), by rule and kind")
                          .Register(*registry_);
  entity_matches_ = &BuildCounter()
                         .Name("aftershock_headline_entity_matches_total")
                         .Help("Headlines linked to a symbol, by symbol and how (direct mention "
                               "or the vendor's symbol tag)")
                         .Register(*registry_);
  theme_matches_ = &BuildCounter()
                        .Name("aftershock_headline_theme_matches_total")
                        .Help("Headlines that matched a theme's keywords, by theme")
                        .Register(*registry_);
  reloads_ = &BuildCounter()
                  .Name("aftershock_config_reloads_total")
                  .Help("Configuration reloads (SIGHUP) by outcome; a failed reload keeps the "
                        "running configuration")
                  .Register(*registry_);
  reloads_->Add({{"outcome", "success"}});
  reloads_->Add({{"outcome", "failure"}});
  last_reload_ = &BuildGauge()
                      .Name("aftershock_config_last_reload_success_timestamp_seconds")
                      .Help("When the running configuration was loaded (start or last "
                            "successful reload), Unix time")
                      .Register(*registry_);
  last_reload_ok_ = &BuildGauge()
                         .Name("aftershock_config_last_reload_successful")
                         .Help("Whether the last reload attempt succeeded (1) or was refused (0)")
                         .Register(*registry_);
  last_reload_ok_->Add({}).Set(1);
  last_reload_->Add({}).Set(unix_now_s());  // the configuration was loaded just before
  rules_info_ = &BuildGauge()
                     .Name("aftershock_rules_info")
                     .Help("The loaded configuration's content hash (value always 1)")
                     .Register(*registry_);
  basket_members_ = &BuildGauge()
                         .Name("aftershock_basket_member_info")
                         .Help("Basket membership from the configuration (value always 1); join "
                               "on symbol to group per-symbol series by basket")
                         .Register(*registry_);
  symbol_info_ = &BuildGauge()
                      .Name("aftershock_symbol_info")
                      .Help("Universe symbols with their display name and exchange (value "
                            "always 1)")
                      .Register(*registry_);
  const build_info& b = options_.build;
  BuildGauge()
      .Name("aftershock_build_info")
      .Help("The running build (value always 1)")
      .Register(*registry_)
      .Add({{"version", b.version},
            {"commit", b.commit},
            {"build_type", b.build_type},
            {"compiler", b.compiler},
            {"mode", options_.mode}})
      .Set(1);
  event_to_alert_ = &BuildHistogram()
                         .Name("aftershock_engine_event_to_alert_seconds")
                         .Help("From the receipt of the frame carrying an event (live) or the "
                               "start of its processing (replay) to each alert it caused being "
                               "handed to the sinks")
                         .Register(*registry_)
                         .Add({}, prometheus::Histogram::BucketBoundaries(
                                      event_to_alert_bounds()));
}

metrics::~metrics() = default;

void metrics::set_pipeline_source(std::function<pipeline_sample()> source) {
  std::lock_guard lock(mutex_);
  pipeline_ = std::move(source);
}

void metrics::set_delivery_source(std::function<exporters::delivery_snapshot()> source) {
  std::lock_guard lock(mutex_);
  delivery_ = std::move(source);
}

void metrics::set_extra_source(std::function<std::vector<MetricFamily>()> source) {
  std::lock_guard lock(mutex_);
  extra_ = std::move(source);
}

void metrics::set_rules(const std::string& config_hash, const rules::compiled_rules& rules) {
  std::lock_guard lock(mutex_);
  for (prometheus::Gauge* g : rules_series_) {
    rules_info_->Remove(g);
    basket_members_->Remove(g);
    symbol_info_->Remove(g);
  }
  rules_series_.clear();
  auto one = [&](prometheus::Family<prometheus::Gauge>& f, const prometheus::Labels& ls) {
    prometheus::Gauge& g = f.Add(ls);
    g.Set(1);
    rules_series_.push_back(&g);
  };
  one(*rules_info_, {{"config_hash", config_hash}});
  const rules::rules_config& config = rules.config();
  for (const auto& [basket, members] : config.baskets) {
    for (const std::string& symbol : members) {
      one(*basket_members_, {{"basket", basket}, {"symbol", symbol}});
    }
  }
  for (const rules::symbol_spec& s : config.universe) {
    const std::string& symbol = s.entity.symbol;
    const std::string mic = rules.calendars()[rules.exchange_for(symbol)].spec().mic;
    one(*symbol_info_, {{"symbol", symbol}, {"name", s.entity.name}, {"exchange", mic}});
  }
}

void metrics::record_reload(bool ok) {
  reloads_->Add({{"outcome", ok ? "success" : "failure"}}).Increment();
  last_reload_ok_->Add({}).Set(ok ? 1 : 0);
  if (ok) last_reload_->Add({}).Set(unix_now_s());
}

void metrics::count_alert(const rules::alert& a) {
  if (a.status == rules::alert_status::resolved) {
    alerts_resolved_->Add({{"rule", a.rule}, {"kind", a.kind}}).Increment();
  } else {
    alerts_fired_
        ->Add({{"rule", a.rule}, {"severity", rules::to_string(a.level)}, {"kind", a.kind}})
        .Increment();
  }
}

void metrics::count_headline(const rules::match_result& matches) {
  for (const rules::entity_match& m : matches.entities) {
    entity_matches_->Add({{"symbol", m.symbol}, {"link", rules::to_string(m.how)}}).Increment();
  }
  for (const rules::theme_match& m : matches.themes) {
    theme_matches_->Add({{"theme", m.theme}}).Increment();
  }
}

void metrics::observe_event_to_alert(double seconds) { event_to_alert_->Observe(seconds); }

void metrics::store_engine(const rules::engine_stats& stats, const rules::news_stats& news,
                           std::vector<price_sample> prices, std::size_t unexported) {
  std::lock_guard lock(mutex_);
  have_engine_ = true;
  engine_ = stats;
  news_ = news;
  prices_ = std::move(prices);
  unexported_symbols_ = unexported;
}

void metrics::engine_heartbeat() { heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed); }

double metrics::engine_silence_seconds() const {
  const std::int64_t last = heartbeat_ns_.load(std::memory_order_relaxed);
  if (last == 0) return 0;
  return static_cast<double>(steady_ns() - last) / 1e9;
}

std::vector<MetricFamily> metrics::Collect() const {
  std::vector<MetricFamily> out = registry_->Collect();
  std::vector<MetricFamily> state = collect_state();
  out.insert(out.end(), std::make_move_iterator(state.begin()),
             std::make_move_iterator(state.end()));
  std::function<std::vector<MetricFamily>()> extra;
  {
    std::lock_guard lock(mutex_);
    extra = extra_;
  }
  if (extra) {
    std::vector<MetricFamily> more = extra();
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return out;
}

std::string metrics::render() const {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, Collect());
  return std::move(text).str();
}

std::vector<MetricFamily> metrics::collect_state() const {
  std::function<pipeline_sample()> pipeline_source;
  std::function<exporters::delivery_snapshot()> delivery_source;
  {
    std::lock_guard lock(mutex_);
    pipeline_source = pipeline_;
    delivery_source = delivery_;
  }
  std::vector<MetricFamily> out;

  // ---- feeds and the engine queue ----
  if (pipeline_source) {
    const pipeline_sample p = pipeline_source();
    family connected("aftershock_feed_connected",
                     "Whether the feed's connection is open and authenticated (1) or not (0)",
                     MetricType::Gauge);
    family healthy("aftershock_feed_healthy",
                   "Whether the feed has been connected and delivering data for healthy_after",
                   MetricType::Gauge);
    family messages("aftershock_feed_messages_total",
                    "Messages received (text frames and server pings)", MetricType::Counter);
    family events("aftershock_feed_events_total", "Market events parsed from the feed",
                  MetricType::Counter);
    family errors("aftershock_feed_parse_errors_total",
                  "Frames or batch elements the feed's parser rejected (counted, skipped)",
                  MetricType::Counter);
    family reconnects("aftershock_feed_reconnects_total", "Connections after the first",
                      MetricType::Counter);
    family bytes("aftershock_feed_received_bytes_total", "Bytes of frames received",
                 MetricType::Counter);
    family stale("aftershock_feed_stale_episodes_total",
                 "Times the feed went silent while its market was open (feed_stale alerts)",
                 MetricType::Counter);
    family dropped("aftershock_feed_dropped_events_total",
                   "Events refused because the engine's queue was full", MetricType::Counter);
    family age("aftershock_feed_last_message_age_seconds",
               "Seconds since the feed's last message (since start if none yet)",
               MetricType::Gauge);
    family lag("aftershock_feed_event_time_lag_seconds",
               "Receive time minus event time for the feed's last frame", MetricType::Gauge);
    for (const feed_sample& f : p.feeds) {
      const labels ls{{"feed", f.name}, {"dialect", f.dialect}};
      connected.add(ls, f.connected && f.authenticated ? 1 : 0);
      healthy.add(ls, f.healthy ? 1 : 0);
      messages.add(ls, u(f.messages));
      events.add(ls, u(f.events));
      errors.add(ls, u(f.parse_errors));
      reconnects.add(ls, u(f.reconnects));
      bytes.add(ls, u(f.bytes));
      stale.add(ls, u(f.stale_episodes));
      dropped.add(ls, u(f.dropped_events));
      age.add(ls, f.last_message_age_s);
      lag.add(ls, f.event_time_lag_s);
    }
    for (family* f : {&connected, &healthy, &messages, &events, &errors, &reconnects, &bytes,
                      &stale, &dropped, &age, &lag}) {
      f->into(out);
    }
    family("aftershock_engine_queue_frames", "Frames waiting in the queue in front of the engine",
           MetricType::Gauge)
        .add({}, u(p.queue_depth))
        .into(out);
    family("aftershock_engine_queue_capacity_frames", "Capacity of the engine's queue",
           MetricType::Gauge)
        .add({}, u(p.queue_capacity))
        .into(out);
    family("aftershock_engine_queue_dropped_frames_total",
           "Frames refused because the engine's queue was full", MetricType::Counter)
        .add({}, u(p.queue_dropped_frames))
        .into(out);
  }

  // ---- the engine's counters and prices ----
  std::lock_guard lock(mutex_);
  if (have_engine_) {
    const rules::engine_stats& e = engine_;
    family("aftershock_engine_events_total", "Events processed by the rules engine, by type",
           MetricType::Counter)
        .add({{"type", "trade"}}, u(e.trades))
        .add({{"type", "bar"}}, u(e.bars))
        .add({{"type", "quote"}}, u(e.quotes))
        .add({{"type", "news"}}, u(e.news))
        .add({{"type", "status"}}, u(e.statuses))
        .add({{"type", "other"}}, u(e.other))
        .into(out);
    family("aftershock_engine_rejected_prints_total",
           "Price prints the engine set aside, by reason (bad ticks are outliers)",
           MetricType::Counter)
        .add({{"reason", "out_of_order"}}, u(e.out_of_order))
        .add({{"reason", "duplicate"}}, u(e.duplicates))
        .add({{"reason", "outlier"}}, u(e.outliers))
        .into(out);
    family("aftershock_engine_corrections_total",
           "Corrections and cancels applied to remembered prints", MetricType::Counter)
        .add({{"kind", "correction"}}, u(e.corrections))
        .add({{"kind", "cancel"}}, u(e.cancels))
        .into(out);
    {
      auto suppressed = family("aftershock_alerts_suppressed_total",
                               "Conditions that held but did not fire, by rule and reason "
                               "(unconfirmed: not confirmed by the next observation; storm: "
                               "rolled into a digest)",
                               MetricType::Counter);
      for (const auto& s : e.suppressed_by_rule) {
        suppressed.add({{"rule", s.rule}, {"reason", "cooldown"}}, u(s.cooldown))
            .add({{"rule", s.rule}, {"reason", "frequency"}}, u(s.frequency))
            .add({{"rule", s.rule}, {"reason", "duplicate"}}, u(s.duplicate))
            .add({{"rule", s.rule}, {"reason", "explained"}}, u(s.explained))
            .add({{"rule", s.rule}, {"reason", "storm"}}, u(s.storm))
            .add({{"rule", s.rule}, {"reason", "unconfirmed"}}, u(s.unconfirmed));
      }
      suppressed.into(out);
    }
    family("aftershock_engine_watermark_timestamp_seconds",
           "The engine's market clock: the latest event time seen, Unix time",
           MetricType::Gauge)
        .add({}, static_cast<double>(e.watermark) / 1e9)
        .into(out);
    family("aftershock_headlines_total", "Headlines received by the news linker, by outcome",
           MetricType::Counter)
        .add({{"outcome", "new"}}, u(news_.headlines))
        .add({{"outcome", "update"}}, u(news_.updates))
        .add({{"outcome", "duplicate"}}, u(news_.duplicates))
        .into(out);
    family("aftershock_headlines_linked_total",
           "Headlines that matched at least one symbol or theme", MetricType::Counter)
        .add({}, u(news_.linked))
        .into(out);

    family last("aftershock_symbol_last_price", "The symbol's last accepted price",
                MetricType::Gauge);
    family close("aftershock_symbol_previous_close_price",
                 "The symbol's previous regular-session close, learned from the stream",
                 MetricType::Gauge);
    family change("aftershock_symbol_change_ratio",
                  "Last price against the previous close (0.05 is +5%)", MetricType::Gauge);
    family when("aftershock_symbol_last_price_timestamp_seconds",
                "Market time of the symbol's last accepted price, Unix time",
                MetricType::Gauge);
    for (const price_sample& p : prices_) {
      const labels ls{{"symbol", p.symbol}, {"exchange", p.exchange}};
      last.add(ls, p.view.last);
      when.add(ls, static_cast<double>(p.view.time) / 1e9);
      if (p.view.prev_close > 0) {
        close.add(ls, p.view.prev_close);
        change.add(ls, p.view.last / p.view.prev_close - 1.0);
      }
    }
    for (family* f : {&last, &close, &change, &when}) f->into(out);
    family("aftershock_symbols_unexported",
           "Symbols with prices but no per-symbol series (outside the universe, beyond "
           "metrics.max_extra_symbols)",
           MetricType::Gauge)
        .add({}, u(unexported_symbols_))
        .into(out);
  }

  // ---- delivery ----
  if (delivery_source) {
    const exporters::delivery_snapshot d = delivery_source();
    const exporters::outbox_stats& o = d.outbox;
    family("aftershock_outbox_alerts", "Alerts in the outbox not yet delivered everywhere",
           MetricType::Gauge)
        .add({}, u(o.depth))
        .into(out);
    family("aftershock_outbox_bytes", "Encoded size of the undelivered alerts",
           MetricType::Gauge)
        .add({}, u(o.bytes))
        .into(out);
    family("aftershock_outbox_oldest_undelivered_age_seconds",
           "Age of the oldest undelivered alert (0 when none)", MetricType::Gauge)
        .add({}, o.oldest_age_s)
        .into(out);
    family("aftershock_outbox_durable",
           "Whether the outbox journals to disk (0: memory only, or degraded after a disk "
           "error)",
           MetricType::Gauge)
        .add({}, o.durable && !o.journal.degraded ? 1 : 0)
        .into(out);
    family("aftershock_outbox_journaled_alerts_total", "Alerts appended to the outbox journal",
           MetricType::Counter)
        .add({}, u(o.appended))
        .into(out);
    family("aftershock_outbox_duplicate_alerts_total",
           "Alerts whose id was already waiting (not queued twice)", MetricType::Counter)
        .add({}, u(o.duplicates))
        .into(out);
    family("aftershock_outbox_unrouted_alerts_total", "Alerts no destination's route takes",
           MetricType::Counter)
        .add({}, u(o.unrouted))
        .into(out);
    family("aftershock_outbox_recovered_alerts_total",
           "Undelivered alerts found in the journal at startup", MetricType::Counter)
        .add({}, u(o.recovered))
        .into(out);
    family("aftershock_outbox_journal_failures_total",
           "Journal write or sync errors (each one degrades the outbox to memory)",
           MetricType::Counter)
        .add({}, u(o.journal.failures))
        .into(out);
    family("aftershock_alerts_dropped_total",
           "Alerts dropped before delivery, by reason and severity (outbox_full: the oldest "
           "alert of the lowest severity made room)",
           MetricType::Counter)
        .add({{"reason", "outbox_full"}, {"severity", "info"}}, u(o.dropped_overflow[0]))
        .add({{"reason", "outbox_full"}, {"severity", "warning"}}, u(o.dropped_overflow[1]))
        .add({{"reason", "outbox_full"}, {"severity", "critical"}}, u(o.dropped_overflow[2]))
        .into(out);

    family requests("aftershock_delivery_requests_total",
                    "Delivery attempts by destination and outcome (delivered, rate_limited: "
                    "429, error: 5xx or transport, timeout, refused: refused for good)",
                    MetricType::Counter);
    family alerts("aftershock_delivery_alerts_total",
                  "Alerts by destination and outcome (delivered, refused)", MetricType::Counter);
    family resends("aftershock_delivery_resends_total",
                   "Alertmanager re-sends of firing alerts", MetricType::Counter);
    family waiting("aftershock_destination_queue_alerts",
                   "Alerts waiting for this destination", MetricType::Gauge);
    family oldest("aftershock_destination_oldest_undelivered_age_seconds",
                  "Age of the oldest alert waiting for this destination (0 when none)",
                  MetricType::Gauge);
    family latency("aftershock_delivery_latency_seconds",
                   "From an alert entering the outbox to its destination accepting it",
                   MetricType::Histogram);
    for (const exporters::destination_stats& s : d.destinations) {
      const labels ls{{"destination", s.name}, {"type", s.type}};
      auto with = [&](const char* outcome) {
        labels l = ls;
        l.emplace_back("outcome", outcome);
        return l;
      };
      const std::uint64_t errors = s.retries >= s.timeouts ? s.retries - s.timeouts : 0;
      const std::uint64_t accounted = s.messages_delivered + s.rate_limited + s.retries;
      const std::uint64_t refused = s.requests > accounted ? s.requests - accounted : 0;
      requests.add(with("delivered"), u(s.messages_delivered))
          .add(with("rate_limited"), u(s.rate_limited))
          .add(with("error"), u(errors))
          .add(with("timeout"), u(s.timeouts))
          .add(with("refused"), u(s.alerts_rejected > 0 ? refused : 0));
      alerts.add(with("delivered"), u(s.alerts_delivered))
          .add(with("refused"), u(s.alerts_rejected));
      resends.add(ls, u(s.resends));
      waiting.add(ls, u(s.depth));
      oldest.add(ls, s.oldest_age_s);
      latency.add_histogram(ls, exporters::latency_histogram::bounds_s, s.latency.counts,
                            s.latency.sum_s, s.latency.count);
    }
    for (family* f : {&requests, &alerts, &resends, &waiting, &oldest, &latency}) f->into(out);
  }
  return out;
}

}  // namespace aftershock::telemetry
