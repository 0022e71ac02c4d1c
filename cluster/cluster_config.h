// The `cluster:` section: where the NATS JetStream servers are and how the two streams are
// kept (limits, replicas, the duplicate window that lets HA twins publish the same alert),
// and how many engine shards share the market.
// Plain aggregate filled by daemon/config_loader; safe to copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/time.h"

namespace aftershock::cluster {

struct stream_limits {
  std::int64_t max_bytes = std::int64_t{1} << 30;    // oldest messages go beyond this
  rules::time_ns max_age = 7 * rules::k_ns_per_day;  // and beyond this age
};

struct cluster_config {
  std::vector<std::string> servers;  // nats://HOST:PORT, tried in turn; reconnects to any
  std::string events_stream = "AFTERSHOCK_EVENTS";    // aftershock.events.> and aftershock.news.>
  std::string alerts_stream = "AFTERSHOCK_ALERTS";    // aftershock.alerts.>
  std::string stage_stream = "AFTERSHOCK_STAGE";      // aftershock.stage.>: shards to arbiter
  // Engine shards: the ingest routes each symbol's events to one of them (topology.h), and
  // every `--role engine --shard I/N` must say the same N.
  std::uint32_t shards = 1;
  std::string notify_consumer = "aftershock-notify";  // durable consumer the notifiers share
  int replicas = 1;  // JetStream replicas of both streams (3 to survive losing a server)
  stream_limits events;
  stream_limits alerts;
  stream_limits stage;
  // Publishes with an id already stored within this window are dropped by the server: an HA
  // twin's copy of an alert, or an ingest's retry after a lost acknowledgement.
  rules::time_ns duplicate_window = 10 * rules::k_ns_per_min;
  rules::time_ns ack_wait = 30 * rules::k_ns_per_s;  // notify: redelivered if not acked by then

  bool configured() const noexcept { return !servers.empty(); }
};

}  // namespace aftershock::cluster
