#include "daemon/cli.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"

namespace aftershock::daemon {

namespace {
constexpr const char* k_version = "0.1.0";
}  // namespace

int report_config_errors(const loaded_config& loaded) {
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr, "%zu configuration problem%s; nothing was started\n", loaded.errors.size(),
               loaded.errors.size() == 1 ? "" : "s");
  return k_exit_config;
}

int run_cli(int argc, char** argv) {
  if (!spdlog::get("aftershockd")) {
    spdlog::set_default_logger(spdlog::stderr_color_mt("aftershockd"));
  }

  CLI::App app{
      "aftershockd - links AI headlines to the tickers they move and alerts when moves cross "
      "thresholds.\n\n"
      "Every event carries its own market time and the rules read time only from events, so\n"
      "`replay` of a recorded day produces exactly the alerts a live run produced.",
      "aftershockd"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("-V,--version", show_version, "Print the version and exit");

  command_action action;
  add_replay_command(app, action);
  add_check_config_command(app, action);
  add_test_notify_command(app, action);
  add_run_command(app, action);

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
  if (action) return action();
  std::cout << app.help();
  return k_exit_usage;
}

}  // namespace aftershock::daemon
