// `aftershockd run --role ingest|engine|arbiter|notify [--shard I/N]`: one role of the scale-out
// cluster on NATS JetStream (cluster/roles.h), configured by the config's `cluster:` section.
// `--role all` (the default) is the single-process daemon of cmd_run.cpp, unchanged.
#pragma once

#include <signal.h>

#include <string>

namespace aftershock::daemon {

struct role_args {
  std::string role;            // ingest, engine, arbiter, notify
  std::string shard;           // engine: I/N (default 0/1)
  bool flush_on_stop = false;  // arbiter: publish held-back digests on SIGTERM
  std::string config;
  std::string alerts_out;  // notify: JSON lines of the alerts handed to the outbox
  std::string feed_host;   // ingest
  std::string record_dir;  // ingest: capture v1 recording of every frame
  std::string state_dir;   // notify: the outbox
  std::string print = "auto";
  double status_interval_s = 60;
  std::string metrics_listen;  // empty: the config's metrics: section
};

/// Runs the role until SIGTERM or SIGINT (signals already blocked by the caller). Returns the
/// process exit code (daemon/exit_codes.h).
int run_cluster_role(const role_args& args, const sigset_t& signals);

}  // namespace aftershock::daemon
