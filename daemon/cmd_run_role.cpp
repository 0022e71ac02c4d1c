#include "daemon/cmd_run_role.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cluster/jetstream.h"
#include "cluster/role_metrics.h"
#include "cluster/roles.h"
#include "daemon/cli.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/live_runner.h"
#include "daemon/logging.h"
#include "daemon/metrics_setup.h"
#include "daemon/outputs.h"
#include "daemon/replay.h"
#include "daemon/sd_notify.h"
#include "daemon/terminal_sinks.h"

namespace aftershock::daemon {

using namespace std::chrono_literals;

int run_cluster_role(const role_args& args, const sigset_t& signals) {
  if (args.role != "engine" && !args.shard.empty()) {
    std::fprintf(stderr, "--shard is for --role engine\n");
    return k_exit_usage;
  }
  if (args.role != "arbiter" && args.flush_on_stop) {
    std::fprintf(stderr, "--flush-on-stop is for --role arbiter\n");
    return k_exit_usage;
  }
  const loaded_config loaded = load_config_file(args.config);
  if (!loaded.ok()) return report_config_errors(loaded);
  if (global_cli_options().log_level.empty() && !loaded.config.log_level.empty()) {
    set_log_level(parse_log_level(loaded.config.log_level).value_or(spdlog::level::info));
  }
  const cluster::cluster_config& cc = loaded.config.cluster;
  if (!cc.configured()) {
    std::fprintf(stderr,
                 "%s: no cluster: section; --role %s needs the NATS servers "
                 "(see README, \"Multi-host layout\")\n",
                 args.config.c_str(), args.role.c_str());
    return k_exit_config;
  }
  cluster::shard_spec shard;
  if (!args.shard.empty()) {
    std::string why;
    auto parsed = cluster::parse_shard(args.shard, &why);
    if (!parsed) {
      std::fprintf(stderr, "--shard %s: %s\n", args.shard.c_str(), why.c_str());
      return k_exit_usage;
    }
    shard = *parsed;
  }
  if (args.role == "engine" && shard.count != cc.shards) {
    std::fprintf(stderr,
                 "--shard %s: %s says cluster.shards: %u; the ingest routes events to that many "
                 "shards, so N in --shard I/N must be %u\n",
                 shard.to_string().c_str(), args.config.c_str(), cc.shards, cc.shards);
    return k_exit_usage;
  }
  const std::string label = args.role == "engine" ? "engine-" + std::to_string(shard.index) +
                                                        "-of-" + std::to_string(shard.count)
                                                  : args.role;

  // Roles and objects the role needs, built before connecting so config problems come first.
  std::vector<feeds::session_config> sessions;
  if (args.role == "ingest") {
    if (loaded.config.feeds.empty()) {
      std::fprintf(stderr, "%s: no feeds: section; the ingest has nothing to read\n",
                   args.config.c_str());
      return k_exit_config;
    }
    std::vector<std::string> errors, warnings;
    sessions = make_session_configs(loaded.config, loaded.compiled, args.feed_host,
                                    feeds::system_secret_source(), errors, warnings);
    for (const std::string& w : warnings) spdlog::warn("{}", w);
    if (!errors.empty()) {
      for (const std::string& e : errors)
        std::fprintf(stderr, "%s: %s\n", args.config.c_str(), e.c_str());
      return k_exit_config;
    }
  }
  fanout_sink sinks;
  std::unique_ptr<exporters::jsonl_sink> jsonl;
  std::unique_ptr<print_sink> printer;
  std::unique_ptr<exporters::outbox_sink> outbox;
  if (args.role == "notify") {
    if (!args.alerts_out.empty()) {
      jsonl = std::make_unique<exporters::jsonl_sink>(args.alerts_out, /*append=*/true);
      if (!jsonl->ok()) {
        std::fprintf(stderr, "cannot write alerts to %s\n", args.alerts_out.c_str());
        return k_exit_io;
      }
      sinks.add(jsonl.get());
    }
    if (args.print == "human" || args.print == "json" ||
        (args.print == "auto" && args.alerts_out != "-")) {
      printer = std::make_unique<print_sink>(args.print == "json");
      sinks.add(printer.get());
    }
    if (loaded.config.outputs.configured()) {
      const std::string dir = outbox_state_dir(args.state_dir, loaded.config.outputs);
      if (dir.empty()) {
        spdlog::warn(
            "notify: no state directory: the outbox is memory only, and an alert "
            "acknowledged to the stream could be lost in a crash");
      }
      outbox = make_outbox_sink(loaded.config.outputs, dir);
      if (!outbox) return k_exit_config;
      outbox->start();
      sinks.add(outbox.get());
    }
  }

  std::string error;
  auto js = cluster::jetstream::connect(cc, "aftershockd " + label, 30s, &error);
  if (!js) {
    std::fprintf(stderr, "run --role %s: %s\n", args.role.c_str(), error.c_str());
    return k_exit_unavailable;
  }
  if (!js->ensure_streams(30s, &error)) {
    std::fprintf(stderr, "run --role %s: %s\n", args.role.c_str(), error.c_str());
    return k_exit_unavailable;
  }
  spdlog::info("run --role {}{}: connected to {} (streams {}, {} and {})", args.role,
               args.role == "engine" ? " --shard " + shard.to_string() : "", js->connected_url(),
               cc.events_stream, cc.stage_stream, cc.alerts_stream);

  std::unique_ptr<cluster::role> role;
  if (args.role == "ingest") {
    feeds::live_options live;
    live.record_dir = args.record_dir;
    if (!args.record_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(args.record_dir, ec);
      if (ec) {
        std::fprintf(stderr, "cannot create --record directory %s: %s\n", args.record_dir.c_str(),
                     ec.message().c_str());
        return k_exit_io;
      }
    }
    role = cluster::make_ingest_role(*js, loaded.compiled, std::move(sessions), std::move(live),
                                     make_feed_stale_alert);
  } else if (args.role == "engine") {
    role = cluster::make_engine_role(*js, loaded.compiled, {shard});
  } else if (args.role == "arbiter") {
    role = cluster::make_arbiter_role(*js, loaded.compiled, args.flush_on_stop);
  } else {
    role = cluster::make_notify_role(*js, sinks);
  }
  role->start();
  // Prometheus: the role's counters (aftershock_cluster_*), and the outbox's for a notifier.
  // Several roles on one host need one --metrics-listen address each.
  const std::string listen = metrics_listen_address(args.metrics_listen, loaded.config.metrics);
  std::unique_ptr<telemetry::metrics> metrics;
  std::unique_ptr<telemetry::http_endpoint> endpoint;
  if (listen != "off") {
    metrics = make_metrics(loaded, "run");
    const std::string shard_label = args.role == "engine" ? shard.to_string() : "";
    cluster::role* r = role.get();
    const std::string role_name = args.role;
    metrics->set_extra_source([r, role_name, shard_label] {
      return cluster::role_metric_families(r->snapshot(), role_name, shard_label);
    });
    if (outbox) {
      exporters::outbox_sink* o = outbox.get();
      metrics->set_delivery_source([o] { return o->stats(); });
    }
    telemetry::endpoint_options eo;
    eo.listen = listen;
    endpoint = serve_metrics(*metrics, std::move(eo), "; running without the metrics endpoint");
  }
  service_notifier notifier;  // Type=notify under deploy/systemd/aftershock@.service
  notifier.ready("role " + label + " running");

  const auto status_every = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::max(args.status_interval_s, 0.2) * 1000));
  auto next_status = std::chrono::steady_clock::now() + status_every;
  int signal = 0;
  while (signal == 0) {
    const timespec wait{0, 100'000'000};
    const int got = sigtimedwait(&signals, nullptr, &wait);
    if (got == SIGHUP) {
      spdlog::warn(
          "run --role {}: SIGHUP: cluster roles read the configuration at start only; "
          "restart the role (its twin keeps the shard) to apply changes",
          args.role);
    } else if (got > 0) {
      signal = got;
    }
    if (args.status_interval_s > 0 && std::chrono::steady_clock::now() >= next_status) {
      next_status += status_every;
      spdlog::info("{}", cluster::status_line(role->snapshot()));
    }
  }
  spdlog::info("run --role {}: {} received: stopping", args.role, strsignal(signal));
  notifier.stopping(std::string("stopping on ") + strsignal(signal));
  endpoint.reset();  // before the role its source reads
  role->stop(3000ms);
  std::size_t undelivered = 0;
  if (outbox) undelivered = outbox->stop(1500ms);
  std::fprintf(stderr, "%s\n", cluster::status_line(role->snapshot()).c_str());
  if (outbox) print_delivery_summary(outbox->stats(), undelivered);
  return k_exit_ok;
}

}  // namespace aftershock::daemon
