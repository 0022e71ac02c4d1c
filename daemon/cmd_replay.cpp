// `aftershockd replay --config FILE [--alerts-out PATH|-] [--print MODE] [--deliver
//  [--state-dir DIR] [--deliver-timeout S]] [--metrics-listen ADDR [--wait-for-scrape S]
//  [--linger S]] CAPTURE...`
//
// Replays never deliver unless asked: a backtest must not page a chat channel with last
// year's alerts. With --deliver the alerts also go through the durable outbox to every
// destination in `outputs:`, and the command waits (up to --deliver-timeout) for delivery.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/metrics_setup.h"
#include "daemon/outputs.h"
#include "daemon/replay.h"

namespace aftershock::daemon {

namespace {

struct replay_args {
  std::string config;
  std::string print = "auto";
  replay_options options;
  bool deliver = false;
  std::string state_dir;
  double deliver_timeout_s = 60;
  std::string metrics_listen;      // empty: no endpoint (a replay exposes only when asked)
  double wait_for_scrape_s = 0;    // before replaying, wait for the first scrape
  double linger_s = 0;             // after replaying, keep serving the final values
};

int run_replay(const replay_args& args) {
  const loaded_config loaded = load_config_file(args.config);
  if (!loaded.ok()) return report_config_errors(loaded);
  replay_options options = args.options;
  if (args.print == "human") options.print = print_mode::human;
  else if (args.print == "json") options.print = print_mode::json;
  else if (args.print == "none") options.print = print_mode::none;
  else if (options.alerts_out.empty()) options.alerts_out = "-";
  std::unique_ptr<exporters::outbox_sink> sink;
  if (args.deliver) {
    if (!loaded.config.outputs.configured()) {
      std::fprintf(stderr, "--deliver needs destinations in the config's outputs: section\n");
      return k_exit_config;
    }
    const std::string dir = outbox_state_dir(args.state_dir, loaded.config.outputs);
    if (dir.empty()) {
      spdlog::warn("--deliver without a state directory (--state-dir, outputs.outbox.state_dir "
                   "or $STATE_DIRECTORY): the outbox is memory only");
    }
    sink = make_outbox_sink(loaded.config.outputs, dir);
    if (!sink) return k_exit_config;
    sink->start();
    options.deliver_to = sink.get();
  }
  // Prometheus can watch a replay: --metrics-listen serves /metrics (and /healthz, /readyz),
  // --wait-for-scrape lets the first scrape see zeros, --linger keeps the final values up.
  std::unique_ptr<telemetry::metrics> metrics;
  telemetry::replay_feeds replay_feeds;
  std::unique_ptr<telemetry::http_endpoint> metrics_endpoint;
  if (!args.metrics_listen.empty() && args.metrics_listen != "off") {
    metrics = make_metrics(loaded, "replay");
    metrics->set_pipeline_source([&replay_feeds] { return replay_feeds.sample(); });
    if (sink) metrics->set_delivery_source([&sink] { return sink->stats(); });
    telemetry::endpoint_options endpoint_options;
    endpoint_options.listen = args.metrics_listen;
    metrics_endpoint = serve_metrics(*metrics, std::move(endpoint_options));
    if (!metrics_endpoint) return k_exit_unavailable;
    std::fprintf(stderr, "replay: metrics at http://%s/metrics\n",
                 metrics_endpoint->address().c_str());
    options.metrics = metrics.get();
    options.feeds = &replay_feeds;
    if (args.wait_for_scrape_s > 0 &&
        !metrics_endpoint->wait_for_scrapes(
            1, std::chrono::milliseconds(static_cast<std::int64_t>(args.wait_for_scrape_s * 1000)))) {
      spdlog::warn("replay: nothing scraped /metrics within {} s; replaying anyway",
                   args.wait_for_scrape_s);
    }
  }
  std::string error;
  const replay_summary s = replay_captures(loaded, options, &error);
  if (!error.empty()) spdlog::error("{}", error);
  std::fprintf(stderr,
               "replay: %zu frames, %zu events, %zu parse errors, %zu bad lines, %zu alerts in "
               "%.3f s (%.0f frames/s)\n",
               s.frames, s.events, s.parse_errors, s.bad_lines, s.alerts, s.seconds,
               s.seconds > 0 ? static_cast<double>(s.frames) / s.seconds : 0.0);
  std::size_t undelivered = 0;
  if (sink) {
    undelivered = sink->stop(std::chrono::milliseconds(
        static_cast<std::int64_t>(args.deliver_timeout_s * 1000)));
    print_delivery_summary(sink->stats(), undelivered);
  }
  if (metrics_endpoint && args.linger_s > 0) {
    std::fprintf(stderr, "replay: serving the final metrics for %.0f s\n", args.linger_s);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<std::int64_t>(args.linger_s * 1000)));
  }
  if (!error.empty()) {
    return error.rfind("cannot write", 0) == 0 ? k_exit_io : k_exit_no_input;
  }
  return undelivered ? k_exit_unavailable : k_exit_ok;
}

}  // namespace

void add_replay_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<replay_args>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Replay capture v1 files through the parsers and the rules engine on event time, as fast "
      "as the CPU allows, and write one JSON line per alert. Bad lines and frames are counted "
      "and skipped. Exit 0; a one-line summary goes to stderr.");
  cmd->add_option("-c,--config", args->config, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--alerts-out", args->options.alerts_out,
                  "Write alerts as JSON lines to PATH ('-' for stdout)");
  cmd->add_option("--print", args->print,
                  "What to print on stdout: auto (JSON lines when no --alerts-out), human, json, "
                  "none")
      ->check(CLI::IsMember({"auto", "human", "json", "none"}));
  cmd->add_flag("--deliver", args->deliver,
               "Also deliver the alerts to the destinations in outputs: through the durable "
               "outbox, and wait for delivery (exit 69 if some are left undelivered)");
  cmd->add_option("--state-dir", args->state_dir,
                  "Outbox directory for --deliver (default: outputs.outbox.state_dir, then "
                  "$STATE_DIRECTORY)");
  cmd->add_option("--deliver-timeout", args->deliver_timeout_s,
                  "Seconds to wait for delivery after the replay (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--metrics-listen", args->metrics_listen,
                  "Serve the replay's metrics on ADDR (IPv4:PORT or [IPv6]:PORT, port 0 picks "
                  "one; the address is printed on stderr) so Prometheus can scrape it")
      ->check([](const std::string& v) {
        std::string why;
        return v == "off" || telemetry::valid_listen_address(v, &why) ? std::string() : why;
      });
  cmd->add_option("--wait-for-scrape", args->wait_for_scrape_s,
                  "With --metrics-listen: wait up to S seconds for a first scrape before "
                  "replaying (so rates start from zero)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--linger", args->linger_s,
                  "With --metrics-listen: keep serving the final metrics S seconds after the "
                  "replay")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option_function<int>(
         "--threads",
         [args](int n) { args->options.parse_thread = n == 2; },
         "2 (default): read and parse the captures on a second thread while the engine runs, "
         "as the live daemon parses on its I/O thread; 1: everything on one thread (for "
         "profiling). The alerts are the same either way")
      ->check(CLI::Range(1, 2));
  cmd->add_option("captures", args->options.captures, "Capture v1 files (merged in time order)")
      ->required();
  cmd->callback([&action, args] { action = [args] { return run_replay(*args); }; });
}

}  // namespace aftershock::daemon
