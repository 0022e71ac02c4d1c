// The aftershockd command line: parses arguments and dispatches to the subcommands. Returns a
// sysexits(3) code (0 ok, 64 usage, 66 no input, 70 software, 78 configuration).
#pragma once

namespace aftershock::daemon {

struct loaded_config;

int run_cli(int argc, char** argv);

/// Prints every configuration problem to stderr and returns the configuration exit code (78).
int report_config_errors(const loaded_config& loaded);

}  // namespace aftershock::daemon
