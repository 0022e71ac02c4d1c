// `aftershockd test-notify DEST --config FILE [--timeout S]`: sends one synthetic alert through
// one configured destination and says whether it arrived, so an operator can check a webhook
// URL, a token, a CA file or a route before a real move happens. Uses a memory-only outbox:
// nothing is written to the state directory.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/outputs.h"

namespace aftershock::daemon {

namespace {

struct test_notify_args {
  std::string destination;
  std::string config;
  double timeout_s = 30;
};

// A realistic alert, marked as a test everywhere a reader looks.
rules::alert synthetic_alert() {
  const auto now = std::chrono::system_clock::now();
  const rules::time_ns t =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  rules::alert a;
  a.id = "test-" + std::to_string(t / rules::k_ns_per_ms);
  a.fingerprint = "test-notify";
  a.kind = "move";
  a.rule = "test_notify";
  a.level = rules::severity::warning;
  a.symbol = "NVDA";
  a.name = "Nvidia";
  a.exchange = "XNAS";
  a.time_zone = "America/New_York";
  a.utc_offset_s = -5 * 3600;
  a.symbols = {"NVDA"};
  a.change_pct = -5.2;
  a.direction = "down";
  a.price = 135.21;
  a.threshold_pct = 5;
  a.base = rules::baseline{"prev_close", 142.62, t - rules::k_ns_per_day,
                           "previous close 142.62 (test, XNAS)"};
  a.event_time = t;
  rules::citation c;
  c.id = "test";
  c.headline = "TEST NOTIFICATION from aftershock: DeepSeek R1 headline linked to Nvidia";
  c.source = "aftershock test-notify";
  c.url = "https://github.com/";
  c.published = t - 10 * rules::k_ns_per_min;
  c.how = rules::link_kind::direct;
  c.matched = "Nvidia";
  a.headlines.push_back(c);
  a.summary = "[TEST] NVDA (Nvidia) -5.20% vs previous close 142.62: a test notification";
  return a;
}

int run_test_notify(const test_notify_args& args) {
  const loaded_config loaded = load_config_file(args.config);
  if (!loaded.ok()) return report_config_errors(loaded);
  exporters::outputs_config outputs = loaded.config.outputs;
  std::vector<exporters::destination_config> chosen;
  std::string known;
  for (const auto& d : outputs.destinations) {
    known += (known.empty() ? "" : ", ") + d.name;
    if (d.name == args.destination) chosen.push_back(d);
  }
  if (chosen.empty()) {
    std::fprintf(stderr, "test-notify: no destination named '%s' in %s (configured: %s)\n",
                 args.destination.c_str(), args.config.c_str(),
                 known.empty() ? "none" : known.c_str());
    return k_exit_usage;
  }
  // Only the chosen destination's secrets need to resolve.
  outputs.destinations = chosen;
  auto sink = make_outbox_sink(outputs, "");
  if (!sink) return k_exit_config;
  sink->start();
  const auto started = std::chrono::steady_clock::now();
  sink->publish_to(synthetic_alert(), args.destination);
  sink->stop(std::chrono::milliseconds(static_cast<std::int64_t>(args.timeout_s * 1000)));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const auto stats = sink->stats();
  const auto& d = stats.destinations.front();
  if (d.alerts_delivered == 1) {
    std::printf("test-notify: delivered to %s (%s, %s) in %.0f ms\n", d.name.c_str(),
                d.type.c_str(), d.endpoint.c_str(), ms);
    return k_exit_ok;
  }
  std::fprintf(
      stderr,
      "test-notify: NOT delivered to %s (%s, %s) within %.0f s: %llu requests, %llu "
      "rate limited, %llu failed (%llu timeouts), %llu refused; see the log above\n",
      d.name.c_str(), d.type.c_str(), d.endpoint.c_str(), args.timeout_s,
      static_cast<unsigned long long>(d.requests), static_cast<unsigned long long>(d.rate_limited),
      static_cast<unsigned long long>(d.retries), static_cast<unsigned long long>(d.timeouts),
      static_cast<unsigned long long>(d.alerts_rejected));
  return k_exit_unavailable;
}

}  // namespace

void add_test_notify_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<test_notify_args>();
  auto* cmd = app.add_subcommand(
      "test-notify",
      "Send one synthetic alert (marked TEST) through one configured destination, ignoring its "
      "route, and report whether it was delivered. Exit 0 if delivered, 69 if not.");
  cmd->add_option("destination", args->destination, "Destination name from outputs.destinations")
      ->required();
  cmd->add_option("-c,--config", args->config, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--timeout", args->timeout_s, "Seconds to wait for delivery (default 30)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&action, args] { action = [args] { return run_test_notify(*args); }; });
}

}  // namespace aftershock::daemon
