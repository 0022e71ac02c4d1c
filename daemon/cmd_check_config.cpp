// `aftershockd check-config FILE`: validates a configuration with the same loader startup and
// reload use, and lists every problem as FILE:LINE:COL: message (exit 78).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"

namespace aftershock::daemon {

void add_check_config_command(CLI::App& app, command_action& action) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check-config",
      "Validate a configuration file. Exit 0 if valid, else 78 with every problem as "
      "FILE:LINE:COL: message.");
  cmd->add_option("file", *path, "Configuration file (YAML)")->required();
  cmd->callback([&action, path] {
    action = [path] {
      const loaded_config loaded = load_config_file(*path);
      if (!loaded.ok()) return report_config_errors(loaded);
      const auto& rc = loaded.config.rules;
      std::printf(
          "%s: OK (%zu exchanges, %zu symbols, %zu baskets, %zu themes, %zu rules, %zu feeds; "
          "hash %s)\n",
          path->c_str(), rc.exchanges.size(), rc.universe.size(), rc.baskets.size(),
          rc.themes.size(), rc.rules.size(), loaded.config.feeds.size(),
          loaded.config.content_hash.c_str());
      return k_exit_ok;
    };
  });
}

}  // namespace aftershock::daemon
