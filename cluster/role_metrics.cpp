#include "cluster/role_metrics.h"

namespace aftershock::cluster {

std::vector<prometheus::MetricFamily> role_metric_families(const role_snapshot& s,
                                                           const std::string& role,
                                                           const std::string& shard) {
  std::vector<prometheus::MetricFamily> out;
  auto add = [&](const char* name, const char* help, prometheus::MetricType type, double value) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    prometheus::ClientMetric m;
    m.label.push_back({"role", role});
    if (!shard.empty()) m.label.push_back({"shard", shard});
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
    out.push_back(std::move(f));
  };
  using prometheus::MetricType;
  add("aftershock_cluster_events_total",
      "Events published (ingest), evaluated (engine) or stream positions merged (arbiter) by "
      "this role", MetricType::Counter,
      static_cast<double>(s.events));
  add("aftershock_cluster_alerts_total",
      "Candidates staged (engine), alerts stored in the alerts stream (arbiter, ingest) or handed "
      "to the outbox (notify)",
      MetricType::Counter, static_cast<double>(s.alerts));
  add("aftershock_cluster_consumer_lag_messages",
      "Messages still in the stream after the last one this role read", MetricType::Gauge,
      static_cast<double>(s.lag));
  add("aftershock_cluster_redeliveries_total",
      "Alerts the notify consumer received more than once (a notifier died before acking)",
      MetricType::Counter, static_cast<double>(s.redeliveries));
  add("aftershock_cluster_dedup_hits_total",
      "Publishes JetStream dropped as duplicates (an HA twin's copy, a retried publish)",
      MetricType::Counter, static_cast<double>(s.dedup_hits));
  add("aftershock_cluster_already_published_total",
      "What a restarted role found already published and did not publish again (arbiter: "
      "alerts; engine: stream positions the stage stream had)",
      MetricType::Counter, static_cast<double>(s.already_known));
  add("aftershock_cluster_bad_messages_total", "Undecodable messages (counted, skipped)",
      MetricType::Counter, static_cast<double>(s.bad));
  add("aftershock_cluster_dropped_events_total", "Events the ingest's full queue refused",
      MetricType::Counter, static_cast<double>(s.dropped));
  add("aftershock_cluster_publish_failures_total",
      "Publishes given up at their deadline (during shutdown)", MetricType::Counter,
      static_cast<double>(s.publish_failures));
  add("aftershock_cluster_reconnects_total", "Reconnections to the NATS cluster",
      MetricType::Counter, static_cast<double>(s.reconnects));
  add("aftershock_cluster_repeated_records_total",
      "Stage records the arbiter skipped because it had read their position (twins, restarts)",
      MetricType::Counter, static_cast<double>(s.skipped));
  add("aftershock_cluster_queue_depth",
      "Ingest: events waiting to be published; arbiter: stage records waiting for a slower shard",
      MetricType::Gauge, static_cast<double>(s.queue_depth));
  add("aftershock_cluster_caught_up",
      "Whether the last read reached the end of the stream (1) or not (0)", MetricType::Gauge,
      s.caught_up ? 1 : 0);
  return out;
}

}  // namespace aftershock::cluster
