// `aftershockd run --config FILE [--alerts-out PATH|-] [--record DIR] [--feed-host HOST:PORT]
//  [--state-dir DIR] [--print MODE] [--status-interval S] [--metrics-listen ADDR|off]`
//
// The live daemon: every feed in the config's feeds: section into the rules engine, alerts to
// --alerts-out (JSON lines) and, when the config has outputs:, through the durable outbox to
// the destinations. SIGTERM/SIGINT: stop reading, drain the queue through the engine, flush
// the sinks, exit 0 within 5 s. SIGHUP reloads: the file is validated again (daemon/reload.h)
// and the new rules are swapped into the running engine; a bad file keeps the running config.
// Under systemd (Type=notify) it reports READY=1, STATUS=, RELOADING=1, STOPPING=1, and the
// engine thread sends the WATCHDOG=1 keep-alives (daemon/sd_notify.h).
//
// --feed-host (or $AFTERSHOCK_FEED_HOST) replaces the host and port of every feed URL, keeping
// scheme, path and query: scripts/demo points deploy/config/demo.yaml at a local feedsim with it.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "daemon/cli.h"
#include "daemon/cmd_run_role.h"
#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/live_runner.h"
#include "daemon/logging.h"
#include "daemon/metrics_setup.h"
#include "daemon/reload.h"
#include "daemon/sd_notify.h"
#include "daemon/terminal_sinks.h"
#include "daemon/outputs.h"
#include "daemon/replay.h"

