// A cluster role's counters as Prometheus families (aftershock_cluster_*), for the daemon's
// metrics object (telemetry::metrics::set_extra_source). Pure function; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "cluster/roles.h"

namespace aftershock::cluster {

/// Families labelled role="ingest" | "engine" | "notify" (and shard="I/N" for engines).
std::vector<prometheus::MetricFamily> role_metric_families(const role_snapshot& s,
                                                           const std::string& role,
                                                           const std::string& shard);

}  // namespace aftershock::cluster
