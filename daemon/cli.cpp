#include "daemon/cli.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/replay.h"

namespace aftershock::daemon {

namespace {

constexpr const char* k_version = "0.1.0";

int report_config_errors(const loaded_config& loaded) {
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr, "%zu configuration problem%s; nothing was started\n", loaded.errors.size(),
               loaded.errors.size() == 1 ? "" : "s");
  return k_exit_config;
}

int cmd_check_config(const std::string& path) {
  const loaded_config loaded = load_config_file(path);
  if (!loaded.ok()) return report_config_errors(loaded);
  const auto& rc = loaded.config.rules;
  std::printf("%s: OK (%zu exchanges, %zu symbols, %zu baskets, %zu themes, %zu rules, %zu feeds; "
              "hash %s)\n",
              path.c_str(), rc.exchanges.size(), rc.universe.size(), rc.baskets.size(),
              rc.themes.size(), rc.rules.size(), loaded.config.feeds.size(),
              loaded.config.content_hash.c_str());
  return k_exit_ok;
}

int cmd_replay(const std::string& config_path, replay_options options) {
  const loaded_config loaded = load_config_file(config_path);
  if (!loaded.ok()) return report_config_errors(loaded);
  std::string error;
  const replay_summary s = replay_captures(loaded, options, &error);
  if (!error.empty()) spdlog::error("{}", error);
  std::fprintf(stderr,
               "replay: %zu frames, %zu events, %zu parse errors, %zu bad lines, %zu alerts in "
               "%.3f s (%.0f frames/s)\n",
               s.frames, s.events, s.parse_errors, s.bad_lines, s.alerts, s.seconds,
               s.seconds > 0 ? static_cast<double>(s.frames) / s.seconds : 0.0);
  if (!error.empty()) {
    return error.rfind("cannot write", 0) == 0 ? k_exit_io : k_exit_no_input;
  }
  return k_exit_ok;
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("aftershockd");
  spdlog::set_default_logger(logger);

  CLI::App app{
      "aftershockd - links AI headlines to the tickers they move and alerts when moves cross "
      "thresholds.\n\n"
      "Every event carries its own market time and the rules read time only from events, so\n"
      "`replay` of a recorded day produces exactly the alerts a live run produced.",
      "aftershockd"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("-V,--version", show_version, "Print the version and exit");

  std::string replay_config;
  replay_options replay_opts;
  std::string print = "auto";
  auto* replay = app.add_subcommand(
      "replay",
      "Replay capture v1 files through the parsers and the rules engine on event time and write "
      "one JSON line per alert. Exit 0; a one-line summary goes to stderr.");
  replay->add_option("-c,--config", replay_config, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  replay->add_option("-o,--alerts-out", replay_opts.alerts_out,
                     "Write alerts as JSON lines to PATH ('-' for stdout)");
  replay->add_option("--print", print,
                     "What to print on stdout: auto (JSON lines when no --alerts-out), human, "
                     "json, none")
      ->check(CLI::IsMember({"auto", "human", "json", "none"}));
  replay->add_option("captures", replay_opts.captures, "Capture v1 files (merged in time order)")
      ->required();

  std::string check_path;
  auto* check = app.add_subcommand(
      "check-config",
      "Validate a configuration file. Exit 0 if valid, else 78 with every problem as "
      "FILE:LINE:COL: message.");
  check->add_option("file", check_path, "Configuration file (YAML)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? k_exit_ok : k_exit_usage;
  }
  if (show_version) {
    std::printf("aftershockd %s\n", k_version);
    return k_exit_ok;
  }
  if (*replay) {
    if (print == "human") replay_opts.print = print_mode::human;
    else if (print == "json") replay_opts.print = print_mode::json;
    else if (print == "none") replay_opts.print = print_mode::none;
    else if (replay_opts.alerts_out.empty()) replay_opts.alerts_out = "-";
    return cmd_replay(replay_config, std::move(replay_opts));
  }
  if (*check) return cmd_check_config(check_path);
  std::cout << app.help();
  return k_exit_usage;
}

}  // namespace aftershock::daemon