namespace aftershock::daemon {

namespace {

struct run_args {
  std::string config;
  std::string alerts_out;
  std::string record_dir;
  std::string feed_host;
  std::string state_dir;
  std::string print = "auto";
  double status_interval_s = 60;
  std::string metrics_listen;  // empty: the config's metrics: section
  role_args cluster;           // --role other than all: the scale-out roles (cmd_run_role.h)
};

std::string status_line(const feed_snapshot& f) {
  const feeds::feed_stats& s = f.session;
  return fmt::format(
      "feed {}: {}, {} msgs, {} events, {} parse errors, {} oversized, {} reconnects ({} "
      "connect attempts), {} stale, {} dropped, lag {:.1f} s{}",
      s.name, feeds::to_string(s.state), s.messages, s.events, s.parse_errors,
      s.oversized_frames, s.reconnects, s.connect_attempts, s.stale, f.dropped_events,
      static_cast<double>(s.event_time_lag) / rules::k_ns_per_s,
      s.last_error.empty() ? std::string() : ", last error: " + s.last_error);
}

int run_live(const run_args& args, const sigset_t& signals) {
  const loaded_config loaded = load_config_file(args.config);
  if (!loaded.ok()) return report_config_errors(loaded);
  if (global_cli_options().log_level.empty() && !loaded.config.log_level.empty()) {
    set_log_level(parse_log_level(loaded.config.log_level).value_or(spdlog::level::info));
  }
  if (loaded.config.feeds.empty()) {
    std::fprintf(stderr, "%s: no feeds: section; `run` has nothing to read (see "
                 "deploy/config/demo.yaml for an example)\n", args.config.c_str());
    return k_exit_config;
  }
  std::vector<std::string> errors, warnings;
  std::vector<feeds::session_config> sessions =
      make_session_configs(loaded.config, loaded.compiled, args.feed_host,
                           feeds::system_secret_source(), errors, warnings);
  for (const std::string& w : warnings) spdlog::warn("{}", w);
  if (!errors.empty()) {
    for (const std::string& e : errors) std::fprintf(stderr, "%s: %s\n", args.config.c_str(), e.c_str());
    std::fprintf(stderr, "%zu feed problem%s; nothing was started\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return k_exit_config;
  }
  if (!args.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.record_dir, ec);
    if (ec) {
      std::fprintf(stderr, "cannot create --record directory %s: %s\n", args.record_dir.c_str(),
                   ec.message().c_str());
      return k_exit_io;
    }
  }

  fanout_sink sinks;
  std::unique_ptr<exporters::jsonl_sink> jsonl;
  if (!args.alerts_out.empty()) {
    jsonl = std::make_unique<exporters::jsonl_sink>(args.alerts_out, /*append=*/true);
    if (!jsonl->ok()) {
      std::fprintf(stderr, "cannot write alerts to %s\n", args.alerts_out.c_str());
      return k_exit_io;
    }
    sinks.add(jsonl.get());
  }
  std::unique_ptr<print_sink> printer;
  if (args.print == "human" || args.print == "json" ||
      (args.print == "auto" && args.alerts_out != "-")) {
    printer = std::make_unique<print_sink>(args.print == "json");
    sinks.add(printer.get());
  }
  std::unique_ptr<exporters::outbox_sink> outbox;
  if (loaded.config.outputs.configured()) {
    const std::string dir = outbox_state_dir(args.state_dir, loaded.config.outputs);
    if (dir.empty()) {
      spdlog::warn("no state directory (--state-dir, outputs.outbox.state_dir or "
                   "$STATE_DIRECTORY): the outbox is memory only and a crash loses alerts");
    }
    outbox = make_outbox_sink(loaded.config.outputs, dir);
    if (!outbox) return k_exit_config;
    outbox->start();
    sinks.add(outbox.get());
  }

  run_options options;
  options.record_dir = args.record_dir;
  options.feed_host = args.feed_host;
  service_notifier notifier;
  options.engine_heartbeat = [&notifier] { notifier.watchdog_tick(); };
  if (const char* hang = std::getenv("AFTERSHOCK_TEST_HANG_ENGINE_AFTER")) {
    options.hang_engine_after = std::strtoull(hang, nullptr, 10);
  }
  // Prometheus metrics with /healthz and /readyz (telemetry/; daemon/metrics_setup.h).
  const std::string metrics_listen =
      metrics_listen_address(args.metrics_listen, loaded.config.metrics);
  std::unique_ptr<telemetry::metrics> metrics;
  if (metrics_listen != "off") {
    metrics = make_metrics(loaded, "run");
    options.metrics = metrics.get();
  }
  live_runner runner(loaded.compiled, std::move(sessions), sinks, options);
  runner.start();
  std::unique_ptr<telemetry::http_endpoint> metrics_endpoint;
  if (metrics) metrics_endpoint = serve_run_metrics(*metrics, metrics_listen, runner, outbox.get());
  spdlog::info("run: {} feed{} from {} (config {}){}{}", loaded.config.feeds.size(),
               loaded.config.feeds.size() == 1 ? "" : "s", args.config,
               loaded.config.content_hash,
               args.feed_host.empty() ? "" : ", feed host " + args.feed_host,
               args.record_dir.empty() ? "" : ", recording to " + args.record_dir);
  daemon_config running = loaded.config;  // what a SIGHUP reload compares against
  notifier.ready(service_status(runner.snapshot(), running.content_hash));
  if (notifier.watchdog_timeout().count() > 0) {
    spdlog::info("run: systemd watchdog {} ms, kept alive by the engine thread",
                 notifier.watchdog_timeout().count() / 1000);
  }

  // The signals were blocked before any thread started, so they queue for sigtimedwait here.
  const auto status_every = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::max(args.status_interval_s, 1.0) * 1000));
  auto next_status = std::chrono::steady_clock::now() + status_every;
  auto next_service_status = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool engine_stall_logged = false;
  int signal = 0;
  while (signal == 0) {
    const timespec wait{0, 250'000'000};
    const int got = sigtimedwait(&signals, nullptr, &wait);
    if (got == SIGHUP) {
      spdlog::info("run: SIGHUP received: reloading {}", args.config);
      notifier.reloading("reloading " + args.config);
      reload_outcome reload = prepare_reload(args.config, running);
      if (reload.ok) {
        runner.replace_rules(reload.rules);
        running = std::move(reload.config);
        if (metrics) metrics->set_rules(running.content_hash, *reload.rules);
      }
      if (metrics) metrics->record_reload(reload.ok);
      notifier.ready(reload.summary + "; " +
                     service_status(runner.snapshot(), running.content_hash));
    } else if (got > 0) {
      signal = got;
    }
    if (args.status_interval_s > 0 && std::chrono::steady_clock::now() >= next_status) {
      next_status += status_every;
      for (const feed_snapshot& f : runner.snapshot().feeds) spdlog::info("{}", status_line(f));
    }
    if (notifier.enabled() && std::chrono::steady_clock::now() >= next_service_status) {
      next_service_status += std::chrono::seconds(5);
      notifier.status(service_status(runner.snapshot(), running.content_hash));
    }
    // Say why before systemd's watchdog kills us: the engine thread stopped pinging.
    if (notifier.watchdog_timeout().count() > 0) {
      const bool stalled = notifier.keepalive_age() > notifier.watchdog_timeout() / 2;
      if (stalled && !engine_stall_logged) {
        spdlog::error("run: the engine thread has made no progress for {} ms; systemd "
                      "restarts the service if it stays stuck for the watchdog's {} ms",
                      notifier.keepalive_age().count() / 1000,
                      notifier.watchdog_timeout().count() / 1000);
      }
      engine_stall_logged = stalled;
    }
  }
  const auto stop_started = std::chrono::steady_clock::now();
  notifier.stopping(std::string("stopping on ") + strsignal(signal) +
                    ": draining the engine, flushing the outbox");
  spdlog::info("run: {} received: stopping the feeds, draining the queue, flushing the sinks",
               strsignal(signal));
  runner.stop(std::chrono::milliseconds(3000));
  std::size_t undelivered = 0;
  if (outbox) undelivered = outbox->stop(std::chrono::milliseconds(1500));

