// Subcommands of aftershockd. Each add_*_command registers one subcommand on the CLI11 app;
// when the user picks it, its callback stores the work to run in `action`, which run_cli calls
// after parsing. One file per command keeps commands independent of each other.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace aftershock::daemon {

using command_action = std::function<int()>;

void add_replay_command(CLI::App& app, command_action& action);
void add_check_config_command(CLI::App& app, command_action& action);
void add_test_notify_command(CLI::App& app, command_action& action);
void add_run_command(CLI::App& app, command_action& action);

}  // namespace aftershock::daemon