  const runner_snapshot s = runner.snapshot();
  for (const feed_snapshot& f : s.feeds) std::fprintf(stderr, "%s\n", status_line(f).c_str());
  std::fprintf(stderr,
               "run: %llu events, %llu alerts (%llu feed_stale), %llu frames dropped (queue "
               "high water %zu of %zu); stopped in %lld ms\n",
               static_cast<unsigned long long>(s.engine.events),
               static_cast<unsigned long long>(s.alerts_published),
               static_cast<unsigned long long>(s.stale_alerts),
               static_cast<unsigned long long>(s.queue_dropped), s.queue_high_water,
               s.queue_capacity,
               static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - stop_started)
                                          .count()));
  if (outbox) print_delivery_summary(outbox->stats(), undelivered);
  return k_exit_ok;
}

}  // namespace

void add_run_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run live: connect to every feed in the config's feeds: section, link headlines, "
      "evaluate the rules and emit alerts until SIGTERM or SIGINT (clean stop within 5 s). "
      "SIGHUP reloads the configuration's rules; under systemd it is a Type=notify service "
      "with a watchdog.");
  cmd->add_option("-c,--config", args->config, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--alerts-out", args->alerts_out,
                  "Append alerts as JSON lines to PATH ('-' for stdout)");
  cmd->add_option("--record", args->record_dir,
                  "Record every received frame as capture v1 files in DIR (one per feed per "
                  "hour), replayable with `aftershockd replay`");
  cmd->add_option("--feed-host", args->feed_host,
                  "Replace the host:port of every feed URL (e.g. 127.0.0.1:18080 for a local "
                  "feedsim); scheme, path and query are kept")
      ->envname("AFTERSHOCK_FEED_HOST");
  cmd->add_option("--state-dir", args->state_dir,
                  "Outbox directory when the config has outputs: (default: "
                  "outputs.outbox.state_dir, then $STATE_DIRECTORY)");
  cmd->add_option("--print", args->print,
                  "Alerts on stdout: auto (readable lines unless --alerts-out is '-'), human, "
                  "json, none")
      ->check(CLI::IsMember({"auto", "human", "json", "none"}));
  cmd->add_option("--metrics-listen", args->metrics_listen,
                  "Serve /metrics, /healthz and /readyz on ADDR (IPv4:PORT or [IPv6]:PORT; "
                  "port 0 picks one; 'off' disables). Default: the config's metrics: section, "
                  "else 127.0.0.1:9464")
      ->check([](const std::string& v) {
        std::string why;
        return v == "off" || telemetry::valid_listen_address(v, &why) ? std::string() : why;
      });
  cmd->add_option("--status-interval", args->status_interval_s,
                  "Seconds between per-feed status log lines (default 60; 0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--role", args->cluster.role,
                  "all (default): the single-process daemon. ingest, engine, arbiter or notify: "
                  "one role of the scale-out cluster on NATS JetStream (the config's cluster: "
                  "section; README, \"Multi-host layout\")")
      ->check(CLI::IsMember({"all", "ingest", "engine", "arbiter", "notify"}));
  cmd->add_option("--shard", args->cluster.shard,
                  "--role engine: this engine's shard I/N (0/3, 1/3, 2/3; N is cluster.shards); "
                  "run two engines per shard for high availability. Default 0/1");
  cmd->add_flag("--flush-on-stop", args->cluster.flush_on_stop,
                "--role arbiter: on SIGTERM publish what the engine holds back (storm digests), "
                "as the single process does; for a planned stop of the whole cluster (a twin "
                "that keeps running would otherwise lose its complete digest to this one)");
  cmd->callback([&action, args] {
    action = [args] {
      // Block the signals before any thread starts, so every thread inherits the mask and
      // they are taken only by sigtimedwait in run_live.
      sigset_t signals;
      sigemptyset(&signals);
      sigaddset(&signals, SIGINT);
      sigaddset(&signals, SIGTERM);
      sigaddset(&signals, SIGHUP);
      if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
        std::fprintf(stderr, "cannot block signals: %s\n", std::strerror(errno));
        return k_exit_software;
      }
      if (!args->cluster.role.empty() && args->cluster.role != "all") {
        role_args r = args->cluster;
        r.config = args->config;
        r.alerts_out = args->alerts_out;
        r.feed_host = args->feed_host;
        r.record_dir = args->record_dir;
        r.state_dir = args->state_dir;
        r.print = args->print;
        r.status_interval_s = args->status_interval_s;
        r.metrics_listen = args->metrics_listen;
        return run_cluster_role(r, signals);
      }
      return run_live(*args, signals);
    };
  });
}

}  // namespace aftershock::daemon
